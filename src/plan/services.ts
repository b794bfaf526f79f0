/**
 * Pure: which services a project runs, on which ports, how iam's own servers are launched, and the endpoints users
 * and CI need. Both runtimes (native and the compose renderer), status and the env output derive from this one plan
 * so they cannot disagree.
 */
import {appUrl, kratosBrowserUrl, usesBuiltInUi} from '../config/browser.js'
import {isManagedPostgres} from '../config/database.js'
import {usesMailCatcher} from '../config/mail.js'
import type {IamConfig} from '../config/model.js'
import {healthUrls} from '../ory/launch.js'
import type {OryServer} from '../ory/servers.js'
import type {ServiceName} from '../runtime/types.js'

export interface ServiceDef {
  name: ServiceName
  /** ory: Kratos, Keto, Oathkeeper; embedded: `iam serve …`; database: the PostgreSQL server iam runs. */
  kind: 'ory' | 'embedded' | 'database'
  /** Set for Kratos, Keto, Oathkeeper. */
  server?: OryServer
  ports: Record<string, number>
  urls: Record<string, string>
  /** GET these (http) or connect (postgres://, no credentials); all answering means ready. */
  healthUrls: string[]
  /** Services that must be ready before this one starts. */
  dependsOn: ServiceName[]
}

const LOOPBACK = '127.0.0.1'
const url = (port: number): string => `http://${LOOPBACK}:${port}`

/** batch-auth runs when any route authorizes with `anyOf` (Keto checks OR-ed together). */
export function needsBatchAuth(config: IamConfig): boolean {
  return config.routes.some((r) => (r.authorization?.anyOf?.length ?? 0) > 0)
}

/**
 * Kratos runs with `--dev` (http URLs and cookies without Secure allowed) unless its public URL is https: a
 * deployment behind TLS gets production Kratos, a laptop keeps working on http://127.0.0.1.
 */
export function kratosDevMode(config: IamConfig): boolean {
  return !config.kratos.publicUrl.startsWith('https://') && !config.gateway.publicUrl.startsWith('https://')
}

/** Hydra runs with `--dev` (an http:// issuer allowed) unless its public URL is https. */
export function hydraDevMode(config: IamConfig): boolean {
  return !config.hydra.publicUrl.startsWith('https://')
}

export function needsRoleWebhook(config: IamConfig): boolean {
  return config.roles.enabled
}

/** The managed PostgreSQL server's address, without credentials (its health URL and what status shows). */
export function postgresUrl(port: number): string {
  return `postgres://${LOOPBACK}:${port}`
}

/** Services in start order (dependencies first). */
export function planServices(config: IamConfig): ServiceDef[] {
  const p = config.ports
  // With `database: postgres` Kratos and Keto migrate and serve once the server iam runs accepts connections.
  const managedDb = isManagedPostgres(config.database)
  const database: ServiceDef[] = managedDb
    ? [{name: 'postgres', kind: 'database', ports: {postgres: p.postgres}, urls: {postgres: postgresUrl(p.postgres)}, healthUrls: [postgresUrl(p.postgres)], dependsOn: []}]
    : []
  const onDatabase: ServiceName[] = managedDb ? ['postgres'] : []
  const services: ServiceDef[] = [
    ...database,
    {
      name: 'kratos',
      kind: 'ory',
      server: 'kratos',
      ports: {public: p.kratosPublic, admin: p.kratosAdmin},
      urls: {public: url(p.kratosPublic), admin: url(p.kratosAdmin)},
      healthUrls: healthUrls('kratos', {public: url(p.kratosPublic), admin: url(p.kratosAdmin)}),
      dependsOn: onDatabase,
    },
    {
      name: 'keto',
      kind: 'ory',
      server: 'keto',
      ports: {read: p.ketoRead, write: p.ketoWrite, opl: p.ketoOpl, metrics: p.ketoMetrics},
      urls: {read: url(p.ketoRead), write: url(p.ketoWrite)},
      healthUrls: healthUrls('keto', {read: url(p.ketoRead), write: url(p.ketoWrite)}),
      dependsOn: onDatabase,
    },
  ]
  // Our own servers: one HTTP port each, ready once Keto (which they ask) answers.
  const embedded = (name: string, port: number): ServiceDef => ({
    name,
    kind: 'embedded',
    ports: {http: port},
    urls: {http: url(port)},
    healthUrls: [`${url(port)}/health/ready`],
    dependsOn: ['keto'],
  })
  // Hydra (machine clients) and its token hook, which asks Hydra's admin API for the client's metadata.
  if (config.hydra.enabled) {
    services.push({
      name: 'hydra',
      kind: 'ory',
      server: 'hydra',
      ports: {public: p.hydraPublic, admin: p.hydraAdmin},
      urls: {public: url(p.hydraPublic), admin: url(p.hydraAdmin)},
      healthUrls: healthUrls('hydra', {public: url(p.hydraPublic), admin: url(p.hydraAdmin)}),
      dependsOn: onDatabase,
    })
    services.push({...embedded('client-claims', p.clientClaims), dependsOn: ['hydra']})
  }
  if (needsBatchAuth(config)) services.push(embedded('batch-auth', p.batchAuth))
  if (needsRoleWebhook(config)) services.push(embedded('role-webhook', p.roleWebhook))
  // The mail catcher (native: `iam serve mail`; compose runs Mailpit under its own name). Nothing waits for it:
  // Kratos' courier retries a mail it could not send.
  if (usesMailCatcher(config)) {
    services.push({
      name: 'mail',
      kind: 'embedded',
      ports: {smtp: p.mailSmtp, http: p.mailUi},
      urls: {http: url(p.mailUi)},
      healthUrls: [`${url(p.mailUi)}/health/ready`],
      dependsOn: [],
    })
  }
  // The sign-in pages ask Kratos for each flow; the example app only needs the gateway's JWKS when a request comes.
  if (usesBuiltInUi(config)) services.push({...embedded('ui', p.ui), dependsOn: ['kratos']})
  if (config.exampleApp) services.push({...embedded('example-app', p.exampleApp), dependsOn: []})
  services.push({
    name: 'oathkeeper',
    kind: 'ory',
    server: 'oathkeeper',
    ports: {proxy: p.oathkeeperProxy, api: p.oathkeeperApi, metrics: p.oathkeeperMetrics},
    urls: {proxy: url(p.oathkeeperProxy), api: url(p.oathkeeperApi)},
    healthUrls: healthUrls('oathkeeper', {proxy: url(p.oathkeeperProxy), api: url(p.oathkeeperApi)}),
    dependsOn: [],
  })
  return services
}

export interface Endpoint {
  /** Env var name for `iam status -o env`. */
  env: string
  label: string
  url: string
}

/** Every endpoint a user or CI job needs, in display order. The mail UI: Mailpit under compose, `iam serve mail` natively. */
export function endpoints(config: IamConfig, o: {runtime: 'native' | 'compose'}): Endpoint[] {
  const p = config.ports
  const list: Endpoint[] = [
    {env: 'GATEWAY_URL', label: 'Gateway (send your traffic here)', url: config.gateway.publicUrl},
    {env: 'KRATOS_PUBLIC_URL', label: 'Kratos public', url: url(p.kratosPublic)},
    {env: 'KRATOS_ADMIN_URL', label: 'Kratos admin', url: url(p.kratosAdmin)},
    {env: 'KETO_READ_URL', label: 'Keto read', url: url(p.ketoRead)},
    {env: 'KETO_WRITE_URL', label: 'Keto write', url: url(p.ketoWrite)},
    {env: 'OATHKEEPER_PROXY_URL', label: 'Oathkeeper proxy', url: url(p.oathkeeperProxy)},
    {env: 'OATHKEEPER_API_URL', label: 'Oathkeeper API', url: url(p.oathkeeperApi)},
    {env: 'JWKS_URL', label: 'JWKS', url: `${url(p.oathkeeperApi)}/.well-known/jwks.json`},
  ]
  if (needsBatchAuth(config)) list.push({env: 'BATCH_AUTH_URL', label: 'batch-auth', url: url(p.batchAuth)})
  if (needsRoleWebhook(config)) list.push({env: 'ROLE_WEBHOOK_URL', label: 'role-webhook', url: url(p.roleWebhook)})
  if (o.runtime === 'compose' || usesMailCatcher(config)) list.push({env: 'MAIL_UI_URL', label: 'Mail UI', url: url(p.mailUi)})
  if (usesBuiltInUi(config)) list.push({env: 'SIGN_IN_URL', label: 'Sign-in UI', url: `${config.kratos.uiUrl}login`})
  if (config.exampleApp) list.push({env: 'EXAMPLE_APP_URL', label: 'Example app (through the gateway)', url: appUrl(config)})
  if (config.hydra.enabled) {
    list.push(
      {env: 'HYDRA_PUBLIC_URL', label: 'Hydra public (OAuth2 token endpoint: /oauth2/token)', url: config.hydra.publicUrl},
      {env: 'HYDRA_ADMIN_URL', label: 'Hydra admin (clients, introspection; loopback)', url: url(p.hydraAdmin)},
      {env: 'HYDRA_TOKEN_URL', label: 'OAuth2 token endpoint (client_credentials)', url: `${config.hydra.publicUrl.replace(/\/+$/, '')}/oauth2/token`},
    )
  }
  if (isManagedPostgres(config.database)) list.push({env: 'POSTGRES_URL', label: 'PostgreSQL (user iam, password POSTGRES_PASSWORD in .env)', url: postgresUrl(p.postgres)})
  return list
}

/** Every TCP port the plan listens on, with the service that owns it. */
export function plannedPorts(services: ServiceDef[]): {service: ServiceName; name: string; port: number}[] {
  return services.flatMap((s) => Object.entries(s.ports).map(([name, port]) => ({service: s.name, name, port})))
}

/** iam's own servers, launched as `iam serve <name> …` by both runtimes. */
export const EMBEDDED_SERVICES = ['batch-auth', 'role-webhook', 'mail', 'ui', 'example-app', 'client-claims'] as const
export type EmbeddedService = (typeof EMBEDDED_SERVICES)[number]

export function isEmbeddedService(name: string): name is EmbeddedService {
  return (EMBEDDED_SERVICES as readonly string[]).includes(name)
}

/**
 * What differs between the runtimes for an embedded server: where it listens and how it reaches Keto and Kratos
 * (loopback natively, service names inside compose). Everything else comes from iam.yaml alone.
 */
export interface EmbeddedTarget {
  host: string
  ketoReadUrl: string
  kratosAdminUrl: string
  kratosPublicUrl: string
  /** Oathkeeper's API (the JWKS). */
  oathkeeperApiUrl: string
  /** Hydra's admin API (the client-claims hook reads a client's metadata there). */
  hydraAdminUrl: string
  /** The mail catcher's inbox as a browser opens it (none under compose: Mailpit is on its own port). */
  mailUrl?: string
}

/** The native runtime's target: loopback listeners and loopback Ory URLs. */
export function loopbackTarget(config: IamConfig): EmbeddedTarget {
  const p = config.ports
  return {
    host: LOOPBACK,
    ketoReadUrl: url(p.ketoRead),
    kratosAdminUrl: url(p.kratosAdmin),
    kratosPublicUrl: url(p.kratosPublic),
    oathkeeperApiUrl: url(p.oathkeeperApi),
    hydraAdminUrl: url(p.hydraAdmin),
    ...(usesMailCatcher(config) ? {mailUrl: `${url(p.mailUi)}/`} : {}),
  }
}

/**
 * The `iam` arguments that start an embedded server (`serve <name> …`): the one list both runtimes run. Every value
 * the server needs from iam.yaml is passed explicitly (the compose containers have no iam.yaml to fall back on).
 * Secrets are not arguments: the role webhook reads ROLE_WEBHOOK_SECRET from its environment.
 */
export function embeddedServeArgs(config: IamConfig, service: EmbeddedService, target: EmbeddedTarget): string[] {
  const p = config.ports
  switch (service) {
    case 'batch-auth':
      return ['serve', 'batch-auth', '--host', target.host, '--port', String(p.batchAuth), '--keto-read-url', target.ketoReadUrl, '--max-batch', String(config.keto.maxBatchCheckSize)]
    case 'role-webhook':
      return [
        'serve', 'role-webhook', '--host', target.host, '--port', String(p.roleWebhook),
        '--kratos-admin-url', target.kratosAdminUrl, '--keto-read-url', target.ketoReadUrl,
        '--roles-namespace', config.roles.namespace, '--roles-relation', config.roles.relation,
        ...(config.roles.strict ? ['--strict'] : []),
      ]
    case 'mail':
      return ['serve', 'mail', '--host', target.host, '--smtp-port', String(p.mailSmtp), '--port', String(p.mailUi)]
    case 'ui':
      return [
        'serve', 'ui', '--host', target.host, '--port', String(p.ui), '--kratos-public-url', target.kratosPublicUrl,
        '--browser-kratos-url', kratosBrowserUrl(config), '--app-url', appUrl(config),
        ...(target.mailUrl ? ['--mail-url', target.mailUrl] : []),
      ]
    case 'client-claims':
      // The key Hydra calls it with is CLIENT_CLAIMS_SECRET in its environment, never an argument.
      return ['serve', 'client-claims', '--host', target.host, '--port', String(p.clientClaims), '--hydra-admin-url', target.hydraAdminUrl]
    case 'example-app':
      return [
        'serve', 'example-app', '--host', target.host, '--port', String(p.exampleApp), '--jwks-url', `${target.oathkeeperApiUrl}/.well-known/jwks.json`,
        '--issuer', config.tokens.issuer, ...[...new Set(config.routes.map((r) => r.audience))].flatMap((a) => ['--audience', a]),
      ]
  }
}
