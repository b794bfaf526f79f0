/**
 * Machine clients (`iam clients …`, `iam seed`'s clients, smoke's throwaway client): OAuth2 clients in Hydra that
 * get access tokens with the client-credentials grant. A secret leaves this module only in the result of `create`
 * and `rotateSecret` (shown once by the command); it is generated here, hashed by Hydra, never logged.
 */
import {randomBytes} from 'node:crypto'

import {withOry, type EndpointFlags, type OryClients, type OryContext} from '../admin/context.js'
import {formatDuration, parseDurationMs} from '../config/duration.js'
import {ROUTE_ID_PATTERN, SCOPE_PATTERN} from '../config/schema.js'
import {ExitCode, IamError} from '../errors.js'
import type {HydraClient, TokenResponse} from '../ory/hydra-client.js'

/** A machine client as iam shows it. Never holds the secret. */
export interface MachineClient {
  id: string
  name: string
  scopes: string[]
  audience: string[]
  metadata: Record<string, string>
  /** Its access tokens' lifetime when it has one of its own (else hydra.accessTokenTtl). */
  tokenTtl?: string
  createdAt?: string
}

export interface MachineClientSpec {
  id: string
  name?: string
  scopes: string[]
  audience: string[]
  metadata: Record<string, string>
  tokenTtlMs?: number
  /** Given by seeding (from ${VAR}); generated when absent. */
  secret?: string
}

/** Secrets shorter than this are refused: they stand alone between the internet and a client's tokens. */
export const MIN_CLIENT_SECRET_LENGTH = 24
const SCOPE = new RegExp(SCOPE_PATTERN)
const ID = new RegExp(ROUTE_ID_PATTERN)
const METADATA_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/

type Hydra = Pick<OryClients, 'hydra' | 'hydraPublic'>

/** Machine-client commands need Hydra: refused (exit 2) on a project that has it off. */
export function assertHydraEnabled(ctx: Pick<OryContext, 'config' | 'configPath'>): void {
  if (ctx.config && !ctx.config.hydra.enabled) {
    throw new IamError('HYDRA_DISABLED', `Hydra is off in ${ctx.configPath ?? 'iam.yaml'}: machine clients need it.`, {
      exitCode: ExitCode.Usage,
      suggestion: 'Set `hydra: {enabled: true}` in iam.yaml (or create the project with `iam init --machine-clients`), then run `iam up`.',
    })
  }
}

/** Opens Hydra's clients for the project (refused when its iam.yaml has Hydra off), runs `fn`, closes them. */
export async function withHydra<T>(flags: EndpointFlags & {timeout?: number}, fn: (hydra: Hydra, ctx: OryContext) => Promise<T>): Promise<T> {
  return withOry(flags, async (clients, ctx) => {
    assertHydraEnabled(ctx)
    return fn(clients, ctx)
  })
}

export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url')
}

function invalid(message: string, suggestion?: string): IamError {
  return new IamError('CLIENT_INVALID', message, {exitCode: ExitCode.Usage, ...(suggestion ? {suggestion} : {})})
}

/** Checks a spec before anything is sent (one error naming the field and the fix). */
export function validateSpec(spec: MachineClientSpec): void {
  if (!ID.test(spec.id)) throw invalid(`Client id "${spec.id}" is not usable: letters, digits, ".", "_" and "-", starting with a letter or digit.`, 'e.g. billing-worker')
  for (const scope of spec.scopes) {
    if (!SCOPE.test(scope)) throw invalid(`Scope "${scope}" is not an OAuth2 scope (printable ASCII without spaces, quotes or backslashes).`, 'e.g. --scope orders:read')
  }
  for (const audience of spec.audience) if (audience.trim() === '' || /\s/.test(audience)) throw invalid(`Audience "${audience}" must be one word or URL without spaces.`)
  for (const key of Object.keys(spec.metadata)) {
    if (!METADATA_KEY.test(key)) throw invalid(`Metadata key "${key}" is not usable: a letter or "_" first, then letters, digits, ".", "_" or "-".`, 'e.g. --metadata namespace=acme')
  }
  if (spec.secret !== undefined && spec.secret.length < MIN_CLIENT_SECRET_LENGTH) {
    throw invalid(`The secret of client ${spec.id} is shorter than ${MIN_CLIENT_SECRET_LENGTH} characters.`, 'Use a random one, e.g. `openssl rand -base64 32`.')
  }
  if (spec.tokenTtlMs !== undefined && (spec.tokenTtlMs < 1000 || spec.tokenTtlMs > 24 * 3_600_000)) throw invalid('A token lifetime must be between 1s and 24h.')
}

/** `key=value` pairs of `--metadata` into an object; a pair without `=` is refused. */
export function parseMetadata(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of pairs) {
    const at = pair.indexOf('=')
    if (at <= 0) throw invalid(`--metadata "${pair}" is not key=value.`, 'e.g. --metadata tier=gold')
    out[pair.slice(0, at)] = pair.slice(at + 1)
  }
  return out
}

/** Hydra's client → iam's view (never the secret). */
export function toMachineClient(c: HydraClient): MachineClient {
  const metadata = Object.fromEntries(Object.entries(c.metadata ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]))
  const ttl = c.client_credentials_grant_access_token_lifespan
  // Hydra writes lifespans as Go does (`5m0s`).
  const ttlMs = typeof ttl === 'string' && ttl !== '' ? Math.round(parseDurationMs(ttl, 'client lifespan')) : undefined
  return {
    id: c.client_id,
    name: c.client_name || c.client_id,
    scopes: scopeList(c.scope),
    audience: [...(c.audience ?? [])],
    metadata,
    ...(ttlMs === undefined ? {} : {tokenTtl: formatDuration(ttlMs)}),
    ...(c.created_at ? {createdAt: c.created_at} : {}),
  }
}

/** OAuth2's space-separated scope string as a list. */
const scopeList = (scope: string | undefined): string[] => (scope ?? '').split(' ').filter((s) => s !== '')

function hydraBody(spec: MachineClientSpec, secret: string): HydraClient {
  return {
    client_id: spec.id,
    client_name: spec.name ?? spec.id,
    client_secret: secret,
    grant_types: ['client_credentials'],
    scope: spec.scopes.join(' '),
    audience: [...spec.audience],
    metadata: {...spec.metadata},
    token_endpoint_auth_method: 'client_secret_basic',
    ...(spec.tokenTtlMs === undefined ? {} : {client_credentials_grant_access_token_lifespan: `${Math.round(spec.tokenTtlMs / 1000)}s`}),
  }
}

/** Creates a client; its secret is in the result and nowhere else. CLIENT_EXISTS when the id is taken. */
export async function createClient(hydra: Hydra, spec: MachineClientSpec): Promise<{client: MachineClient; secret: string}> {
  validateSpec(spec)
  const secret = spec.secret ?? generateClientSecret()
  const created = await hydra.hydra.createClient(hydraBody(spec, secret))
  if (!created) {
    throw new IamError('CLIENT_EXISTS', `A client with id ${spec.id} exists already.`, {
      exitCode: ExitCode.Failure,
      suggestion: `Pick another id, or replace its secret with \`iam clients rotate-secret ${spec.id}\`.`,
      details: {id: spec.id},
    })
  }
  return {client: toMachineClient(created), secret}
}

function notFound(id: string): IamError {
  return new IamError('CLIENT_NOT_FOUND', `No client with id ${id}.`, {exitCode: ExitCode.Failure, suggestion: 'List the clients with `iam clients list`.', details: {id}})
}

export async function listClients(hydra: Hydra): Promise<MachineClient[]> {
  return (await hydra.hydra.listClients()).map(toMachineClient).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

export async function showClient(hydra: Hydra, id: string): Promise<MachineClient> {
  const client = await hydra.hydra.getClient(id)
  if (!client) throw notFound(id)
  return toMachineClient(client)
}

/** Deletes a client (its tokens stop working). CLIENT_NOT_FOUND when there is none, unless `ifExists`. */
export async function deleteClient(hydra: Hydra, id: string, o: {ifExists?: boolean} = {}): Promise<{deleted: boolean}> {
  const deleted = await hydra.hydra.deleteClient(id)
  if (!deleted && !o.ifExists) throw notFound(id)
  return {deleted}
}

/** A new secret replaces the old one at once (the old one gets invalid_client); tokens already issued stay valid. */
export async function rotateSecret(hydra: Hydra, id: string): Promise<{client: MachineClient; secret: string}> {
  const secret = generateClientSecret()
  const updated = await hydra.hydra.patchClient(id, [{op: 'replace', path: '/client_secret', value: secret}])
  if (!updated) throw notFound(id)
  return {client: toMachineClient(updated), secret}
}

/** Revokes every token issued to a client: the gateway refuses them within hydra.introspectionCache. */
export async function revokeTokens(hydra: Hydra, id: string): Promise<{revoked: true}> {
  if (!(await hydra.hydra.getClient(id))) throw notFound(id)
  await hydra.hydra.deleteTokens(id)
  return {revoked: true}
}

export interface IssuedToken {
  accessToken: string
  tokenType: string
  expiresIn: number
  scopes: string[]
}

/** The client-credentials grant: an access token (no refresh token, RFC 6749 §4.4.3). */
export async function issueToken(hydra: Hydra, o: {id: string; secret: string; scopes?: string[]; audience?: string[]}): Promise<IssuedToken> {
  const res: TokenResponse = await hydra.hydraPublic.clientCredentials({clientId: o.id, secret: o.secret, scopes: o.scopes, audience: o.audience})
  return {accessToken: res.access_token, tokenType: res.token_type, expiresIn: res.expires_in, scopes: scopeList(res.scope)}
}

export type SeedClientStatus = 'created' | 'updated' | 'unchanged'

/**
 * Makes a seeded client exist as iam.yaml says (by id): created, or its fields and secret set. The secret is set on
 * every run (Hydra keeps only a hash, so whether it changed cannot be read back); the status reports the other fields.
 */
export async function ensureClient(hydra: Hydra, spec: MachineClientSpec & {secret: string}): Promise<SeedClientStatus> {
  validateSpec(spec)
  const existing = await hydra.hydra.getClient(spec.id)
  if (!existing) {
    await createClient(hydra, spec)
    return 'created'
  }
  const want = hydraBody(spec, spec.secret)
  const current = toMachineClient(existing)
  const wanted = toMachineClient({...want, client_secret: undefined})
  const same = JSON.stringify({...current, createdAt: undefined}) === JSON.stringify({...wanted, createdAt: undefined})
  const ops = [
    {op: 'replace' as const, path: '/client_secret', value: spec.secret},
    {op: 'replace' as const, path: '/client_name', value: want.client_name},
    {op: 'replace' as const, path: '/scope', value: want.scope},
    {op: 'replace' as const, path: '/audience', value: want.audience},
    {op: 'replace' as const, path: '/metadata', value: want.metadata},
    {op: 'replace' as const, path: '/client_credentials_grant_access_token_lifespan', value: want.client_credentials_grant_access_token_lifespan ?? null},
  ]
  if (!(await hydra.hydra.patchClient(spec.id, ops))) throw notFound(spec.id)
  return same ? 'unchanged' : 'updated'
}
