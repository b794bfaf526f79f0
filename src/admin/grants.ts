import {ExitCode, IamError} from '../errors.js'
import type {KetoClient} from '../ory/keto-client.js'
import type {Identity, KratosAdminClient} from '../ory/kratos-client.js'
import {roleTuple, syncIdentityRoles, validateRoleName, type RoleTupleShape, type SyncResult} from '../roles/sync.js'

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function identityEmail(identity: Identity): string | undefined {
  const email = identity.traits.email
  return typeof email === 'string' ? email : undefined
}

/** A user given as an identity id or as an email (any credentials identifier) → the Kratos identity. */
export async function resolveUser(kratos: Pick<KratosAdminClient, 'getIdentity' | 'findByIdentifier'>, user: string): Promise<Identity> {
  const value = user.trim()
  if (value.length === 0) throw new IamError('USER_INVALID', 'The user is empty: pass an email or an identity id.', {exitCode: ExitCode.Usage})
  const identity = UUID_RE.test(value) ? await kratos.getIdentity(value) : await kratos.findByIdentifier(value)
  if (!identity) {
    throw new IamError('USER_NOT_FOUND', `Kratos has no identity ${UUID_RE.test(value) ? 'with id' : 'with the identifier'} ${value}.`, {
      exitCode: ExitCode.Failure,
      suggestion: 'Create it first: iam identities create --email <email> --password-stdin (or --password-env <VAR>).',
      details: {user: value},
    })
  }
  return identity
}

export interface GrantResult {
  user: string
  identityId: string
  email?: string
  role: string
  /** Grant: created | existing. Revoke: deleted | absent. */
  status: 'created' | 'existing' | 'deleted' | 'absent'
  /** metadata_public.roles after the refresh. */
  roles: string[]
  metadataChanged: boolean
}

interface Deps {
  keto: KetoClient
  kratos: KratosAdminClient
  shape: RoleTupleShape
}

/** Grants a role (idempotent) and refreshes the identity's metadata_public.roles at once. */
export async function grantRole(deps: Deps, user: string, role: string): Promise<GrantResult> {
  const name = validateRoleName(role)
  const identity = await resolveUser(deps.kratos, user)
  const tuple = roleTuple(deps.shape, name, identity.id)
  const exists = await deps.keto.exists(tuple)
  if (!exists) await deps.keto.create(tuple)
  const sync = await refresh(deps, identity.id)
  return result(user, identity, name, exists ? 'existing' : 'created', sync)
}

/** Revokes a role (idempotent) and refreshes the identity's metadata_public.roles at once. */
export async function revokeRole(deps: Deps, user: string, role: string): Promise<GrantResult> {
  const name = validateRoleName(role)
  const identity = await resolveUser(deps.kratos, user)
  const tuple = roleTuple(deps.shape, name, identity.id)
  const exists = await deps.keto.exists(tuple)
  if (exists) await deps.keto.delete(tuple)
  const sync = await refresh(deps, identity.id)
  return result(user, identity, name, exists ? 'deleted' : 'absent', sync)
}

async function refresh(deps: Deps, identityId: string): Promise<SyncResult> {
  return syncIdentityRoles({keto: deps.keto, kratos: deps.kratos}, {identityId, shape: deps.shape})
}

function result(user: string, identity: Identity, role: string, status: GrantResult['status'], sync: SyncResult): GrantResult {
  const email = identityEmail(identity)
  return {user, identityId: identity.id, ...(email ? {email} : {}), role, status, roles: sync.roles, metadataChanged: sync.changed}
}

export interface RoleAssignment {
  role: string
  subject: string
  /** Set when the subject is a Kratos identity. */
  email?: string
}

/** Role assignments, optionally for one user and/or one role, across all Keto pages. */
export async function listRoleAssignments(deps: Deps, o: {user?: string; role?: string}): Promise<RoleAssignment[]> {
  let subject: string | undefined
  const emails = new Map<string, string>()
  if (o.user !== undefined) {
    const identity = await resolveUser(deps.kratos, o.user)
    subject = identity.id
    const email = identityEmail(identity)
    if (email) emails.set(identity.id, email)
  }
  const role = o.role === undefined ? undefined : validateRoleName(o.role)
  const tuples = await deps.keto.listAll({namespace: deps.shape.namespace, relation: deps.shape.relation, object: role, subjectId: subject})
  const direct = tuples.filter((t) => t.subjectId !== undefined)
  if (subject === undefined && direct.length > 0) {
    for (const identity of await deps.kratos.listAll()) {
      const email = identityEmail(identity)
      if (email) emails.set(identity.id, email)
    }
  }
  return direct
    .map((t) => {
      const email = emails.get(t.subjectId!)
      return {role: t.object, subject: t.subjectId!, ...(email ? {email} : {})}
    })
    .sort((a, b) => a.role.localeCompare(b.role) || (a.email ?? a.subject).localeCompare(b.email ?? b.subject))
}

export interface IdentityRoles {
  /** As given: an email (or other identifier) or an identity id. */
  user: string
  identityId: string
  email?: string
  /** Role names from Keto, sorted. */
  roles: string[]
  assignments: RoleAssignment[]
}

/** One identity's roles, read from Keto (`iam roles list <email|id>`); the user is resolved through Kratos. */
export async function listIdentityRoles(deps: Deps, user: string): Promise<IdentityRoles> {
  const identity = await resolveUser(deps.kratos, user)
  const email = identityEmail(identity)
  const assignments = await listRoleAssignments(deps, {user: identity.id})
  return {user, identityId: identity.id, ...(email ? {email} : {}), roles: assignments.map((a) => a.role), assignments}
}
