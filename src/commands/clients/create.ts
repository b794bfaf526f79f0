import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {durationFlag, hydraFlags} from '../../cli/flags.js'
import {createClient, parseMetadata, withHydra, type MachineClient} from '../../clients/index.js'

export default class ClientsCreate extends BaseCommand<typeof ClientsCreate> {
  static override summary = 'Register a machine client in Hydra and print its secret, once.'

  static override description = `Creates an OAuth2 client for a service (grant: client_credentials) with the given scopes, audience,
token lifetime and free metadata. The metadata goes into every id_token the gateway mints for the client (claim
\`metadata\`, next to \`sub\` = the client id, \`scope\` and \`type: machine\`).

The secret is generated here, printed once (stdout; with --json in the document) and never again: Hydra keeps only a
salted hash. Lost it? \`iam clients rotate-secret <id>\` replaces it. Exit 1 with CLIENT_EXISTS when the id is taken.`

  static override examples = [
    {description: 'A worker that may read, with metadata its tokens carry', command: '<%= config.bin %> clients create billing-worker --scope demo:read --metadata namespace=acme --metadata tier=gold'},
    {description: 'For a script: the id and secret as JSON', command: '<%= config.bin %> clients create reports --scope demo:read --token-ttl 5m --json'},
  ]

  static override args = {
    id: Args.string({description: 'The client id (letters, digits, ".", "_", "-"): services name it when they ask for tokens.', required: true}),
  }

  static override flags = {
    name: Flags.string({description: 'Display name. Default: the id.'}),
    scope: Flags.string({char: 's', description: 'A scope the client may ask for (repeatable), e.g. demo:read.', multiple: true, default: []}),
    audience: Flags.string({description: 'An audience the client may ask for (repeatable).', multiple: true, default: []}),
    metadata: Flags.string({char: 'm', description: 'key=value carried in its tokens (repeatable), e.g. tier=gold.', multiple: true, default: []}),
    'token-ttl': durationFlag({description: "Its access tokens' lifetime, e.g. 5m. Default: hydra.accessTokenTtl (15m)."}),
    ...hydraFlags,
  }

  async run(): Promise<{client: MachineClient; secret: string}> {
    const f = this.flags
    const spec = {
      id: this.args.id,
      ...(f.name ? {name: f.name} : {}),
      scopes: f.scope,
      audience: f.audience,
      metadata: parseMetadata(f.metadata),
      ...(f['token-ttl'] === undefined ? {} : {tokenTtlMs: f['token-ttl']}),
    }
    const result = await withHydra(f, (hydra) => createClient(hydra, spec))
    if (!this.jsonEnabled()) {
      this.log(`created client ${result.client.id} (scopes: ${result.client.scopes.join(' ') || 'none'})`)
      this.log('secret (shown once; store it now, e.g. in your secret manager):')
      this.logValue(result.secret)
    }
    return result
  }
}
