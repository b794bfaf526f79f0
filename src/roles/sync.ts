import {ExitCode, IamError} from '../errors.js'
import type {RelationTuple} from '../ory/tuple-text.js'
import type {Identity, JsonPatchOp} from '../ory/kratos-client.js'

/**
 * Roles live in Keto as `Role:<role>#member@<identity id>` (namespace and relation from iam.yaml `roles:`) and are
 * mirrored into the identity's `metadata_public.roles` — a field users cannot edit through the settings flow, unlike
 * traits — so the session and Oathkeeper's id_token carry them without a Keto call per request.
 */
export interface RoleTupleShape {
  namespace: string
  relation: string
}

export const DEFAULT_ROLE_SHAPE: RoleTupleShape = {namespace: 'Role', relation: 'member'}

/** The smallest Keto surface role syncing needs (KetoClient implements it; unit tests may fake it). */
export interface RoleReader {
  listAll(query: {namespace?: string; relation?: string; subjectId?: string; object?: string}, o?: {pageSize?: number}): Promise<RelationTuple[]>
}

/** The smallest Kratos surface role syncing needs. */
export interface IdentityStore {
  getIdentity(id: string): Promise<Identity | undefined>
  patchIdentity(id: string, ops: JsonPatchOp[]): Promise<Identity>
}

export function roleTuple(shape: RoleTupleShape, role: string, subjectId: string): RelationTuple {
  return {namespace: shape.namespace, object: role, relation: shape.relation, subjectId}
}

export function validateRoleName(role: string): string {
  const r = role.trim()
  if (r.length === 0 || r !== role || /[\s]/.test(r)) {
    throw new IamError('ROLE_INVALID', `"${role}" is not a valid role name: it must be non-empty and contain no whitespace.`, {exitCode: ExitCode.Usage})
  }
  return r
}

/** Every role of a subject, following Keto's pagination to the end; sorted and unique. */
export async function readRoles(keto: RoleReader, shape: RoleTupleShape, subjectId: string, o: {pageSize?: number} = {}): Promise<string[]> {
  const tuples = await keto.listAll({namespace: shape.namespace, relation: shape.relation, subjectId}, o)
  // Keto filters on subject_id already; the check guards against a subject-set tuple slipping in.
  return normalizeRoles(tuples.filter((t) => t.subjectId === subjectId).map((t) => t.object))
}

export function normalizeRoles(roles: readonly string[]): string[] {
  return [...new Set(roles)].sort()
}

/** The roles currently stored on the identity, or undefined when there is no valid roles list. */
export function currentRoles(identity: Pick<Identity, 'metadata_public'>): string[] | undefined {
  const roles = identity.metadata_public?.roles
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) return undefined
  return roles as string[]
}

/**
 * The JSON Patch that sets `metadata_public.roles` and nothing else, or undefined when the identity already holds
 * exactly these roles (idempotent: no write). Kratos stores an absent metadata_public as null, and a JSON Pointer
 * cannot add a member to null, so that case adds the whole object — which then holds only `roles`, as it held nothing.
 */
export function rolesPatch(identity: Pick<Identity, 'metadata_public'>, roles: readonly string[]): JsonPatchOp[] | undefined {
  const wanted = normalizeRoles(roles)
  const current = currentRoles(identity)
  if (current && current.length === wanted.length && current.every((r, i) => r === wanted[i])) return undefined
  if (identity.metadata_public === null) return [{op: 'add', path: '/metadata_public', value: {roles: wanted}}]
  return [{op: 'add', path: '/metadata_public/roles', value: wanted}]
}

export interface SyncResult {
  identityId: string
  /** Keto subject the roles were read for (the identity id unless given otherwise). */
  subject: string
  roles: string[]
  /** Roles on the identity before (undefined when it had none). */
  previous?: string[]
  changed: boolean
}

export type SyncStage = 'keto' | 'kratos'

/** A sync failure, naming which server failed so callers can count and report it. */
export class RoleSyncError extends IamError {
  readonly stage: SyncStage
  constructor(stage: SyncStage, cause: unknown) {
    const inner = cause instanceof IamError ? cause : undefined
    super(inner?.code ?? 'ROLE_SYNC_FAILED', inner?.message ?? String((cause as Error)?.message ?? cause), {
      exitCode: inner?.exitCode ?? ExitCode.Failure,
      suggestion: inner?.suggestion,
      details: {stage, ...inner?.details},
      cause,
    })
    this.name = 'RoleSyncError'
    this.stage = stage
  }
}

/**
 * Reads the identity's roles from Keto and writes them to `metadata_public.roles` with a JSON Patch that touches
 * only that field (PUT would replace metadata_public and metadata_admin). Skips the write when nothing changed.
 * Used by the role webhook and by `iam roles grant/revoke`.
 */
export async function syncIdentityRoles(
  deps: {keto: RoleReader; kratos: IdentityStore},
  o: {identityId: string; subject?: string; shape?: RoleTupleShape; pageSize?: number},
): Promise<SyncResult> {
  const shape = o.shape ?? DEFAULT_ROLE_SHAPE
  const subject = o.subject ?? o.identityId
  let roles: string[]
  try {
    roles = await readRoles(deps.keto, shape, subject, {pageSize: o.pageSize})
  } catch (error) {
    throw new RoleSyncError('keto', error)
  }
  try {
    const identity = await deps.kratos.getIdentity(o.identityId)
    if (!identity) {
      throw new IamError('IDENTITY_NOT_FOUND', `Kratos has no identity ${o.identityId}.`, {exitCode: ExitCode.Failure, details: {id: o.identityId}})
    }
    const previous = currentRoles(identity)
    const ops = rolesPatch(identity, roles)
    if (ops) await deps.kratos.patchIdentity(o.identityId, ops)
    return {identityId: o.identityId, subject, roles, ...(previous ? {previous} : {}), changed: ops !== undefined}
  } catch (error) {
    throw new RoleSyncError('kratos', error)
  }
}
