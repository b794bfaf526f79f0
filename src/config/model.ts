/**
 * The iam.yaml model: the one declarative file every Ory config, the compose file and the secrets are rendered from.
 * This file is the contract between config loading (src/config), renderers (src/templates), runtimes (src/runtime),
 * servers and keys. Fields may be added; renaming or removing one breaks every consumer.
 *
 * Durations are strings like "60s", "5m", "500ms" in YAML and are normalised to milliseconds in the resolved model.
 */

export type RuntimePreference = 'auto' | 'compose' | 'native'
export type TokenAlgorithm = 'RS256' | 'ES256'
/** session: a Kratos session; client: a Hydra access token (a machine client); session-or-client: either. */
export type RouteAuth = 'anonymous' | 'session' | 'client' | 'session-or-client'
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS'

export interface PortsConfig {
  kratosPublic: number // 4433
  kratosAdmin: number // 4434
  ketoRead: number // 4466
  ketoWrite: number // 4467
  ketoMetrics: number // 4468 (Prometheus metrics; iam does not scrape it)
  ketoOpl: number // 4469 (Ory Permission Language syntax check API)
  oathkeeperProxy: number // 4455
  oathkeeperApi: number // 4456
  oathkeeperMetrics: number // 4457 (Prometheus metrics; iam does not scrape it)
  batchAuth: number // 4470
  roleWebhook: number // 4471
  mailUi: number // 4436 (mail catcher web UI)
  mailSmtp: number // 1025 (mail catcher SMTP)
  postgres: number // 4432 (the PostgreSQL server iam runs with `database: postgres`; loopback)
  ui: number // 4460 (`iam serve ui`: the built-in sign-in pages, reached through the gateway under /ui/)
  exampleApp: number // 8080 (`iam serve example-app`, with exampleApp: true)
  hydraPublic: number // 4444 (Hydra's public API: the token endpoint; with hydra.enabled)
  hydraAdmin: number // 4445 (Hydra's admin API: clients, introspection; loopback only)
  clientClaims: number // 4472 (`iam serve client-claims`: Hydra's token hook; with hydra.enabled)
}

/**
 * Where the Ory servers keep their data (see config/database.ts). `sqlite`: a file per server. `postgres` without
 * `urls`: a PostgreSQL server iam runs. `postgres` with `urls`: the user's own server, one database per Ory server
 * (URLs may be ${VAR}; kept verbatim here, resolved at the point of use).
 */
export interface DatabaseConfig {
  engine: 'sqlite' | 'postgres'
  /** hydra: needed with hydra.enabled. */
  urls?: {kratos: string; keto: string; hydra?: string}
}

/** The gateway (Oathkeeper's proxy): the one entry point of the user's traffic. */
export interface GatewayConfig {
  /**
   * The gateway's public base URL as clients address it (scheme, host, port, optional path prefix, no trailing "/").
   * Default http://127.0.0.1:<ports.oathkeeperProxy>; a real domain for deployments. Route matches and the default
   * token issuer are derived from it: Oathkeeper matches a rule only when the request's host:port is the rule's.
   */
  publicUrl: string
}

export interface KratosConfig {
  /** Kratos' public base URL as browsers and the gateway see it. Default http://127.0.0.1:<kratosPublic>/ */
  publicUrl: string
  /**
   * Where the self-service UI lives (login/registration pages). Default gateway.publicUrl + "/ui/": the built-in
   * pages of `iam serve ui`, on the gateway's origin. Another URL replaces them (and iam does not start them).
   */
  uiUrl: string
  allowedReturnUrls: string[]
  /** Identity traits beyond the always-required email. */
  traits: {name: boolean}
  methods: {password: boolean; code: boolean}
  /**
   * Ask Have I Been Pwned's range API (k-anonymity: only a hash prefix leaves) whether a new password is breached.
   * Without internet each such password waits for the lookup to time out, so machines without it turn it off.
   */
  passwordBreachCheck: boolean
  /** SMTP connection URI; default points at the bundled mail catcher. May be ${ENV_VAR}. */
  smtpUrl: string
  /** Sender address for courier mails. */
  fromAddress: string
}

/** Hydra: OAuth2 machine clients (client_credentials), introspected by the gateway. Off unless enabled. */
export interface HydraConfig {
  enabled: boolean
  /** Hydra's public URL, its token endpoint's base and the `iss` of its tokens. Default http://127.0.0.1:<hydraPublic>/ */
  publicUrl: string
  /** Lifetime of the access tokens Hydra issues, in ms (YAML: "15m"); a client may set a shorter one. */
  accessTokenTtlMs: number
  /**
   * How long the gateway keeps an introspection answer, in ms (YAML: "5s"): a revoked token is refused at most this
   * long after `iam clients revoke`. 0 asks Hydra on every request.
   */
  introspectionCacheMs: number
}

export interface NamespaceConfig {
  name: string
  /** Relations of objects in this namespace, e.g. Role has `member`. */
  relations: string[]
  /**
   * Subject types each relation accepts, for the Ory Permission Language (`related: {member: (User | SubjectSet<Role,
   * "member">)[]}`): a namespace name (`User`) or a subject set (`Role#member`). Filled by the config loader for every
   * relation (default `['User']`); optional only so hand-built configs in tests stay short.
   */
  subjects?: Record<string, string[]>
}

export interface KetoConfig {
  namespaces: NamespaceConfig[]
  /** Keto's `limit.max_batch_check_size`. */
  maxBatchCheckSize: number
}

export interface TokensConfig {
  /** `iss` of minted id_tokens. */
  issuer: string
  /** id_token lifetime in ms (YAML: "60s"). */
  ttlMs: number
  algorithm: TokenAlgorithm
  /** Clock skew verifiers tolerate, in ms (YAML: "5s"). Part of the key drain window. */
  clockSkewMs: number
  /** How often verifiers refetch the JWKS, in ms (YAML: "30s"). Part of the key drain window. */
  jwksRefreshMs: number
}

export interface RolesConfig {
  /** When true: role webhook rendered into Kratos hooks, roles copied into id_token claims. */
  enabled: boolean
  /** Keto namespace holding roles: `Role:<role>#member@<identity id>`. */
  namespace: string
  relation: string
  /**
   * Failure policy of the role webhook: false (default) lets a login or registration through with the roles the
   * identity had when Keto cannot be read; true interrupts the flow instead (`iam serve role-webhook --strict`).
   */
  strict: boolean
}

/** One permission check of an `anyOf` authorization; `object` may use `{param}` from the route's match. */
export interface PermissionCheck {
  namespace: string
  object: string
  relation: string
}

export interface RouteAuthorization {
  /** Allowed when the session's roles include any of these (checked on id_token/session claims). */
  roles?: string[]
  /** Allowed when any of these Keto checks is allowed for the subject (answered by batch-auth). */
  anyOf?: PermissionCheck[]
}

export interface RouteConfig {
  id: string
  /**
   * Oathkeeper glob URL match, e.g. `http://127.0.0.1:4455/tenants/{tenant}/<**>`. `{name}` marks a named path
   * parameter matching one path segment, usable in `anyOf[].object`. iam.yaml gives the path (`/tenants/{tenant}/<**>`);
   * the resolved model always holds the full URL: gateway.publicUrl + path.
   */
  match: string
  methods: HttpMethod[]
  /** Upstream base URL requests are forwarded to. */
  upstream: string
  /** Remove this prefix from the path before forwarding (optional). */
  stripPath?: string
  auth: RouteAuth
  /** For `client` and `session-or-client` routes: scopes a client's token must hold (all of them). */
  scopes?: string[]
  /** `aud` of the id_token minted for this route. */
  audience: string
  authorization?: RouteAuthorization
}

export interface SeedIdentity {
  email: string
  /** May be ${ENV_VAR}. */
  password?: string
  name?: string
  roles: string[]
}

/** A machine client `iam seed` makes sure exists in Hydra (by id); its secret is a ${VAR}. */
export interface SeedClient {
  id: string
  name?: string
  /** May be ${ENV_VAR}; when the client exists with another secret, seeding sets this one. */
  secret: string
  scopes: string[]
  audience: string[]
  metadata: Record<string, string>
  /** Access token lifetime in ms (YAML: "15m"); absent: hydra.accessTokenTtl. */
  tokenTtlMs?: number
}

export interface SeedConfig {
  identities: SeedIdentity[]
  clients: SeedClient[]
  /** Keto text form: `Namespace:object#relation@subject` or `...@Namespace:object#relation`. */
  tuples: string[]
}

export interface IamConfig {
  /** Schema version of iam.yaml itself. */
  version: 1
  project: string
  /** Ory image tag for the compose runtime. Default v26.2.0. */
  oryVersion: string
  runtime: RuntimePreference
  ports: PortsConfig
  database: DatabaseConfig
  gateway: GatewayConfig
  kratos: KratosConfig
  keto: KetoConfig
  tokens: TokensConfig
  roles: RolesConfig
  hydra: HydraConfig
  routes: RouteConfig[]
  seed: SeedConfig
  /** Run the example app (`iam serve example-app`, examples/app/) on ports.exampleApp: the starter routes' upstream. */
  exampleApp: boolean
}

/** Where things live inside a project directory (relative paths). */
export const PROJECT_FILES = {
  config: 'iam.yaml',
  /** Secrets (mode 0600, gitignored): KRATOS_SECRETS_COOKIE, KRATOS_SECRETS_CIPHER, ROLE_WEBHOOK_SECRET, ... */
  secrets: '.env',
  renderedDir: 'ory',
  jwks: 'ory/oathkeeper/jwks.json',
  /** Runtime state: pid files, logs, SQLite databases. Gitignored. */
  stateDir: '.iam',
} as const
