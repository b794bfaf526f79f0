/**
 * Oathkeeper: oathkeeper.yml and the access rules, one rule per iam.yaml route. Pure functions of the config.
 *
 * Design choices (each verified against the real Oathkeeper v26.2.0 in test/project/*.real.test.ts and test/gateway/):
 * - Matching strategy regexp, although iam.yaml matches are written in Oathkeeper's glob syntax: a `{param}` is one
 *   non-empty path segment, which may contain dots (`acme.com`, `report.pdf`), and Oathkeeper's glob strategy cannot
 *   say that (it compiles globs with `.` and `/` as separators, so `*` stops at a dot, and `<[^/]+>` is not a glob).
 *   src/config/match.ts converts each match exactly (glob parts keep their meaning; `{param}` → `<[^/]+>`), and the
 *   regexp strategy fills `.MatchContext.RegexpCaptureGroups`, from which an anyOf check's `{param}` is read with
 *   `printIndex` — the segment of the same decoded path the rule matched.
 * - `roles` routes are enforced without Keto and without a network hop: the session authenticators' `subject_from`
 *   (a GJSON path over Kratos' whoami answer) yields the identity id only when `identity.metadata_public.roles` holds
 *   one of the roles, and the JSON `true` otherwise; Oathkeeper refuses a non-string subject with 403 Forbidden.
 *   The roles are read from the live session on every request, so a revoked role is refused at once.
 * - `anyOf` routes use the `remote_json` authorizer against batch-auth (200 allow, 403 deny, anything else fails).
 * - id_token claims carry `jti: {{ uuidv4 }}`: Oathkeeper caches minted tokens keyed by the rendered claims, so a
 *   per-request claim makes every request get a fresh token with a unique jti (the mutator then sets jti itself too).
 * - The JWKS is re-read every OATHKEEPER_JWKS_TTL (`authenticators.jwt.config.jwks_ttl`, which configures the
 *   fetcher shared with the id_token mutator), so a rotated key is used within that time without a restart.
 */
import {matchUrl, ORY_PATH, UI_PATH} from '../config/addresses.js'
import {usesBuiltInUi} from '../config/browser.js'
import type {HttpMethod, IamConfig, RouteConfig} from '../config/model.js'
import {HTTP_METHODS} from '../config/schema.js'
import {formatDuration} from '../config/duration.js'
import {toOathkeeperRegexp} from '../config/match.js'
import {ORY_SPECS} from '../ory/servers.js'
import {SERVER_RELATIVE} from '../project/layout.js'
import {joinUrl, jsonDocument, loopback, renderError, yamlDocument} from './common.js'

/** How long Oathkeeper keeps a fetched JWKS before reading the file again (key rotation pickup bound). */
export const OATHKEEPER_JWKS_TTL_MS = 5_000
/** Path of batch-auth's check endpoint. */
export const BATCH_AUTH_CHECK_PATH = '/check'

export interface OathkeeperTarget {
  /** Base URL of Kratos' public API as Oathkeeper reaches it. Default loopback. */
  kratosPublicUrl?: string
  /** Base URL of batch-auth as Oathkeeper reaches it. Default loopback. */
  batchAuthUrl?: string
  /** Base URL of Hydra's admin API (introspection) as Oathkeeper reaches it. Default loopback. */
  hydraAdminUrl?: string
}

function whoamiUrl(config: IamConfig, target: OathkeeperTarget): string {
  return joinUrl(target.kratosPublicUrl ?? loopback(config.ports.kratosPublic), '/sessions/whoami')
}

/** URL of batch-auth's check endpoint. */
export function batchAuthCheckUrl(config: IamConfig, target: OathkeeperTarget = {}): string {
  return joinUrl(target.batchAuthUrl ?? loopback(config.ports.batchAuth), BATCH_AUTH_CHECK_PATH)
}

function noTemplate(value: string, what: string): string {
  if (value.includes('{{') || value.includes('}}')) throw renderError(`${what} must not contain "{{" or "}}": ${value}`)
  return value
}

/** Go template producing the roles of the session as a JSON list (`[]` for anonymous or role-less sessions). */
const ROLES_TEMPLATE =
  '{{ $roles := list }}{{ with .Extra }}{{ with .identity }}{{ with .metadata_public }}{{ with .roles }}{{ $roles = . }}' +
  '{{ end }}{{ end }}{{ end }}{{ end }}{{ toJson $roles }}'

/**
 * The id_token claims template: `aud` (when given), a per-request `jti`, and `roles` from the session's
 * metadata_public when roles are enabled. `iss`, `sub`, `iat`, `nbf`, `exp` are set by the mutator itself.
 */
const EMAIL_TEMPLATE =
  '{{ $email := "" }}{{ with .Extra }}{{ with .identity }}{{ with .traits }}{{ with .email }}{{ $email = . }}' +
  '{{ end }}{{ end }}{{ end }}{{ end }}{{ toJson $email }}'

/**
 * A machine client's claims, from Oathkeeper's introspection session: `.Extra` holds Hydra's `client_id` and `scope`
 * and the access token's extra claims, where `iam serve client-claims` put the client's `metadata`. `sub` (set by
 * the mutator) is the client id. `type: machine` is set here, by the gateway: a token's claims cannot forge it.
 */
const MACHINE_CLAIMS =
  '"type":"machine","client_id":{{ toJson .Extra.client_id }},"scope":{{ toJson .Extra.scope }},' +
  '"metadata":{{ $metadata := dict }}{{ with .Extra.metadata }}{{ $metadata = . }}{{ end }}{{ toJson $metadata }}'

/** Which callers a rule's claims describe: sessions, machine clients, or either (decided per request). */
export type ClaimsSubject = 'none' | 'session' | 'client' | 'session-or-client'

export function idTokenClaimsTemplate(config: IamConfig, audience?: string, o: {subject?: ClaimsSubject} = {}): string {
  const parts: string[] = []
  if (audience !== undefined) parts.push(`"aud":[${JSON.stringify(noTemplate(audience, 'A route audience'))}]`)
  parts.push('"jti":"{{ uuidv4 }}"')
  const session: string[] = []
  // The signed-in user's email, so an app can greet them without asking Kratos (session routes only).
  if (o.subject === 'session' || o.subject === 'session-or-client') session.push(`"email":${EMAIL_TEMPLATE}`)
  if (config.roles.enabled) session.push(`"roles":${ROLES_TEMPLATE}`)
  if (o.subject === 'client') parts.push(MACHINE_CLAIMS)
  else if (o.subject === 'session-or-client') {
    // Introspection (a client) fills .Extra.client_id; Kratos' whoami answer (a session) has no such key.
    parts.push(`{{ if .Extra.client_id }}${MACHINE_CLAIMS}{{ else }}${session.join(',') || '"type":"user"'}{{ end }}`)
  } else parts.push(...session)
  return `{${parts.join(',')}}`
}

/** oathkeeper.yml for the native runtime (loopback URLs, paths relative to ory/oathkeeper/). */
export function renderOathkeeperConfig(config: IamConfig, o: {rulesLocation?: string} = {}): string {
  return yamlDocument(oathkeeperConfigObject(config, {rulesLocation: o.rulesLocation}))
}

/** A Hydra access token (opaque, `ory_at_…`); Kratos session tokens are `ory_st_…`. */
export const HYDRA_ACCESS_TOKEN_PREFIX = 'ory_at_'
/** The part of a Kratos session token that tells it from a Hydra access token. */
export const KRATOS_SESSION_TOKEN_PREFIX = 'ory_st_'

/**
 * The oauth2_introspection authenticator against Hydra's admin API: only `ory_at_` tokens, only from Hydra's issuer,
 * scopes compared exactly (a missing one is 403), answers kept for hydra.introspectionCache (the revocation bound).
 */
function introspectionConfig(config: IamConfig, target: OathkeeperTarget): Record<string, unknown> {
  const cacheMs = config.hydra.introspectionCacheMs
  return {
    introspection_url: joinUrl(target.hydraAdminUrl ?? loopback(config.ports.hydraAdmin), '/admin/oauth2/introspect'),
    prefix: HYDRA_ACCESS_TOKEN_PREFIX,
    scope_strategy: 'exact',
    trusted_issuers: [config.hydra.publicUrl.replace(/\/?$/, '/')],
    cache: cacheMs > 0 ? {enabled: true, ttl: formatDuration(cacheMs)} : {enabled: false},
    retry: {max_delay: '300ms', give_up_after: '0s'},
  }
}

export function oathkeeperConfigObject(config: IamConfig, o: OathkeeperTarget & {rulesLocation?: string} = {}): Record<string, unknown> {
  const sessionConfig = {
    check_session_url: whoamiUrl(config, o),
    preserve_path: true,
    extra_from: '@this',
    subject_from: 'identity.id',
  }
  return {
    serve: {
      proxy: {host: '127.0.0.1', port: config.ports.oathkeeperProxy},
      api: {host: '127.0.0.1', port: config.ports.oathkeeperApi},
      // The Prometheus endpoint defaults to :9000 on all interfaces, which collides with a second stack (and with
      // common local services): loopback, on a port of iam.yaml's.
      prometheus: {host: '127.0.0.1', port: config.ports.oathkeeperMetrics},
    },
    access_rules: {
      matching_strategy: 'regexp',
      repositories: [o.rulesLocation ?? SERVER_RELATIVE.oathkeeperRules],
    },
    errors: {
      fallback: ['json'],
      handlers: {json: {enabled: true, config: {verbose: false}}},
    },
    authenticators: {
      anonymous: {enabled: true, config: {subject: 'guest'}},
      noop: {enabled: true},
      cookie_session: {enabled: true, config: {...sessionConfig, only: ['ory_kratos_session']}},
      bearer_token: {enabled: true, config: sessionConfig},
      // Disabled as an authenticator; its jwks_ttl configures the JWKS fetcher the id_token mutator shares.
      jwt: {enabled: false, config: {jwks_urls: [SERVER_RELATIVE.jwks], jwks_ttl: formatDuration(OATHKEEPER_JWKS_TTL_MS)}},
      ...(config.hydra.enabled ? {oauth2_introspection: {enabled: true, config: introspectionConfig(config, o)}} : {}),
    },
    authorizers: {
      allow: {enabled: true},
      deny: {enabled: true},
      remote_json: {
        enabled: true,
        config: {
          remote: batchAuthCheckUrl(config, o),
          payload: '{"tuples":[]}',
          // give_up_after is the longest back-off between Oathkeeper's 4 retries of a 5xx (not a total): at 1s a dead
          // Keto cost every request 4 s before the 500. batch-auth answers at once or at its own deadline, so waiting
          // between retries buys nothing.
          retry: {max_delay: '300ms', give_up_after: '0s'},
        },
      },
    },
    mutators: {
      noop: {enabled: true},
      header: {enabled: true, config: {headers: {'X-User': '{{ print .Subject }}'}}},
      id_token: {
        enabled: true,
        config: {
          issuer_url: config.tokens.issuer,
          jwks_url: SERVER_RELATIVE.jwks,
          ttl: formatDuration(config.tokens.ttlMs),
          claims: idTokenClaimsTemplate(config),
        },
      },
    },
  }
}

// ---- routes → rules -------------------------------------------------------------------------------------------

/**
 * Oathkeeper matches, and fills the capture groups from, the *decoded* path, but forwards the path as the client
 * encoded it: `/tenants/acme%2Fglobex/x` is matched as tenant `acme` while the upstream receives one segment
 * `acme%2Fglobex` (`acme/globex` once decoded). So a check whose object comes from a `{param}` is made against the
 * path as forwarded whenever it holds an encoded slash — an object no tuple grants, so the request is refused —
 * and a `{param}` never authorizes more than the one segment the upstream sees.
 */
const ENCODED_SLASH = '(regexMatch "(?i)%2f" .MatchContext.URL.EscapedPath)'
const FORWARDED_PATH = '.MatchContext.URL.EscapedPath'

/** Go template (inside a JSON document) producing the JSON string of a check's object. */
function objectTemplate(route: RouteConfig, object: string, params: Record<string, number>): string {
  noTemplate(object, `Route ${route.id}: an anyOf object`)
  const pieces = object.split(/(\{[A-Za-z_][A-Za-z0-9_]*\})/).filter((piece) => piece !== '')
  if (!pieces.some((piece) => /^\{.*\}$/.test(piece))) return JSON.stringify(object)
  const args = pieces.map((piece) => {
    const name = /^\{(.*)\}$/.exec(piece)?.[1]
    if (name === undefined) return JSON.stringify(piece)
    const index = params[name]
    if (index === undefined) {
      throw renderError(`Route ${route.id}: anyOf object "${object}" uses {${name}}, which the match does not define.`, {route: route.id})
    }
    return `(printIndex .MatchContext.RegexpCaptureGroups ${index})`
  })
  const fromParams = args.length === 1 ? args[0]! : `printf ${JSON.stringify('%s'.repeat(args.length))} ${args.join(' ')}`
  return `{{ if ${ENCODED_SLASH} }}{{ ${FORWARDED_PATH} | toJson }}{{ else }}{{ ${fromParams} | toJson }}{{ end }}`
}

/** The remote_json payload for an anyOf route: batch-auth's body, one tuple per check, subject = the session. */
export function anyOfPayload(route: RouteConfig): string {
  const {params} = toOathkeeperRegexp(route.match)
  const tuples = (route.authorization?.anyOf ?? []).map(
    (check) =>
      `{"namespace":${JSON.stringify(noTemplate(check.namespace, 'A namespace'))},"object":${objectTemplate(route, check.object, params)},` +
      `"relation":${JSON.stringify(noTemplate(check.relation, 'A relation'))},"subject_id":{{ toJson .Subject }}}`,
  )
  return `{"tuples":[${tuples.join(',')}]}`
}

/**
 * GJSON path over Kratos' whoami answer: the identity id when the identity has any of `roles` in
 * metadata_public.roles, else `true` (a non-string subject, which Oathkeeper answers with 403).
 */
export function rolesSubjectFrom(roles: string[]): string {
  const candidates = roles.map((role) => `[@this].#(identity.metadata_public.roles.#(==${JSON.stringify(role)}))#.identity.id`)
  return `[${[...candidates, 'active'].join(',')}]|@flatten|0`
}

export interface OathkeeperRule {
  id: string
  version: string
  description: string
  match: {url: string; methods: HttpMethod[]}
  upstream: {url: string; preserve_host: boolean; strip_path?: string}
  authenticators: {handler: string; config?: Record<string, unknown>}[]
  authorizer: {handler: string; config?: Record<string, unknown>}
  mutators: {handler: string; config?: Record<string, unknown>}[]
}

/** A route's introspection step: its required scopes on top of the shared config. */
function introspection(route: RouteConfig): OathkeeperRule['authenticators'][number] {
  return {handler: 'oauth2_introspection', ...(route.scopes ? {config: {required_scope: [...route.scopes]}} : {})}
}

export function routeToRule(config: IamConfig, route: RouteConfig, o: {upstream?: string} = {}): OathkeeperRule {
  const roles = route.authorization?.roles ?? []
  const anyOf = route.authorization?.anyOf ?? []
  if (route.auth === 'anonymous' && (roles.length > 0 || anyOf.length > 0)) {
    throw renderError(`Route ${route.id}: an anonymous route cannot require roles or permissions.`, {route: route.id})
  }
  if (roles.length > 0 && anyOf.length > 0) {
    throw renderError(`Route ${route.id}: use either authorization.roles or authorization.anyOf, not both.`, {route: route.id})
  }
  let authenticators: OathkeeperRule['authenticators']
  // anonymous steps aside ("not responsible") when a request carries Authorization, valid or not; noop then lets it
  // through, so clients that always send their token can use public routes. Credentials are never checked here: an
  // expired session must not lock anyone out of a public page.
  if (route.auth === 'anonymous') authenticators = [{handler: 'anonymous'}, {handler: 'noop'}]
  else if (route.auth === 'client') authenticators = [introspection(route)]
  else if (route.auth === 'session-or-client') {
    // The bearer token's prefix picks the authenticator: an authenticator that refuses a token ends the chain, so
    // Kratos must never see a Hydra token nor Hydra a session token.
    authenticators = [{handler: 'cookie_session'}, {handler: 'bearer_token', config: {prefix: KRATOS_SESSION_TOKEN_PREFIX}}, introspection(route)]
  } else {
    const override = roles.length > 0 ? {config: {subject_from: rolesSubjectFrom(roles)}} : {}
    authenticators = [
      {handler: 'cookie_session', ...override},
      {handler: 'bearer_token', ...override},
    ]
  }
  const authorizer: OathkeeperRule['authorizer'] = anyOf.length > 0 ? {handler: 'remote_json', config: {payload: anyOfPayload(route)}} : {handler: 'allow'}
  const upstream: OathkeeperRule['upstream'] = {url: o.upstream ?? route.upstream, preserve_host: false}
  if (route.stripPath) upstream.strip_path = route.stripPath
  const what = roles.length > 0 ? `roles any of ${roles.join(', ')}` : anyOf.length > 0 ? `any of ${anyOf.length} Keto check(s)` : 'no authorization'
  return {
    id: route.id,
    version: ORY_SPECS.oathkeeper.version,
    description: `iam route ${route.id}: ${route.auth}, ${what}, id_token for ${route.audience}`,
    match: {url: toOathkeeperRegexp(route.match).url, methods: [...route.methods]},
    upstream,
    authenticators,
    authorizer,
    mutators: [{handler: 'id_token', config: {claims: idTokenClaimsTemplate(config, route.audience, {subject: route.auth === 'anonymous' ? 'none' : route.auth})}}],
  }
}

/** Ids of the gateway's own browser rules (anonymous by design; `iam doctor --production` knows them). */
export const BROWSER_RULE_IDS = ['iam-ory', 'iam-ui'] as const

/** Where the gateway forwards the browser paths: Kratos' public API and the built-in pages (loopback natively). */
export interface BrowserUpstreams {
  kratosPublic: string
  ui: string
}

/**
 * The gateway's own rules for the browser, on the gateway's origin: `/.ory/…` → Kratos' public API (prefix
 * stripped) and, with the built-in pages, `/ui/…` → `iam serve ui`. Both anonymous and `noop` (Kratos and the pages
 * read the session cookie themselves; an id_token header would only confuse Kratos), never a session check.
 */
export function browserRules(config: IamConfig, upstreams: BrowserUpstreams): OathkeeperRule[] {
  const rule = (id: string, path: string, upstream: OathkeeperRule['upstream'], what: string): OathkeeperRule => ({
    id,
    version: ORY_SPECS.oathkeeper.version,
    description: `iam: ${what}`,
    match: {url: toOathkeeperRegexp(matchUrl(config.gateway.publicUrl, `${path}<**>`)).url, methods: [...HTTP_METHODS]},
    upstream,
    authenticators: [{handler: 'anonymous'}, {handler: 'noop'}],
    authorizer: {handler: 'allow'},
    mutators: [{handler: 'noop'}],
  })
  const rules = [rule(BROWSER_RULE_IDS[0], ORY_PATH, {url: upstreams.kratosPublic, preserve_host: false, strip_path: ORY_PATH.slice(0, -1)}, "Kratos' public API for browsers")]
  if (usesBuiltInUi(config)) rules.push(rule(BROWSER_RULE_IDS[1], UI_PATH, {url: upstreams.ui, preserve_host: false}, 'the built-in sign-in pages'))
  return rules
}

/**
 * rules.json: one rule per route, in iam.yaml order. Disjointness of the matches is checked when iam.yaml is loaded
 * (src/config/validate.ts): Oathkeeper answers 500 when two rules match one request.
 */
export function renderOathkeeperRules(config: IamConfig, o: {upstream?: (url: string) => string; browser?: BrowserUpstreams} = {}): string {
  const browser = o.browser ?? {kratosPublic: loopback(config.ports.kratosPublic), ui: loopback(config.ports.ui)}
  return jsonDocument([...config.routes.map((route) => routeToRule(config, route, {upstream: o.upstream?.(route.upstream)})), ...browserRules(config, browser)])
}
