import {didYouMean} from '../config/issues.js'
import {ExitCode, IamError, isIamError, usageError} from '../errors.js'
import type {KetoClient} from '../ory/keto-client.js'
import type {KratosAdminClient, KratosPublicClient} from '../ory/kratos-client.js'
import {isUnreachable} from '../ory/request.js'
import {parseYamlList, readInputFile} from '../seed/yaml-list.js'
import {roleTuple, syncIdentityRoles, validateRoleName, type RoleTupleShape} from '../roles/sync.js'

export interface IdentitySpec {
  email: string
  password?: string
  /** Extra traits beyond email (e.g. name), as the identity schema defines them. */
  traits?: Record<string, unknown>
  roles: string[]
  metadataPublic?: Record<string, unknown>
  metadataAdmin?: Record<string, unknown>
}

export interface IdentityOutcome {
  email: string
  id?: string
  /** created: new identity; existing: an identity with this email was there (its password is left alone). */
  status: 'created' | 'existing' | 'failed'
  /**
   * An existing identity given a password, compared by a password login (`identities create`): `same`, or `updated`
   * (--update-password). Never the password itself.
   */
  password?: 'same' | 'updated'
  roles?: string[]
  /** Roles newly granted by this run. */
  granted?: string[]
  error?: string
  /** Index (0-based) and line of the entry in an import file. */
  index?: number
  line?: number
}

interface Deps {
  keto: KetoClient
  kratos: KratosAdminClient
  shape: RoleTupleShape
  schemaId: string
  /** Needed to compare an existing identity's password (ensureIdentity with existingPassword 'check' or 'update'). */
  kratosPublic?: KratosPublicClient
}

/** A record problem, naming the key it is about (to locate it in a file) when there is one. */
class IdentitySpecError extends Error {
  constructor(
    message: string,
    readonly key?: string,
  ) {
    super(message)
    this.name = 'IdentitySpecError'
  }
}

const SPEC_KEYS = ['email', 'password', 'name', 'traits', 'roles', 'metadata_public', 'metadata_admin'] as const

const EMAIL_RE = /^[^\s@]+@[^\s@]+$/


/** Checks one identity record; throws IdentitySpecError naming the key at fault. Unknown keys are checked first. */
export function validateIdentitySpec(value: unknown): IdentitySpec {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new IdentitySpecError(`expected an object {${SPEC_KEYS.join(', ')}}`)
  const v = value as Record<string, unknown>
  // A misspelt key first: `emial` is a typo of email, not a missing email.
  const unknown = Object.keys(v).filter((k) => !(SPEC_KEYS as readonly string[]).includes(k))
  if (unknown.length > 0) {
    const what = unknown.map((k) => `"${k}"${didYouMean(k, SPEC_KEYS)}`).join(', ')
    throw new IdentitySpecError(`unknown key${unknown.length > 1 ? 's' : ''} ${what}; known keys: ${SPEC_KEYS.join(', ')}`, unknown[0])
  }
  if (v.email === undefined) throw new IdentitySpecError('"email" is required')
  if (typeof v.email !== 'string' || !EMAIL_RE.test(v.email)) throw new IdentitySpecError('"email" must be an email address', 'email')
  if (v.password !== undefined && typeof v.password !== 'string') throw new IdentitySpecError('"password" must be a string', 'password')
  const roles = v.roles ?? []
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) throw new IdentitySpecError('"roles" must be a list of role names', 'roles')
  for (const r of roles as string[]) {
    try {
      validateRoleName(r)
    } catch (error) {
      throw new IdentitySpecError((error as Error).message, 'roles')
    }
  }
  const obj = (key: string): Record<string, unknown> | undefined => {
    const x = v[key]
    if (x === undefined) return undefined
    if (!x || typeof x !== 'object' || Array.isArray(x)) throw new IdentitySpecError(`"${key}" must be an object`, key)
    return x as Record<string, unknown>
  }
  const traits = {...obj('traits')}
  if (v.name !== undefined) traits.name = v.name
  return {
    email: v.email,
    ...(v.password === undefined ? {} : {password: v.password as string}),
    ...(Object.keys(traits).length > 0 ? {traits} : {}),
    roles: roles as string[],
    ...(obj('metadata_public') ? {metadataPublic: obj('metadata_public')} : {}),
    ...(obj('metadata_admin') ? {metadataAdmin: obj('metadata_admin')} : {}),
  }
}

/**
 * What to do when the identity exists and a password is given: `keep` leaves it alone unseen (seeding, import);
 * `check` compares it by a password login and refuses a different one (IDENTITY_PASSWORD_DIFFERS, exit 1, nothing
 * changed); `update` sets the given one when it differs.
 */
type ExistingPassword = 'keep' | 'check' | 'update'

/**
 * Creates the identity unless one with this email exists (idempotent; an existing identity's traits are left alone,
 * its password as `existingPassword` says), grants its roles in Keto and refreshes metadata_public.roles.
 */
export async function ensureIdentity(deps: Deps, spec: IdentitySpec, o: {existingPassword?: ExistingPassword} = {}): Promise<IdentityOutcome> {
  let id: string
  let status: 'created' | 'existing'
  let password: IdentityOutcome['password']
  const existing = await deps.kratos.findByIdentifier(spec.email)
  if (existing) {
    id = existing.id
    status = 'existing'
    if (spec.password !== undefined && (o.existingPassword ?? 'keep') !== 'keep') password = await reconcilePassword(deps, id, spec.email, spec.password, o.existingPassword === 'update')
  } else {
    const created = await deps.kratos.createIdentity({
      schemaId: deps.schemaId,
      traits: {...spec.traits, email: spec.email},
      password: spec.password,
      metadataPublic: spec.metadataPublic,
      metadataAdmin: spec.metadataAdmin,
    })
    if (created.conflict) {
      // Created concurrently, or the identifier is held under different casing: look it up once more.
      const again = await deps.kratos.findByIdentifier(spec.email)
      if (!again) throw new IamError('IDENTITY_CONFLICT', `Kratos reports a conflict for ${spec.email}${created.reason ? `: ${created.reason}` : ''}.`, {exitCode: ExitCode.Failure})
      id = again.id
      status = 'existing'
    } else {
      id = created.identity.id
      status = 'created'
    }
  }
  const granted: string[] = []
  for (const role of spec.roles) {
    const tuple = roleTuple(deps.shape, role, id)
    if (await deps.keto.exists(tuple)) continue
    await deps.keto.create(tuple)
    granted.push(role)
  }
  const sync = await syncIdentityRoles({keto: deps.keto, kratos: deps.kratos}, {identityId: id, shape: deps.shape})
  return {email: spec.email, id, status, ...(password ? {password} : {}), roles: sync.roles, granted}
}

/**
 * Kratos never returns a password, so the given one is compared by logging in with it (Kratos' API login flow; the
 * session it creates is revoked at once). Refused logins mean a different password (or none); with `update` the
 * given one is then set through the admin API.
 */
async function reconcilePassword(deps: Deps, id: string, email: string, password: string, update: boolean): Promise<'same' | 'updated'> {
  if (!deps.kratosPublic) throw new Error('ensureIdentity: comparing a password needs deps.kratosPublic')
  const login = await deps.kratosPublic.login({method: 'password', identifier: email, password})
  if (login.result === 'ok') {
    await deps.kratos.revokeSession(login.session.id).catch(() => undefined)
    return 'same'
  }
  if (update) {
    await deps.kratos.setPassword(id, password)
    return 'updated'
  }
  if (login.result === 'invalid-credentials') {
    throw new IamError('IDENTITY_PASSWORD_DIFFERS', `${email} exists (${id}) with a different password (or none); nothing was changed.`, {
      exitCode: ExitCode.Failure,
      suggestion: 'Pass --update-password to set the given password, or leave the password out to keep the existing one.',
      details: {id, email},
    })
  }
  throw new IamError('ORY_REQUEST_FAILED', `${email} exists (${id}); its password could not be compared: Kratos' password login answered ${login.reason}. Nothing was changed.`, {
    exitCode: ExitCode.Failure,
    suggestion: 'Check that kratos.methods.password is on and --kratos-public-url names Kratos\' public API; --update-password sets the password without comparing.',
    details: {id, email},
  })
}

/** The id of the identity with this email (`…@email:` tuple subjects), through the admin API. */
export function identityIdByEmail(kratos: Pick<KratosAdminClient, 'findByIdentifier'>, known: ReadonlyMap<string, string> = new Map()): (email: string) => Promise<string | undefined> {
  return async (email) => known.get(email.toLowerCase()) ?? (await kratos.findByIdentifier(email))?.id
}

export interface ImportEntry {
  index: number
  line: number
  /** 1-based column of the problem (its key when it has one). */
  column?: number
  spec?: IdentitySpec
  error?: string
}

/**
 * Parses a YAML/JSON list (or `{identities: [...]}`) of identity specs; a bad item becomes an entry with its error,
 * located at the key at fault (else at the item).
 */
export function parseIdentityDocument(text: string, source = 'input'): ImportEntry[] {
  return parseYamlList(text, {source, key: 'identities', code: 'IDENTITY_FILE_INVALID'}).map(({index, line, column, value, keys}) => {
    try {
      return {index, line, spec: validateIdentitySpec(value)}
    } catch (error) {
      const at = (error instanceof IdentitySpecError && error.key !== undefined ? keys[error.key] : undefined) ?? {line, column}
      return {index, line: at.line, column: at.column, error: (error as Error).message}
    }
  })
}

/**
 * Reads an identities file and validates every record first: any bad record refuses the whole file
 * (IDENTITY_FILE_INVALID, exit 2, each problem as file:line:col), so nothing is half-imported.
 */
export async function readIdentityFile(path: string): Promise<ImportEntry[]> {
  const source = path === '-' ? 'stdin' : path
  const entries = parseIdentityDocument(await readInputFile(path), source)
  const bad = entries.filter((e) => e.error !== undefined)
  if (bad.length === 0) return entries
  const where = (e: ImportEntry): string => `${source}:${e.line}:${e.column ?? 1}`
  throw usageError('IDENTITY_FILE_INVALID', `${source} has ${bad.length} bad record(s); nothing was imported:\n${bad.map((e) => `  ${where(e)}: record ${e.index + 1}: ${e.error}`).join('\n')}`, {
    suggestion: `Fix ${bad.length === 1 ? 'it' : 'them'} in ${source}; a record is {${SPEC_KEYS.join(', ')}}.`,
    details: {file: source, line: bad[0]!.line, column: bad[0]!.column ?? 1, errors: bad.map((e) => ({record: e.index + 1, line: e.line, column: e.column ?? 1, message: e.error}))},
  })
}

export interface ImportReport {
  created: number
  existing: number
  failed: number
  identities: IdentityOutcome[]
}

/** Imports every entry it can; per-entry errors are reported and the rest still imported. Unreachable servers abort. */
export async function importIdentities(deps: Deps, entries: ImportEntry[]): Promise<ImportReport> {
  const report: ImportReport = {created: 0, existing: 0, failed: 0, identities: []}
  for (const entry of entries) {
    const where = {index: entry.index, ...(entry.line ? {line: entry.line} : {})}
    if (!entry.spec) {
      report.failed++
      report.identities.push({email: '', status: 'failed', error: entry.error, ...where})
      continue
    }
    try {
      const outcome = await ensureIdentity(deps, entry.spec)
      report[outcome.status === 'created' ? 'created' : 'existing']++
      report.identities.push({...outcome, ...where})
    } catch (error) {
      if (isUnreachable(error) || !isIamError(error)) throw error
      report.failed++
      report.identities.push({email: entry.spec.email, status: 'failed', error: error.message, ...where})
    }
  }
  return report
}
