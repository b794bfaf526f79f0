import {Flags} from '@oclif/core'

import {createClients, resolveOryContext, type EndpointFlags, type OryClients, type OryContext} from './context.js'

/** Flags shared by the seeding commands (roles, tuples, identities, seed). Not a command: lives outside src/commands. */
export const oryFlags = {
  'kratos-admin-url': Flags.string({description: 'Kratos admin API. Default: from iam.yaml ports, else http://127.0.0.1:4434.', helpGroup: 'ORY'}),
  'keto-read-url': Flags.string({description: 'Keto read API. Default: from iam.yaml ports, else http://127.0.0.1:4466.', helpGroup: 'ORY'}),
  'keto-write-url': Flags.string({description: 'Keto write API. Default: from iam.yaml ports, else http://127.0.0.1:4467.', helpGroup: 'ORY'}),
  config: Flags.string({description: 'iam.yaml (or its directory) for URLs and the roles namespace. Default: ./iam.yaml when present.', helpGroup: 'ORY'}),
  timeout: Flags.integer({description: 'Deadline of each call to Kratos or Keto, in milliseconds.', default: 5000, min: 100, helpGroup: 'ORY'}),
}

/** Resolves endpoints, opens clients, runs `fn` and always closes the connection pools. */
export async function withOry<T>(flags: EndpointFlags & {timeout?: number}, fn: (clients: OryClients, ctx: OryContext) => Promise<T>): Promise<T> {
  const ctx = await resolveOryContext(flags)
  const clients = createClients(ctx, {timeoutMs: flags.timeout})
  try {
    return await fn(clients, ctx)
  } finally {
    await clients.close()
  }
}
