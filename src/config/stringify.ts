import {Document, isMap, isSeq, type Node as YamlNode, type Scalar, type YAMLMap, type YAMLSeq} from 'yaml'

import {ORY_VERSION} from '../ory/servers.js'
import {derivedAddresses, matchPathBelow} from './addresses.js'
import {DEFAULT_RELATION_SUBJECTS} from './defaults.js'
import {formatDuration} from './duration.js'
import type {IamConfig, NamespaceConfig, RouteConfig} from './model.js'

/**
 * The model as iam.yaml data: durations back to text, default-valued `subjects` left out, and every address that
 * follows from `ports:` / `gateway.publicUrl` left out (route matches as paths), so that moving a port moves them.
 */
export function configToYamlData(config: IamConfig): Record<string, unknown> {
  const derived = derivedAddresses(config.ports, config.gateway.publicUrl)
  const fromPorts = derivedAddresses(config.ports)
  const {publicUrl, smtpUrl, uiUrl, allowedReturnUrls, ...kratos} = config.kratos
  const defaultReturns = uiUrl === derived.uiUrl ? derived.allowedReturnUrls : [uiUrl]
  return {
    version: config.version,
    project: config.project,
    oryVersion: config.oryVersion,
    runtime: config.runtime,
    ports: {...config.ports},
    database: config.database.urls ? {engine: config.database.engine, urls: {...config.database.urls}} : config.database.engine,
    gateway: config.gateway.publicUrl === fromPorts.gatewayUrl ? {} : {publicUrl: config.gateway.publicUrl},
    kratos: {
      ...(publicUrl === derived.kratosPublicUrl ? {} : {publicUrl}),
      ...(uiUrl === derived.uiUrl ? {} : {uiUrl}),
      ...(JSON.stringify(allowedReturnUrls) === JSON.stringify(defaultReturns) ? {} : {allowedReturnUrls: [...allowedReturnUrls]}),
      ...kratos,
      traits: {...config.kratos.traits},
      methods: {...config.kratos.methods},
      ...(smtpUrl === derived.smtpUrl ? {} : {smtpUrl}),
    },
    keto: {namespaces: config.keto.namespaces.map(namespaceData), maxBatchCheckSize: config.keto.maxBatchCheckSize},
    tokens: {
      ...(config.tokens.issuer === derived.issuer ? {} : {issuer: config.tokens.issuer}),
      ttl: formatDuration(config.tokens.ttlMs),
      algorithm: config.tokens.algorithm,
      clockSkew: formatDuration(config.tokens.clockSkewMs),
      jwksRefresh: formatDuration(config.tokens.jwksRefreshMs),
    },
    roles: {...config.roles},
    hydra: {
      enabled: config.hydra.enabled,
      ...(config.hydra.publicUrl === derived.hydraPublicUrl ? {} : {publicUrl: config.hydra.publicUrl}),
      accessTokenTtl: formatDuration(config.hydra.accessTokenTtlMs),
      introspectionCache: formatDuration(config.hydra.introspectionCacheMs),
    },
    routes: config.routes.map((r) => routeData(r, config.gateway.publicUrl)),
    exampleApp: config.exampleApp,
    seed: {
      identities: config.seed.identities.map((i) => ({...i, roles: [...i.roles]})),
      ...(config.seed.clients.length > 0 ? {clients: config.seed.clients.map(seedClientData)} : {}),
      tuples: [...config.seed.tuples],
    },
  }
}

function seedClientData(c: IamConfig['seed']['clients'][number]): Record<string, unknown> {
  const {tokenTtlMs, ...rest} = c
  return {...rest, scopes: [...c.scopes], audience: [...c.audience], metadata: {...c.metadata}, ...(tokenTtlMs === undefined ? {} : {tokenTtl: formatDuration(tokenTtlMs)})}
}

function namespaceData(ns: NamespaceConfig): Record<string, unknown> {
  const custom = Object.entries(ns.subjects ?? {}).filter(
    ([, types]) => types.length !== DEFAULT_RELATION_SUBJECTS.length || types.some((t, i) => t !== DEFAULT_RELATION_SUBJECTS[i]),
  )
  return {name: ns.name, relations: [...ns.relations], ...(custom.length > 0 ? {subjects: Object.fromEntries(custom)} : {})}
}

function routeData(route: RouteConfig, gatewayUrl: string): Record<string, unknown> {
  return {
    id: route.id,
    match: matchPathBelow(gatewayUrl, route.match) ?? route.match,
    methods: [...route.methods],
    upstream: route.upstream,
    ...(route.stripPath === undefined ? {} : {stripPath: route.stripPath}),
    auth: route.auth,
    ...(route.scopes === undefined ? {} : {scopes: [...route.scopes]}),
    audience: route.audience,
    ...(route.authorization
      ? {
          authorization: {
            ...(route.authorization.roles ? {roles: [...route.authorization.roles]} : {}),
            ...(route.authorization.anyOf ? {anyOf: route.authorization.anyOf.map((c) => ({...c}))} : {}),
          },
        }
      : {}),
  }
}

const HEADER = `iam.yaml: the one file this project's Ory stack (Kratos, Keto, Oathkeeper) is rendered from.
Edit it, then run \`iam render\` (\`iam up\` renders too when this file changed).
Durations: 500ms, 5s, 10m, 1h. \${VAR} references are allowed in URL and secret fields (kratos URLs,
tokens.issuer, routes[].upstream, seed passwords, database URLs); they are resolved from the environment and .env
where used. Secrets are never written here: they live in .env (mode 0600, gitignored).`

const SECTION: Record<string, string> = {
  version: 'Version of this file format.',
  project: 'Project name: the compose project name and the prefix of generated names.',
  oryVersion: `The Ory version every runtime runs: the compose images and the binaries \`iam install\` builds (only ${ORY_VERSION} is supported).`,
  runtime: 'auto: docker compose when a Docker engine answers, native processes otherwise; compose | native force one.',
  ports: `Loopback ports of every service; each must be unique. Every address that is not set below follows from
these (route matches, the issuer, Kratos' public URL, the catcher's SMTP URL), so moving a port moves them all.`,
  database: `Where Kratos and Keto keep their data. sqlite: a file per server under .iam/data (the default).
postgres: a PostgreSQL server iam runs from this machine's binaries (package postgresql; loopback on ports.postgres,
password in .env; data kept by \`iam down\`, deleted by \`iam down --volumes\`). Your own server, one database each:
  database: {engine: postgres, urls: {kratos: "\${KRATOS_DSN}", keto: "\${KETO_DSN}"}}`,
  gateway: `The gateway (Oathkeeper's proxy), where clients send their traffic. publicUrl: how clients address it,
default http://127.0.0.1:<ports.oathkeeperProxy>; set it for a real domain (e.g. https://api.example.com).
Route matches are paths below it and tokens.issuer defaults to it.`,
  kratos: `Kratos: identities, login and sessions. publicUrl (default http://127.0.0.1:<ports.kratosPublic>/) and
smtpUrl (default: the bundled mail catcher on ports.mailSmtp) follow ports: unless set here. Browsers reach Kratos
through the gateway under /.ory/ and sign in on the built-in pages under /ui/ (iam serve ui), all on one origin;
uiUrl: your own UI instead (then allowedReturnUrls defaults to it).`,
  exampleApp: `true: iam up runs the example app (examples/app, \`iam serve example-app\`) on ports.exampleApp, where the starter
routes forward: it greets the signed-in user from the id_token (subject, email, roles).`,
  keto: `Keto: permissions as relation tuples (Namespace:object#relation@subject). Namespaces are rendered to the
Ory Permission Language; a relation's subjects default to [User] (add e.g. subjects: {member: [User, Role#member]}).`,
  tokens: `The id_token JWT Oathkeeper mints for every request it forwards; services verify it against the JWKS.
issuer defaults to gateway.publicUrl + "/". ttl: 1s to 24h. ttl + clockSkew + jwksRefresh is how long a retired signing key stays published (iam keys prune).`,
  roles: `Roles are Keto tuples Role:<role>#member@<identity id>. When enabled, a webhook copies them into the session
on login and registration (metadata_public.roles) and Oathkeeper puts them into the id_token claims.
strict: when Keto cannot be read, false lets the login through with the roles the identity had; true refuses it.`,
  hydra: `Hydra: OAuth2 machine clients (client_credentials) for services calling routes with auth: client.
\`iam clients create\` registers one (its secret is shown once); \`iam clients token\` exchanges it for an access
token (accessTokenTtl; no refresh token: fetch a new one). The gateway asks Hydra's admin API whether a token is
active and keeps the answer for introspectionCache: a revoked token is refused at most that long afterwards.`,
  routes: `Routes: one Oathkeeper access rule each, matched against gateway.publicUrl + match.
  match: a path; <**> matches anything, <*> one path segment without dots, {name} a named path segment (usable in anyOf).
         Two routes must never match the same request (Oathkeeper answers 500): iam refuses overlaps.
  auth: anonymous (no login needed) | session (Kratos session cookie or session token, else 401)
        | client (a Hydra access token, hydra.enabled; scopes: [all, required]) | session-or-client (either).
  audience: the id_token's aud for this route.
  authorization (session routes only): roles: [any, of, these] or anyOf: Keto checks answered by batch-auth
  (allowed when any check is allowed for the caller), not both.`,
  seed: `Test data applied by \`iam seed\` (and \`iam up --seed\`), e.g.:
  identities:
    - {email: admin@example.com, password: "\${ADMIN_PASSWORD}", name: Admin, roles: [admin]}
  tuples:
    - Tenant:acme#member@email:admin@example.com   # a seeded identity by email: resolved to its id when seeding
    - Tenant:acme#member@<identity id>`,
}

const INLINE: Record<string, Record<string, string>> = {
  ports: {
    kratosPublic: 'Kratos public API (browsers, whoami)',
    kratosAdmin: 'Kratos admin API',
    ketoRead: 'Keto read API (checks)',
    ketoWrite: 'Keto write API (tuples)',
    ketoMetrics: 'Keto metrics (Prometheus)',
    ketoOpl: 'Keto permission-language syntax API',
    oathkeeperProxy: 'Oathkeeper proxy: send your traffic here',
    oathkeeperApi: 'Oathkeeper API (decisions, /.well-known/jwks.json)',
    oathkeeperMetrics: 'Oathkeeper metrics (Prometheus)',
    batchAuth: 'embedded batch-auth server (anyOf checks)',
    roleWebhook: 'embedded role webhook',
    mailUi: 'mail catcher web UI',
    mailSmtp: 'mail catcher SMTP',
    postgres: 'PostgreSQL, with database: postgres',
    ui: 'built-in sign-in pages (gateway /ui/)',
    exampleApp: 'the example app (exampleApp: true)',
    hydraPublic: 'Hydra public API (token endpoint), with hydra.enabled',
    hydraAdmin: 'Hydra admin API (clients, introspection; loopback)',
    clientClaims: 'embedded token hook (client metadata into tokens)',
  },
  kratos: {
    publicUrl: 'as browsers and the gateway see it',
    uiUrl: 'your login / registration UI',
    allowedReturnUrls: 'where Kratos may redirect after a flow',
    traits: 'email is always required; name is optional',
    methods: 'login methods',
    passwordBreachCheck: 'ask Have I Been Pwned about new passwords (needs internet; false where there is none)',
    smtpUrl: 'the bundled mail catcher; e.g. ${SMTP_URL} elsewhere',
    fromAddress: 'sender of verification and recovery mails',
  },
  keto: {maxBatchCheckSize: "Keto's limit for one batch check (batch-auth splits larger ones)"},
  tokens: {
    issuer: 'iss claim',
    ttl: 'token lifetime',
    algorithm: 'RS256 | ES256',
    clockSkew: 'tolerated clock difference',
    jwksRefresh: 'how often verifiers refetch the JWKS',
  },
}

const ROUTE_COMMENT: Record<string, string> = {
  anonymous: 'Anonymous: anyone, no login.',
  roles: 'Session with a role: logged in and holding any of these roles.',
  anyOf: 'Session with Keto checks: admins, or members of the tenant named in the URL.',
  session: 'Session: any logged-in identity.',
  client: 'Machine clients: a Hydra access token holding these scopes (iam clients token).',
}

function pairOf(map: YAMLMap, key: string): {key: Scalar; value: YamlNode} | undefined {
  const pair = map.items.find((p) => (p.key as Scalar).value === key)
  return pair ? (pair as unknown as {key: Scalar; value: YamlNode}) : undefined
}

const indent = (text: string): string =>
  text
    .split('\n')
    .map((l) => ` ${l}`)
    .join('\n')

/** Flow style for short lists and the small maps inside lists, so the file stays scannable. */
function compact(node: unknown, depth: number): void {
  if (isSeq(node)) {
    const scalars = node.items.every((i) => !isMap(i) && !isSeq(i))
    if (scalars) node.flow = true
    for (const item of node.items) {
      if (isMap(item) && depth >= 1 && item.items.length <= 4) {
        const nested = item.items.some((p) => isMap(p.value) && (p.value as YAMLMap).items.length > 1)
        if (!nested) item.flow = true
      }
      compact(item, depth + 1)
    }
  } else if (isMap(node)) {
    for (const pair of node.items) compact(pair.value, depth + 1)
  }
}

/**
 * The model as a commented iam.yaml (what `iam init` writes). parseConfig(renderConfigYaml(c)) deep-equals c for
 * any valid model c.
 */
export function renderConfigYaml(config: IamConfig, o: {comments?: boolean} = {}): string {
  const doc = new Document(configToYamlData(config))
  const root = doc.contents as YAMLMap
  compact(root, 0)
  if (o.comments !== false) {
    doc.commentBefore = indent(HEADER)
    for (const [key, text] of Object.entries(SECTION)) {
      const pair = pairOf(root, key)
      if (!pair) continue
      pair.key.commentBefore = indent(text)
      pair.key.spaceBefore = key !== 'version'
      const inline = INLINE[key]
      if (inline && isMap(pair.value)) {
        for (const [sub, comment] of Object.entries(inline)) {
          const inner = pairOf(pair.value, sub)
          if (!inner) continue
          // A comment after a nested mapping would print below it; put it above the key instead.
          if (isMap(inner.value)) inner.key.commentBefore = ` ${comment}`
          else (inner.value as YamlNode).comment = ` ${comment}`
        }
      }
    }
    const routes = pairOf(root, 'routes')?.value
    if (isSeq(routes)) {
      ;(routes as YAMLSeq).items.forEach((item, i) => {
        const route = config.routes[i]!
        const kind = route.auth === 'anonymous' ? 'anonymous' : route.auth === 'client' ? 'client' : route.authorization?.roles ? 'roles' : route.authorization?.anyOf ? 'anyOf' : 'session'
        if (isMap(item)) {
          item.commentBefore = ` ${ROUTE_COMMENT[kind]}`
          if (i > 0) item.spaceBefore = true
        }
      })
    }
  }
  return doc.toString({lineWidth: 0, flowCollectionPadding: false})
}
