import {isLoopbackUrl, isMatchPath, matchPathBelow, ORY_PATH, originOf, portOf, UI_PATH} from './addresses.js'
import {usesBuiltInUi} from './browser.js'
import {formatDuration} from './duration.js'
import {findEnvRefs, hasEnvRefs, malformedEnvRef} from './env.js'
import {didYouMean, formatPath, type ConfigPath, type RawIssue} from './issues.js'
import {MatchSyntaxError, overlapWitness, parseRouteMatch, uncleanPathProblem, type ParsedMatch} from './match.js'
import type {IamConfig, NamespaceConfig} from './model.js'
import type {RawConfig} from './raw.js'
import {ORY_VERSION} from '../ory/servers.js'
import {parseSeedTuple, TupleSyntaxError} from '../ory/tuple-text.js'
import {FETCH_BLOCKED_PORTS} from '../util/ports.js'

/**
 * Fields where `${VAR}` is allowed: secrets and URLs (which often differ per machine or carry credentials).
 * `*` stands for any list index. Everywhere else a reference is an error: route matches, ports and names must be
 * static so iam can check them.
 */
export const ENV_REF_FIELDS = [
  'kratos.publicUrl',
  'kratos.uiUrl',
  'kratos.allowedReturnUrls[*]',
  'kratos.smtpUrl',
  'tokens.issuer',
  'routes[*].upstream',
  'seed.identities[*].password',
  'seed.clients[*].secret',
  'database.urls.kratos',
  'database.urls.keto',
  'database.urls.hydra',
] as const

const KRATOS_MIN_PASSWORD = 8

function fieldPattern(path: ConfigPath): string {
  return formatPath(path.map((s) => (typeof s === 'number' ? -1 : s))).replace(/\[-1\]/g, '[*]')
}

/** Cross-field rules the JSON schema cannot express. `raw` has passed the schema; `config` is its resolved model. */
export function semanticIssues(raw: RawConfig, config: IamConfig): RawIssue[] {
  const issues: RawIssue[] = []
  envRefIssues(raw, [], issues)
  portIssues(raw, config, issues)
  urlIssues(config, issues)
  addressIssues(raw, config, issues)
  ttlIssues(config, issues)
  if (config.oryVersion !== ORY_VERSION) {
    issues.push({
      path: ['oryVersion'],
      message: `iam runs Ory ${ORY_VERSION} in every runtime (the native binaries and the compose images are one version); ${config.oryVersion} is not it`,
      allowed: [ORY_VERSION, 'leave oryVersion out'],
    })
  }
  if (!config.kratos.methods.password && !config.kratos.methods.code) {
    issues.push({path: ['kratos', 'methods'], message: 'enable at least one login method', allowed: ['password: true', 'code: true']})
  }
  raw.keto?.namespaces?.forEach((ns, i) => {
    for (const relation of Object.keys(ns.subjects ?? {})) {
      if (!(ns.relations ?? []).includes(relation)) {
        issues.push({path: ['keto', 'namespaces', i, 'subjects', relation], at: 'key', message: `"${relation}" is not one of this namespace's relations`, allowed: ns.relations ?? []})
      }
    }
  })
  const namespaces = namespaceIssues(config, issues)
  roleIssues(config, namespaces, issues)
  routeIssues(raw, config, namespaces, issues)
  reservedPathIssues(config, issues)
  seedIssues(config, namespaces, issues)
  return issues
}

function envRefIssues(value: unknown, path: ConfigPath, issues: RawIssue[]): void {
  if (typeof value === 'string') {
    const bad = malformedEnvRef(value)
    if (bad !== undefined) {
      issues.push({path, message: `malformed environment reference near "${bad}"`, allowed: ['${NAME}', '${NAME:-default}', '$${ for a literal ${']})
    } else if (hasEnvRefs(value) && !(ENV_REF_FIELDS as readonly string[]).includes(fieldPattern(path))) {
      const names = findEnvRefs(value).map((r) => r.name)
      issues.push({path, message: `environment references (\${${names.join('}, ${')}}) are only allowed in secret and URL fields`, allowed: [...ENV_REF_FIELDS]})
    }
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => envRefIssues(v, [...path, i], issues))
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) envRefIssues(v, [...path, k], issues)
  }
}

function portIssues(raw: RawConfig, config: IamConfig, issues: RawIssue[]): void {
  const owner = new Map<number, string>()
  const explicit = new Set(Object.keys(raw.ports ?? {}))
  // Explicit ports first so a clash with a default is reported on the line the user wrote.
  const keys = [...Object.keys(config.ports).filter((k) => !explicit.has(k)), ...explicit]
  for (const key of keys) {
    const port = config.ports[key as keyof IamConfig['ports']]
    // SMTP is not fetched; every other port serves HTTP to browsers, health checks and fetch.
    if (key !== 'mailSmtp' && FETCH_BLOCKED_PORTS.has(port)) {
      issues.push({path: ['ports', key], message: `port ${port} is one browsers and fetch refuse to connect to (the Fetch standard's "bad ports"); pick another, e.g. ${port + 1}`})
    }
    const other = owner.get(port)
    if (other === undefined) owner.set(port, key)
    else {
      const at = explicit.has(key) ? key : other
      const clash = at === key ? other : key
      issues.push({path: ['ports', at], message: `port ${port} is also used by ports.${clash}${explicit.has(clash) ? '' : ' (default)'}; every service needs its own port`})
    }
  }
}

function checkUrl(value: string, path: ConfigPath, protocols: string[], issues: RawIssue[]): void {
  if (value.includes('${')) return
  let url: URL
  try {
    url = new URL(value)
  } catch {
    issues.push({path, message: `${JSON.stringify(value)} is not a URL`, allowed: protocols.map((p) => `${p}//…`)})
    return
  }
  if (!protocols.includes(url.protocol)) {
    issues.push({path, message: `${JSON.stringify(value)} uses ${url.protocol.slice(0, -1)}`, allowed: protocols.map((p) => `${p}//…`)})
  }
}

const HTTP = ['http:', 'https:']

function urlIssues(config: IamConfig, issues: RawIssue[]): void {
  checkUrl(config.kratos.publicUrl, ['kratos', 'publicUrl'], HTTP, issues)
  checkUrl(config.kratos.uiUrl, ['kratos', 'uiUrl'], HTTP, issues)
  config.kratos.allowedReturnUrls.forEach((u, i) => checkUrl(u, ['kratos', 'allowedReturnUrls', i], HTTP, issues))
  checkUrl(config.kratos.smtpUrl, ['kratos', 'smtpUrl'], ['smtp:', 'smtps:'], issues)
  checkUrl(config.tokens.issuer, ['tokens', 'issuer'], HTTP, issues)
  if (!/^[^\s@]+@[^\s@]+$/.test(config.kratos.fromAddress)) {
    issues.push({path: ['kratos', 'fromAddress'], message: `${JSON.stringify(config.kratos.fromAddress)} is not an email address`})
  }
  config.routes.forEach((r, i) => checkUrl(r.upstream, ['routes', i, 'upstream'], HTTP, issues))
  for (const [server, dsn] of Object.entries(config.database.urls ?? {})) checkUrl(dsn, ['database', 'urls', server], ['postgres:', 'postgresql:'], issues)
  if (config.database.urls && config.hydra.enabled && config.database.urls.hydra === undefined) {
    issues.push({path: ['database', 'urls'], at: 'key', message: 'Hydra (hydra.enabled) keeps its clients and tokens in a database of its own: add its URL', allowed: ['hydra: ${HYDRA_DSN}']})
  }
}

const DAY_MS = 24 * 60 * 60 * 1000

function ttlIssues(config: IamConfig, issues: RawIssue[]): void {
  const {ttlMs} = config.tokens
  if (ttlMs < 1000 || ttlMs > DAY_MS) {
    issues.push({
      path: ['tokens', 'ttl'],
      message: ttlMs < 1000 ? `${formatDuration(ttlMs)}: an id_token that expires before it reaches the service is refused by every verifier` : `${formatDuration(ttlMs)} is beyond a day: a stolen id_token would stay valid that long, and a retired signing key stays published ttl + clockSkew + jwksRefresh`,
      allowed: ['60s (the default)', 'a duration from 1s to 24h'],
    })
  }
}

/**
 * One source for addresses: an explicit URL that names this machine must name the port the service it points at
 * listens on (an older iam.yaml kept the default ports in its URLs after ports: moved), and a route's full-URL match
 * must lie below the gateway's public URL (Oathkeeper matches a rule only when host:port are the request's).
 */
function addressIssues(raw: RawConfig, config: IamConfig, issues: RawIssue[]): void {
  const {ports} = config
  const gateway = config.gateway.publicUrl
  if (raw.gateway?.publicUrl !== undefined) {
    checkUrl(gateway, ['gateway', 'publicUrl'], HTTP, issues)
    const parsed = safeUrl(gateway)
    if (parsed && (parsed.search !== '' || parsed.hash !== '' || /[<>{}*]/.test(gateway))) {
      issues.push({path: ['gateway', 'publicUrl'], message: `${JSON.stringify(gateway)} must be a base URL: scheme, host, port and an optional path prefix, nothing else`})
    } else if (parsed && isLoopbackUrl(gateway) && portOf(gateway) !== ports.oathkeeperProxy) {
      issues.push({
        path: ['gateway', 'publicUrl'],
        message: `names port ${portOf(gateway)} on this machine, but the gateway listens on ports.oathkeeperProxy (${ports.oathkeeperProxy})`,
        allowed: ['remove gateway.publicUrl (it follows ports.oathkeeperProxy)', 'a public URL for a real domain (e.g. https://api.example.com)'],
      })
    }
  }
  const stale = (path: ConfigPath, value: string | undefined, expected: number[], owner: string, fix: string[]): void => {
    if (value === undefined || hasEnvRefs(value) || !isLoopbackUrl(value)) return
    const port = portOf(value)
    if (port === undefined || expected.includes(port)) return
    issues.push({path, message: `names port ${port} on this machine, but ${owner} listens on ${expected.map((p) => String(p)).join(' or ')}`, allowed: fix})
  }
  stale(['kratos', 'publicUrl'], raw.kratos?.publicUrl, [ports.kratosPublic, ports.oathkeeperProxy], `Kratos' public API (ports.kratosPublic)`, [
    'remove kratos.publicUrl (it follows ports.kratosPublic)',
    'a public URL for a real domain',
  ])
  stale(['kratos', 'smtpUrl'], raw.kratos?.smtpUrl, [ports.mailSmtp], 'the bundled mail catcher (ports.mailSmtp)', [
    'remove kratos.smtpUrl (it follows ports.mailSmtp)',
    'your own SMTP server as ${SMTP_URL}',
  ])
  stale(['tokens', 'issuer'], raw.tokens?.issuer, [ports.oathkeeperProxy], 'the gateway (ports.oathkeeperProxy)', [
    'remove tokens.issuer (it follows gateway.publicUrl)',
    'the public URL of a real domain',
  ])
  raw.routes?.forEach((route, i) => {
    if (typeof route.match !== 'string' || isMatchPath(route.match)) return
    const origin = originOf(route.match)
    // No origin, or the gateway itself without a path: the match parser names that problem.
    if (origin === undefined || route.match === gateway || matchPathBelow(gateway, route.match) !== undefined) return
    const path = route.match.slice(origin.length) || '/'
    issues.push({
      path: ['routes', i, 'match'],
      message: `names ${origin}, but the gateway's public URL is ${gateway}${raw.gateway?.publicUrl === undefined ? ' (from ports.oathkeeperProxy)' : ' (gateway.publicUrl)'}: Oathkeeper would never match this rule`,
      allowed: [`match: ${path} (a path; the host part follows gateway.publicUrl)`],
    })
  })
}

/** The gateway serves Kratos under /.ory/ and the built-in pages under /ui/: a route there would shadow them. */
function reservedPathIssues(config: IamConfig, issues: RawIssue[]): void {
  const reserved = [ORY_PATH, ...(usesBuiltInUi(config) ? [UI_PATH] : [])]
  config.routes.forEach((route, i) => {
    const path = matchPathBelow(config.gateway.publicUrl, route.match)
    const clash = path === undefined ? undefined : reserved.find((r) => path === r.slice(0, -1) || path.startsWith(r) || path.startsWith(`${r.slice(0, -1)}<`))
    if (clash) {
      issues.push({path: ['routes', i, 'match'], message: `${path} is below ${clash}, where the gateway serves ${clash === ORY_PATH ? "Kratos' public API" : 'the built-in sign-in pages'}`, allowed: ['a path outside /.ory/ and /ui/']})
    }
  })
}

function safeUrl(text: string): URL | undefined {
  try {
    return new URL(text)
  } catch {
    return undefined
  }
}

type NamespaceIndex = Map<string, NamespaceConfig>

function namespaceIssues(config: IamConfig, issues: RawIssue[]): NamespaceIndex {
  const index: NamespaceIndex = new Map()
  config.keto.namespaces.forEach((ns, i) => {
    if (index.has(ns.name)) issues.push({path: ['keto', 'namespaces', i, 'name'], message: `namespace "${ns.name}" is declared twice`})
    else index.set(ns.name, ns)
  })
  config.keto.namespaces.forEach((ns, i) => {
    for (const relation of Object.keys(ns.subjects ?? {})) {
      const types = ns.subjects?.[relation] ?? []
      types.forEach((type, k) => {
        const [name, rel] = type.split('#') as [string, string | undefined]
        const path = ['keto', 'namespaces', i, 'subjects', relation, k]
        const target = index.get(name)
        if (!target) {
          const declared = [...index.keys()]
          const hint = name === 'User' ? ' (subjects of a relation default to [User]; declare subjects or a User namespace)' : didYouMean(name, declared)
          issues.push({path, message: `subject type "${name}" of relation ${relation} is not a declared namespace${hint}`, allowed: declared})
        } else if (rel !== undefined && !target.relations.includes(rel)) {
          issues.push({path, message: `namespace ${name} has no relation "${rel}"`, allowed: target.relations})
        }
      })
    }
  })
  return index
}

function requireRelation(index: NamespaceIndex, namespace: string, relation: string, nsPath: ConfigPath, relPath: ConfigPath, issues: RawIssue[]): void {
  const ns = index.get(namespace)
  if (!ns) {
    const declared = [...index.keys()]
    issues.push({path: nsPath, message: `namespace "${namespace}" is not declared in keto.namespaces${didYouMean(namespace, declared)}`, allowed: declared})
  } else if (!ns.relations.includes(relation)) {
    issues.push({path: relPath, message: `namespace ${namespace} has no relation "${relation}"${didYouMean(relation, ns.relations)}`, allowed: ns.relations})
  }
}

function roleIssues(config: IamConfig, index: NamespaceIndex, issues: RawIssue[]): void {
  const used = config.roles.enabled || config.seed.identities.some((i) => i.roles.length > 0)
  if (used) requireRelation(index, config.roles.namespace, config.roles.relation, ['roles', 'namespace'], ['roles', 'relation'], issues)
}

function routeIssues(raw: RawConfig, config: IamConfig, index: NamespaceIndex, issues: RawIssue[]): void {
  const ids = new Map<string, number>()
  const parsed: (ParsedMatch | undefined)[] = []
  config.routes.forEach((route, i) => {
    const base: ConfigPath = ['routes', i]
    const first = ids.get(route.id)
    if (first !== undefined) issues.push({path: [...base, 'id'], message: `route id "${route.id}" is already used by routes[${first}]`})
    else ids.set(route.id, i)

    let match: ParsedMatch | undefined
    try {
      match = parseRouteMatch(route.match)
    } catch (error) {
      if (!(error instanceof MatchSyntaxError)) throw error
      // Offsets point into what the user wrote: a path, or the full URL.
      const written = raw.routes?.[i]?.match ?? route.match
      const offset = error.index - (route.match.length - written.length)
      issues.push({path: [...base, 'match'], offset: Math.max(0, offset), message: `invalid match: ${error.message}`, allowed: ['/path/{param}/<**> (a path below gateway.publicUrl; Oathkeeper glob in <…>, {name} = one path segment)']})
    }
    const unclean = match && uncleanPathProblem(match)
    if (unclean) {
      issues.push({
        path: [...base, 'match'],
        message: `this match can never apply: ${unclean}, and Oathkeeper matches the cleaned path (no "//", "." or ".." segments, no trailing "/")`,
        allowed: ['a path without a trailing "/" (e.g. /api/items)', 'a trailing /<**> for a route root and everything below it'],
      })
    }
    parsed.push(match)
    if (match && route.stripPath !== undefined) stripPathIssue(route.match, match, route.stripPath, [...base, 'stripPath'], issues)

    const forClients = route.auth === 'client' || route.auth === 'session-or-client'
    if (forClients && !config.hydra.enabled) {
      issues.push({path: [...base, 'auth'], message: `auth: ${route.auth} accepts Hydra access tokens, but Hydra is off`, allowed: ['hydra: {enabled: true}', 'auth: session']})
    }
    if (route.scopes && !forClients) {
      issues.push({path: [...base, 'scopes'], at: 'key', message: `scopes are what a client's token must hold; an ${route.auth} route takes no client token`, allowed: ['auth: client', 'auth: session-or-client', 'no scopes']})
    }
    const authz = route.authorization
    if (!authz) return
    const authzPath = [...base, 'authorization']
    if (forClients) {
      issues.push({path: authzPath, at: 'key', message: `authorization (roles, anyOf) is for sessions; an ${route.auth} route checks a client's scopes`, allowed: ['scopes: [...]', 'auth: session']})
      return
    }
    if (route.auth === 'anonymous') {
      issues.push({path: authzPath, at: 'key', message: 'an anonymous route has no subject to authorize', allowed: ['auth: session', 'no authorization']})
      return
    }
    if (authz.roles && authz.anyOf) {
      issues.push({path: authzPath, at: 'key', message: 'use either roles or anyOf, not both (put a role check into anyOf as {namespace: Role, object: <role>, relation: member})'})
    } else if (!authz.roles && !authz.anyOf) {
      issues.push({path: authzPath, at: 'key', message: 'authorization needs roles or anyOf', allowed: ['roles', 'anyOf']})
    }
    if (authz.roles && !config.roles.enabled) {
      issues.push({
        path: [...authzPath, 'roles'],
        at: 'key',
        message: 'roles are only in sessions when roles.enabled is true; enable roles or check Keto with anyOf instead',
      })
    }
    authz.anyOf?.forEach((check, k) => {
      const checkPath = [...authzPath, 'anyOf', k]
      requireRelation(index, check.namespace, check.relation, [...checkPath, 'namespace'], [...checkPath, 'relation'], issues)
      objectParamIssues(check.object, match, [...checkPath, 'object'], issues)
    })
  })
  overlapIssues(config, parsed, issues)
}

function objectParamIssues(object: string, match: ParsedMatch | undefined, path: ConfigPath, issues: RawIssue[]): void {
  const re = /\{([^{}]*)\}/g
  for (const m of object.matchAll(re)) {
    const name = m[1]!
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      issues.push({path, offset: m.index, message: `"{${name}}" is not a parameter name`})
    } else if (match && !match.params.includes(name)) {
      const declared = match.params.map((p) => `{${p}}`)
      issues.push({
        path,
        offset: m.index,
        message: `parameter {${name}} is not declared in this route's match${didYouMean(name, match.params)}`,
        allowed: declared.length > 0 ? declared : ['a {name} segment in the match'],
      })
    }
  }
  const stray = object.replace(re, '').search(/[{}]/)
  if (stray !== -1) issues.push({path, message: `unbalanced "{" or "}" in ${JSON.stringify(object)}`})
}

function stripPathIssue(source: string, match: ParsedMatch, stripPath: string, path: ConfigPath, issues: RawIssue[]): void {
  // The match's path as text, with "\0" where a parameter or glob starts (anything may follow there).
  const flat = match.parts.map((p) => (p.kind === 'lit' ? p.text : '\0')).join('')
  const pathStart = flat.indexOf('/', flat.indexOf('://') + 3)
  const matchPath = flat.slice(pathStart)
  for (let k = 0; k < stripPath.length && k < matchPath.length; k++) {
    if (matchPath[k] === '\0') return
    if (matchPath[k] !== stripPath[k]) {
      issues.push({path, message: `${JSON.stringify(stripPath)} is not a prefix of the match's path (${source})`})
      return
    }
  }
  if (stripPath.length > matchPath.length) issues.push({path, message: `${JSON.stringify(stripPath)} is longer than the match's path (${source})`})
}

function overlapIssues(config: IamConfig, parsed: (ParsedMatch | undefined)[], issues: RawIssue[]): void {
  const routes = config.routes
  for (let j = 1; j < routes.length; j++) {
    for (let i = 0; i < j; i++) {
      const a = parsed[i]
      const b = parsed[j]
      if (!a || !b) continue
      const method = routes[j]!.methods.find((m) => routes[i]!.methods.includes(m))
      if (!method) continue
      const url = overlapWitness(a, b, [routes[i]!.match, routes[j]!.match])
      if (url === undefined) continue
      issues.push({
        path: ['routes', j, 'match'],
        message: `overlaps route "${routes[i]!.id}" (routes[${i}]): both match ${method} ${url}; Oathkeeper answers 500 when two rules match one request, so make the matches or the methods disjoint`,
      })
    }
  }
}

function seedIssues(config: IamConfig, index: NamespaceIndex, issues: RawIssue[]): void {
  const emails = new Map<string, number>()
  config.seed.identities.forEach((identity, i) => {
    const base: ConfigPath = ['seed', 'identities', i]
    const email = identity.email.toLowerCase()
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(identity.email)) issues.push({path: [...base, 'email'], message: `${JSON.stringify(identity.email)} is not an email address`})
    const first = emails.get(email)
    if (first !== undefined) issues.push({path: [...base, 'email'], message: `${identity.email} is already seeded by seed.identities[${first}]`})
    else emails.set(email, i)
    if (identity.name !== undefined && !config.kratos.traits.name) {
      issues.push({path: [...base, 'name'], at: 'key', message: 'the identity schema has no name trait; set kratos.traits.name: true or remove the name'})
    }
    if (identity.password !== undefined && !hasEnvRefs(identity.password) && identity.password.length < KRATOS_MIN_PASSWORD) {
      issues.push({path: [...base, 'password'], message: `Kratos rejects passwords shorter than ${KRATOS_MIN_PASSWORD} characters`})
    }
  })
  const clientIds = new Map<string, number>()
  config.seed.clients.forEach((client, i) => {
    const base: ConfigPath = ['seed', 'clients', i]
    if (!config.hydra.enabled) issues.push({path: base, at: 'key', message: 'seeding a machine client needs Hydra', allowed: ['hydra: {enabled: true}']})
    const first = clientIds.get(client.id)
    if (first !== undefined) issues.push({path: [...base, 'id'], message: `client ${client.id} is already seeded by seed.clients[${first}]`})
    else clientIds.set(client.id, i)
    if (!hasEnvRefs(client.secret)) {
      issues.push({path: [...base, 'secret'], message: 'a client secret written into iam.yaml ends up in git; reference the environment instead', allowed: ['${BILLING_CLIENT_SECRET}']})
    }
  })
  config.seed.tuples.forEach((text, i) => {
    const path: ConfigPath = ['seed', 'tuples', i]
    try {
      const tuple = parseSeedTuple(text)
      requireRelation(index, tuple.namespace, tuple.relation, path, path, issues)
      // `…@email:<address>` is resolved to a seeded identity's id at seed time: it must name one of seed.identities.
      if ('subjectEmail' in tuple && !emails.has(tuple.subjectEmail.toLowerCase())) {
        issues.push({path, message: `subject email:${tuple.subjectEmail} names no identity in seed.identities`, allowed: config.seed.identities.map((x) => `email:${x.email}`)})
      }
      if (tuple.subjectSet) {
        const set = tuple.subjectSet
        if (set.relation === '') {
          if (!index.has(set.namespace)) issues.push({path, message: `subject namespace "${set.namespace}" is not declared`, allowed: [...index.keys()]})
        } else requireRelation(index, set.namespace, set.relation, path, path, issues)
      }
    } catch (error) {
      if (!(error instanceof TupleSyntaxError)) throw error
      issues.push({path, message: error.message, allowed: ['Namespace:object#relation@subject_id', 'Namespace:object#relation@Namespace:object#relation', 'Namespace:object#relation@email:<a seeded email>']})
    }
  })
}
