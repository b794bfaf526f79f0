import {getSetCookies, Headers, type Dispatcher} from 'undici'

import {ExitCode, IamError} from '../errors.js'
import {errorReason} from '../servers/http/index.js'
import {OryHttp, type OryResponse} from './request.js'

export const KRATOS_DEFAULT_ADMIN_URL = 'http://127.0.0.1:4434'
/** The admin port answers `/health/ready` with a 307 to this path (Kratos v1 serves admin routes under /admin). */
export const KRATOS_ADMIN_READY_PATH = '/admin/health/ready'

/** The parts of a Kratos identity iam reads; everything else is carried through untouched. */
export interface Identity {
  id: string
  schema_id: string
  state?: string
  traits: Record<string, unknown>
  metadata_public: Record<string, unknown> | null
  metadata_admin?: Record<string, unknown> | null
  [key: string]: unknown
}

/** RFC 6902 operation; Kratos (v1.3.1 and v26.2.0) accepts only add, remove and replace (`test` is refused). */
export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace'
  path: string
  value?: unknown
}

export interface CreateIdentityInput {
  schemaId: string
  traits: Record<string, unknown>
  password?: string
  metadataPublic?: Record<string, unknown>
  metadataAdmin?: Record<string, unknown>
  state?: 'active' | 'inactive'
}

export interface KratosClientOptions {
  adminUrl?: string
  timeoutMs?: number
  dispatcher?: Dispatcher
}

/** Typed client over the Kratos admin identities API. */
export class KratosAdminClient {
  private readonly http: OryHttp

  constructor(options: KratosClientOptions) {
    this.http = new OryHttp({api: 'kratos-admin', baseUrl: options.adminUrl ?? KRATOS_DEFAULT_ADMIN_URL, timeoutMs: options.timeoutMs, dispatcher: options.dispatcher})
  }

  /** The identity, or undefined when Kratos does not know the id (also for ids that are not UUIDs). */
  async getIdentity(id: string): Promise<Identity | undefined> {
    const res = await this.http.call('GET', `/admin/identities/${encodeURIComponent(id)}`)
    if (res.status === 404 || res.status === 400) return undefined
    if (res.status !== 200) throw this.http.httpError(res, `reading identity ${id}`)
    return normalize(res.body)
  }

  /** One page of identities; `nextPageToken` comes from the `Link: <...page_token=...>; rel="next"` header. */
  async listPage(o: {pageSize?: number; pageToken?: string; credentialsIdentifier?: string} = {}): Promise<{identities: Identity[]; nextPageToken?: string}> {
    const res = await this.http.call('GET', '/admin/identities', {
      query: {page_size: o.pageSize ?? 250, page_token: o.pageToken, credentials_identifier: o.credentialsIdentifier},
    })
    if (res.status !== 200) throw this.http.httpError(res, 'listing identities')
    const list = Array.isArray(res.body) ? res.body.map(normalize) : []
    const next = nextPageToken(res.headers.link)
    return {identities: list, ...(next && list.length > 0 ? {nextPageToken: next} : {})}
  }

  async listAll(o: {pageSize?: number} = {}): Promise<Identity[]> {
    const all: Identity[] = []
    const seen = new Set<string>()
    let token: string | undefined
    for (;;) {
      const page = await this.listPage({pageSize: o.pageSize, pageToken: token})
      all.push(...page.identities)
      if (!page.nextPageToken || seen.has(page.nextPageToken)) return all
      seen.add(page.nextPageToken)
      token = page.nextPageToken
    }
  }

  /** Exact match on a credentials identifier (the email for password logins). */
  async findByIdentifier(identifier: string): Promise<Identity | undefined> {
    const page = await this.listPage({credentialsIdentifier: identifier, pageSize: 2})
    return page.identities[0]
  }

  /**
   * Creates an identity. A conflict (the identifier exists) is reported as `{conflict: true}` rather than thrown so
   * seeding can treat it as "existing".
   */
  async createIdentity(input: CreateIdentityInput): Promise<{identity: Identity; conflict: false} | {conflict: true; reason?: string}> {
    const res = await this.http.call('POST', '/admin/identities', {
      json: {
        schema_id: input.schemaId,
        traits: input.traits,
        ...(input.state ? {state: input.state} : {}),
        ...(input.password === undefined ? {} : {credentials: {password: {config: {password: input.password}}}}),
        ...(input.metadataPublic ? {metadata_public: input.metadataPublic} : {}),
        ...(input.metadataAdmin ? {metadata_admin: input.metadataAdmin} : {}),
      },
    })
    if (res.status === 409) return {conflict: true, reason: errorReason(res.body)}
    if (res.status === 400) {
      const reason = errorReason(res.body) ?? 'invalid identity'
      throw new IamError('KRATOS_IDENTITY_INVALID', `Kratos refused the identity: ${reason}`, {
        exitCode: ExitCode.Failure,
        details: {status: 400, reason, ...(validationMessages(res.body) ? {messages: validationMessages(res.body)} : {})},
      })
    }
    if (res.status !== 201 && res.status !== 200) throw this.http.httpError(res, 'creating an identity')
    return {identity: normalize(res.body), conflict: false}
  }

  /** JSON Patch on one identity: changes only the paths named (unlike PUT, which replaces both metadata fields). */
  async patchIdentity(id: string, ops: JsonPatchOp[]): Promise<Identity> {
    const res = await this.http.call('PATCH', `/admin/identities/${encodeURIComponent(id)}`, {json: ops})
    if (res.status === 404) throw new IamError('IDENTITY_NOT_FOUND', `Kratos has no identity ${id}.`, {exitCode: ExitCode.Failure, details: {id}})
    if (res.status !== 200) throw this.http.httpError(res, `patching identity ${id}`)
    return normalize(res.body)
  }

  /**
   * Sets an identity's password (PUT: the full identity, its current traits, state and both metadata fields, plus the
   * password credential, which Kratos hashes and puts in place of the old one).
   */
  async setPassword(id: string, password: string): Promise<void> {
    const current = await this.getIdentity(id)
    if (!current) throw new IamError('IDENTITY_NOT_FOUND', `Kratos has no identity ${id}.`, {exitCode: ExitCode.Failure, details: {id}})
    const res = await this.http.call('PUT', `/admin/identities/${encodeURIComponent(id)}`, {
      json: {
        schema_id: current.schema_id,
        traits: current.traits,
        ...(current.state ? {state: current.state} : {}),
        metadata_public: current.metadata_public,
        metadata_admin: current.metadata_admin ?? null,
        credentials: {password: {config: {password}}},
      },
    })
    if (res.status !== 200) throw this.http.httpError(res, `setting the password of identity ${id}`)
  }

  /** Revokes one session (e.g. the one a password comparison created); false when Kratos does not know it. */
  async revokeSession(id: string): Promise<boolean> {
    const res = await this.http.call('DELETE', `/admin/sessions/${encodeURIComponent(id)}`)
    if (res.status === 404) return false
    if (res.status !== 204 && res.status !== 200) throw this.http.httpError(res, `revoking session ${id}`)
    return true
  }

  async deleteIdentity(id: string): Promise<boolean> {
    const res = await this.http.call('DELETE', `/admin/identities/${encodeURIComponent(id)}`)
    if (res.status === 404) return false
    if (res.status !== 204 && res.status !== 200) throw this.http.httpError(res, `deleting identity ${id}`)
    return true
  }

  async ready(): Promise<boolean> {
    const res = await this.http.call('GET', KRATOS_ADMIN_READY_PATH)
    return res.status === 200
  }

  async close(): Promise<void> {
    await this.http.close()
  }
}

export const KRATOS_DEFAULT_PUBLIC_URL = 'http://127.0.0.1:4433'

/** How a self-service login proves who the user is: a password, or a one-time code Kratos mails (read by `code()`). */
export type LoginCredentials = {method: 'password'; identifier: string; password: string} | {method: 'code'; identifier: string; code: () => Promise<string>}

/** A Kratos session as iam shows it: never the token or cookie itself. */
export interface SessionView {
  id: string
  active: boolean
  expiresAt?: string
  authenticatedAt?: string
  /** How the user signed in (`password`, `code`, …) and the assurance level reached. */
  methods: string[]
  aal?: string
  identity: {id: string; traits: Record<string, unknown>; metadataPublic: Record<string, unknown> | null}
}

/** A cookie Kratos set on a browser flow (the session cookie among them). */
export interface FlowCookie {
  name: string
  value: string
  path: string
  secure: boolean
  httpOnly: boolean
  /** Seconds since the epoch; 0 for a cookie that ends with the browser session. */
  expires: number
}

/**
 * Kratos' answer to a login: `invalid-credentials` is its "the provided credentials are invalid" (4000006) or "the
 * login code is invalid or has already been used" (4010008). An `api` flow answers a session token, a `browser` flow
 * the cookies it set (the session cookie among them).
 */
export type LoginOutcome =
  | {result: 'ok'; session: SessionView; sessionToken?: string; cookies?: FlowCookie[]}
  | {result: 'invalid-credentials'}
  | {result: 'refused'; reason: string}

const INVALID_CREDENTIALS_IDS = [4000006, 4010008]

/** The part of Kratos' public API iam uses outside smoke: self-service login (API and browser flows) and whoami. */
export class KratosPublicClient {
  private readonly http: OryHttp

  constructor(options: {publicUrl?: string; timeoutMs?: number}) {
    this.http = new OryHttp({api: 'kratos-public', baseUrl: options.publicUrl ?? KRATOS_DEFAULT_PUBLIC_URL, timeoutMs: options.timeoutMs})
  }

  /**
   * Logs in through a self-service login flow (`GET /self-service/login/<api|browser>`, then `POST
   * /self-service/login?flow=`). A browser flow carries Kratos' CSRF cookie and token like a browser would; a code login
   * first asks Kratos to send the code, then submits what `credentials.code()` read.
   */
  async login(credentials: LoginCredentials, o: {flow: 'api' | 'browser'} = {flow: 'api'}): Promise<LoginOutcome> {
    const jar = new Map<string, FlowCookie>()
    const headers = (): Record<string, string> => (jar.size === 0 ? {} : {cookie: [...jar.values()].map((c) => `${c.name}=${c.value}`).join('; ')})
    const keep = (res: OryResponse): void => {
      for (const cookie of flowCookies(res.headers)) jar.set(cookie.name, cookie)
    }
    const flow = await this.http.call('GET', `/self-service/login/${o.flow}`)
    keep(flow)
    const flowId = (flow.body as {id?: unknown} | undefined)?.id
    if (flow.status !== 200 || typeof flowId !== 'string') return {result: 'refused', reason: `status ${flow.status} to starting a login flow${describe(flow.body)}`}
    const csrf = o.flow === 'browser' ? {csrf_token: csrfToken(flow.body)} : {}
    const submit = async (json: Record<string, unknown>): Promise<OryResponse> => {
      const res = await this.http.call('POST', '/self-service/login', {query: {flow: flowId}, json: {...json, ...csrf}, headers: headers()})
      keep(res)
      return res
    }
    let res: OryResponse
    if (credentials.method === 'password') {
      res = await submit({method: 'password', identifier: credentials.identifier, password: credentials.password})
    } else {
      // Kratos answers the first step with the flow again (status 400, state sent_email) once the code is on its way.
      const sent = await submit({method: 'code', identifier: credentials.identifier})
      const state = (sent.body as {state?: unknown} | undefined)?.state
      if (state !== 'sent_email') return refusedOrInvalid(sent)
      res = await submit({method: 'code', identifier: credentials.identifier, code: await credentials.code()})
    }
    if (res.status !== 200) return refusedOrInvalid(res)
    const body = res.body as {session?: unknown; session_token?: unknown}
    const session = sessionView(body.session)
    if (!session) return {result: 'refused', reason: 'Kratos answered the login without a session'}
    if (o.flow === 'api') return {result: 'ok', session, ...(typeof body.session_token === 'string' ? {sessionToken: body.session_token} : {})}
    return {result: 'ok', session, cookies: [...jar.values()]}
  }

  /** The session behind a token or a Cookie header (`GET /sessions/whoami`); undefined when Kratos does not know it. */
  async whoami(credential: {sessionToken: string} | {cookie: string}): Promise<SessionView | undefined> {
    const headers: Record<string, string> = 'sessionToken' in credential ? {'x-session-token': credential.sessionToken} : {cookie: credential.cookie}
    const res = await this.http.call('GET', '/sessions/whoami', {headers})
    if (res.status === 401 || res.status === 403) return undefined
    if (res.status !== 200) throw this.http.httpError(res, 'asking for the session (whoami)')
    const session = sessionView(res.body)
    if (!session) throw new IamError('ORY_BAD_RESPONSE', 'Kratos answered whoami with something that is not a session.', {exitCode: ExitCode.Environment})
    return session
  }

  async close(): Promise<void> {
    await this.http.close()
  }
}

function refusedOrInvalid(res: OryResponse): LoginOutcome {
  if (res.status === 400 && messageIds(res.body).some((id) => INVALID_CREDENTIALS_IDS.includes(id))) return {result: 'invalid-credentials'}
  return {result: 'refused', reason: `status ${res.status}${describe(res.body)}`}
}

function csrfToken(flow: unknown): string {
  const nodes = (flow as {ui?: {nodes?: {attributes?: {name?: unknown; value?: unknown}}[]}} | undefined)?.ui?.nodes ?? []
  const value = nodes.find((n) => n.attributes?.name === 'csrf_token')?.attributes?.value
  return typeof value === 'string' ? value : ''
}

/** The cookies of a response's Set-Cookie headers (undici's parser). */
function flowCookies(headers: OryResponse['headers']): FlowCookie[] {
  const raw = headers['set-cookie']
  if (raw === undefined) return []
  const h = new Headers()
  for (const line of Array.isArray(raw) ? raw : [raw]) h.append('set-cookie', line)
  const now = Math.floor(Date.now() / 1000)
  return getSetCookies(h).map((c) => ({
    name: c.name,
    value: c.value,
    path: c.path ?? '/',
    secure: c.secure ?? false,
    httpOnly: c.httpOnly ?? false,
    expires: c.maxAge !== undefined ? now + c.maxAge : c.expires ? Math.floor(new Date(c.expires).getTime() / 1000) : 0,
  }))
}

function sessionView(value: unknown): SessionView | undefined {
  const s = value as {id?: unknown; active?: unknown; expires_at?: unknown; authenticated_at?: unknown; authenticator_assurance_level?: unknown; authentication_methods?: {method?: unknown}[]; identity?: {id?: unknown; traits?: unknown; metadata_public?: unknown}} | undefined
  if (!s || typeof s.id !== 'string' || typeof s.identity?.id !== 'string') return undefined
  const meta = s.identity.metadata_public
  return {
    id: s.id,
    active: s.active === true,
    ...(typeof s.expires_at === 'string' ? {expiresAt: s.expires_at} : {}),
    ...(typeof s.authenticated_at === 'string' ? {authenticatedAt: s.authenticated_at} : {}),
    methods: (s.authentication_methods ?? []).map((m) => m.method).filter((m): m is string => typeof m === 'string'),
    ...(typeof s.authenticator_assurance_level === 'string' ? {aal: s.authenticator_assurance_level} : {}),
    identity: {
      id: s.identity.id,
      traits: s.identity.traits && typeof s.identity.traits === 'object' ? (s.identity.traits as Record<string, unknown>) : {},
      metadataPublic: meta && typeof meta === 'object' && !Array.isArray(meta) ? (meta as Record<string, unknown>) : null,
    },
  }
}

/** The ids of a flow's UI messages (the flow's own and each node's). */
function messageIds(body: unknown): number[] {
  const ui = (body as {ui?: {messages?: {id?: unknown}[]; nodes?: {messages?: {id?: unknown}[]}[]}} | undefined)?.ui
  const all = [...(ui?.messages ?? []), ...(ui?.nodes ?? []).flatMap((n) => n.messages ?? [])]
  return all.map((m) => m.id).filter((id): id is number => typeof id === 'number')
}

function describe(body: unknown): string {
  const ui = (body as {ui?: {messages?: {text?: unknown}[]}} | undefined)?.ui
  const text = ui?.messages?.map((m) => m.text).find((t): t is string => typeof t === 'string') ?? errorReason(body)
  return text ? `: ${text}` : ''
}

function normalize(value: unknown): Identity {
  if (!value || typeof value !== 'object' || typeof (value as {id?: unknown}).id !== 'string') {
    throw new IamError('ORY_BAD_RESPONSE', 'Kratos answered with something that is not an identity.', {exitCode: ExitCode.Environment})
  }
  const v = value as Identity
  const meta = v.metadata_public
  return {...v, traits: v.traits ?? {}, metadata_public: meta && typeof meta === 'object' && !Array.isArray(meta) ? meta : null}
}

/** Extracts page_token from an RFC 8288 Link header's rel="next" entry. */
export function nextPageToken(link: string | string[] | undefined): string | undefined {
  if (!link) return undefined
  for (const header of Array.isArray(link) ? link : [link]) {
    for (const part of header.split(/,(?=\s*<)/)) {
      const m = /<([^>]*)>\s*;(.*)$/.exec(part.trim())
      if (!m || !/\brel="?next"?/.test(m[2] ?? '')) continue
      try {
        const token = new URL(m[1] ?? '', 'http://x').searchParams.get('page_token')
        if (token) return token
      } catch {
        // a malformed link is treated as "no next page"
      }
    }
  }
  return undefined
}

function validationMessages(body: unknown): string[] | undefined {
  const ui = (body as {ui?: {nodes?: {messages?: {text?: string}[]}[]}} | undefined)?.ui
  const msgs = ui?.nodes?.flatMap((n) => n.messages ?? []).map((m) => m.text ?? '').filter(Boolean)
  return msgs && msgs.length > 0 ? msgs : undefined
}
