import {ExitCode, IamError, isIamError} from '../errors.js'
import type {KetoClient} from '../ory/keto-client.js'
import type {KratosAdminClient} from '../ory/kratos-client.js'
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
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+$/

export function validateIdentitySpec(value: unknown): IdentitySpec {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('expected an object {email, password?, roles?, traits?}')
  const v = value as Record<string, unknown>
  if (typeof v.email !== 'string' || !EMAIL_RE.test(v.email)) throw new Error('"email" must be an email address')
  if (v.password !== undefined && typeof v.password !== 'string') throw new Error('"password" must be a string')
  const roles = v.roles ?? []
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) throw new Error('"roles" must be a list of role names')
  for (const r of roles as string[]) {
    try {
      validateRoleName(r)
    } catch (error) {
      throw new Error((error as Error).message)
    }
  }
  const obj = (key: string): Record<string, unknown> | undefined => {
    const x = v[key]
    if (x === undefined) return undefined
    if (!x || typeof x !== 'object' || Array.isArray(x)) throw new Error(`"${key}" must be an object`)
    return x as Record<string, unknown>
  }
  const traits = {...obj('traits')}
  if (v.name !== undefined) traits.name = v.name
  const known = new Set(['email', 'password', 'roles', 'traits', 'name', 'metadata_public', 'metadata_admin'])
  const unknown = Object.keys(v).filter((k) => !known.has(k))
  if (unknown.length > 0) throw new Error(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}`)
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
 * Creates the identity unless one with this email exists (idempotent; an existing identity's password and traits
 * are left alone), grants its roles in Keto and refreshes metadata_public.roles.
 */
export async function ensureIdentity(deps: Deps, spec: IdentitySpec): Promise<IdentityOutcome> {
  let id: string
  let status: 'created' | 'existing'
  const existing = await deps.kratos.findByIdentifier(spec.email)
  if (existing) {
    id = existing.id
    status = 'existing'
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
  return {email: spec.email, id, status, roles: sync.roles, granted}
}

export interface ImportEntry {
  index: number
  line: number
  spec?: IdentitySpec
  error?: string
}

/** Parses a YAML/JSON list (or `{identities: [...]}`) of identity specs; a bad item becomes an entry with its error. */
export function parseIdentityDocument(text: string, source = 'input'): ImportEntry[] {
  return parseYamlList(text, {source, key: 'identities', code: 'IDENTITY_FILE_INVALID'}).map(({index, line, value}) => {
    try {
      return {index, line, spec: validateIdentitySpec(value)}
    } catch (error) {
      return {index, line, error: (error as Error).message}
    }
  })
}

export async function readIdentityFile(path: string): Promise<ImportEntry[]> {
  return parseIdentityDocument(await readInputFile(path), path)
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
