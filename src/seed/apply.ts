import {resolveEnvRefs} from '../config/env.js'
import type {IamConfig, SeedConfig} from '../config/model.js'
import {isIamError} from '../errors.js'
import {ensureClient, type SeedClientStatus} from '../clients/index.js'
import type {HydraAdminClient, HydraPublicClient} from '../ory/hydra-client.js'
import type {KetoClient} from '../ory/keto-client.js'
import type {KratosAdminClient} from '../ory/kratos-client.js'
import {isUnreachable} from '../ory/request.js'
import {contextFromConfig, createClients} from '../admin/context.js'
import {identityIdByEmail, importIdentities, type ImportEntry, type ImportReport, validateIdentitySpec} from '../admin/identities.js'
import type {RoleTupleShape} from '../roles/sync.js'
import {applyTuples, parseTupleText, type TupleReport} from '../admin/tuples.js'

export interface SeedClientOutcome {
  id: string
  status: SeedClientStatus | 'failed'
  error?: string
}

export interface SeedReport {
  identities: ImportReport
  tuples: TupleReport
  /** Machine clients in Hydra (seed.clients, with hydra.enabled). Never their secrets. */
  clients: SeedClientOutcome[]
  /** True when some entry failed (exit code 1). */
  failed: boolean
}

/**
 * Applies iam.yaml's `seed:` section: identities (with their roles) first, then tuples (a subject written
 * `email:<address>` becomes the id of the identity with that email; one naming no identity fails with its tuple). Idempotent: a second run
 * reports everything as existing and writes nothing. `${VAR}` in passwords are resolved here, at the point of use.
 */
export async function applySeed(
  deps: {keto: KetoClient; kratos: KratosAdminClient; hydra: HydraAdminClient; hydraPublic: HydraPublicClient; shape: RoleTupleShape; schemaId: string},
  seed: SeedConfig,
  o: {env?: NodeJS.ProcessEnv} = {},
): Promise<SeedReport> {
  const env = o.env ?? process.env
  const entries: ImportEntry[] = seed.identities.map((identity, index) => {
    try {
      const password = identity.password === undefined ? undefined : resolveEnvRefs(identity.password, env)
      const spec = validateIdentitySpec({
        email: identity.email,
        ...(password === undefined ? {} : {password}),
        ...(identity.name === undefined ? {} : {name: identity.name}),
        roles: identity.roles,
      })
      return {index, line: 0, spec}
    } catch (error) {
      if (isUnreachable(error)) throw error
      return {index, line: 0, error: isIamError(error) || error instanceof Error ? error.message : String(error)}
    }
  })
  const identities = await importIdentities(deps, entries)
  // Seed tuples are single lines; number them by their position in `seed.tuples` (1-based).
  const tupleEntries = seed.tuples.flatMap((text, i) => parseTupleText(text).map((e) => ({...e, line: i + 1})))
  // `…@email:ada@example.com` names an identity by email: the ids just seeded first, else Kratos is asked.
  const seeded = new Map(identities.identities.filter((i) => i.id !== undefined).map((i) => [i.email.toLowerCase(), i.id!] as const))
  const tuples = await applyTuples(deps.keto, tupleEntries, {resolveEmail: identityIdByEmail(deps.kratos, seeded)})
  const clients = await seedClients(deps, seed, env)
  return {identities, tuples, clients, failed: identities.failed > 0 || tuples.failed > 0 || clients.some((c) => c.status === 'failed')}
}

/** Each seed client made to exist as written (its secret from ${VAR}, resolved here); a failure is its entry's. */
async function seedClients(hydra: {hydra: HydraAdminClient; hydraPublic: HydraPublicClient}, seed: SeedConfig, env: NodeJS.ProcessEnv): Promise<SeedClientOutcome[]> {
  const out: SeedClientOutcome[] = []
  for (const client of seed.clients) {
    try {
      const status = await ensureClient(hydra, {...client, secret: resolveEnvRefs(client.secret, env)})
      out.push({id: client.id, status})
    } catch (error) {
      if (isUnreachable(error)) throw error
      out.push({id: client.id, status: 'failed', error: error instanceof Error ? error.message : String(error)})
    }
  }
  return out
}

/**
 * `iam up --seed` and `iam seed`: applies `config.seed` against the URLs iam.yaml's ports give (loopback), with
 * a deadline per call. Throws ORY_UNREACHABLE (exit 3) when a server is down; per-entry failures are in the report.
 */
export async function seedFromConfig(config: IamConfig, o: {env?: NodeJS.ProcessEnv; timeoutMs?: number; schemaId?: string} = {}): Promise<SeedReport> {
  const ctx = contextFromConfig(config)
  const clients = createClients(ctx, {timeoutMs: o.timeoutMs})
  try {
    return await applySeed({keto: clients.keto, kratos: clients.kratos, hydra: clients.hydra, hydraPublic: clients.hydraPublic, shape: ctx.roles, schemaId: o.schemaId ?? ctx.schemaId}, config.seed, {env: o.env})
  } finally {
    await clients.close()
  }
}
