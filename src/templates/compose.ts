/**
 * ory/compose.yaml for the compose runtime: the `oryVersion` images, migrations before serve
 * (`service_completed_successfully`), health checks, named volumes for the SQLite databases (or a `postgres` service
 * with its volume and a one-shot creating the databases, for `database: postgres`), a mail catcher, and
 * batch-auth and role-webhook run from this package.
 *
 * Inside compose the servers reach each other by service name. Kratos and Keto keep their native config files and get
 * the container differences as env (top-level keys: SERVE_*_HOST, DSN, COURIER_SMTP_CONNECTION_URI, the hook lists);
 * Oathkeeper's differences sit deep in its pipeline config, so it gets its own oathkeeper.compose.yml and
 * rules.compose.json (loopback upstreams → host.docker.internal) rendered from the same model.
 *
 * Secrets are interpolated by compose from the project's `.env`: run compose with `--env-file <project>/.env`
 * (as src/runtime/compose.ts does). `${NAME:?…}` makes compose refuse to start when one is missing.
 */
import {externalDatabaseUrl, isManagedPostgres, serversWithDatabase, MANAGED_POSTGRES_USER, type DatabaseServer} from '../config/database.js'
import {usesBuiltInUi} from '../config/browser.js'
import type {IamConfig} from '../config/model.js'
import {embeddedServeArgs, hydraDevMode, kratosDevMode, type EmbeddedTarget} from '../plan/services.js'
import {LAYOUT, SERVER_RELATIVE} from '../project/layout.js'
import {tokenHookConfig} from './hydra.js'
import {isEnvRef, kratosAfterHooks} from './kratos.js'
import {oathkeeperConfigObject} from './oathkeeper.js'
import {yamlDocument} from './common.js'

/** Mail catcher image (SMTP :1025, web UI :8025 inside the container). */
export const MAIL_IMAGE = 'axllent/mailpit:v1.21'
/** The PostgreSQL server of `database: postgres` (the major version iam's migrations are tested against). */
export const POSTGRES_IMAGE = 'postgres:15'
/** Image the embedded servers run in: `npx` fetches this package's published version. */
export const NODE_IMAGE = 'node:20-alpine'

export interface ComposeContext {
  /** Version of this package (iam-stack on npm) the batch-auth and role-webhook services run. */
  packageVersion: string
  packageName?: string
}

/** Where iam's servers listen and reach Keto and Kratos inside compose: all interfaces, service names. */
export function composeTarget(config: IamConfig): EmbeddedTarget {
  const p = config.ports
  return {
    host: '0.0.0.0',
    ketoReadUrl: `http://keto:${p.ketoRead}`,
    kratosAdminUrl: `http://kratos:${p.kratosAdmin}`,
    kratosPublicUrl: `http://kratos:${p.kratosPublic}`,
    oathkeeperApiUrl: `http://oathkeeper:${p.oathkeeperApi}`,
    hydraAdminUrl: `http://hydra:${p.hydraAdmin}`,
    // Mailpit's inbox as the browser on the host opens it.
    mailUrl: `http://127.0.0.1:${p.mailUi}/`,
  }
}

/** Compose project name: lowercase letters, digits, `-` and `_`, starting with a letter or digit. */
export function composeProjectName(project: string): string {
  const name = project.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[^a-z0-9]+/, '')
  return name === '' ? 'iam' : name
}

const secret = (name: string): string => `\${${name}:?run iam render to create ${name} in .env}`
const sqlite = (server: string): string => `sqlite:///var/lib/sqlite/${server}.db?_fk=true&mode=rwc`

/**
 * A server's DSN inside compose: its SQLite file in a named volume, its database on the `postgres` service (the
 * password interpolated from .env), or the user's URL as written (${VAR} interpolated by compose from .env or the
 * shell; a loopback host reached through the host).
 */
function composeDsn(config: IamConfig, server: DatabaseServer): string {
  const {database} = config
  if (database.urls) {
    const url = externalDatabaseUrl(database, server)
    return isEnvRef(url) ? url : rehost(url, 'host.docker.internal')
  }
  if (isManagedPostgres(database)) return `postgres://${MANAGED_POSTGRES_USER}:${secret('POSTGRES_PASSWORD')}@postgres:5432/${server}?sslmode=disable`
  return sqlite(server)
}

/**
 * Hydra (hydra.enabled): its migration, the server (admin API published on loopback only) and the token hook that
 * puts a client's metadata into its tokens; the gateway introspects through the admin API by service name.
 */
function hydraServices(
  config: IamConfig,
  o: {npxIam: string[]; target: EmbeddedTarget; migrateAfter: Record<string, unknown>; onSqlite: boolean},
): Record<string, Record<string, unknown>> {
  const {ports, oryVersion} = config
  const hook = tokenHookConfig(`http://client-claims:${ports.clientClaims}`, secret('CLIENT_CLAIMS_SECRET'))
  const env = {
    DSN: composeDsn(config, 'hydra'),
    SECRETS_SYSTEM: secret('HYDRA_SECRETS_SYSTEM'),
    OIDC_SUBJECT_IDENTIFIERS_PAIRWISE_SALT: secret('HYDRA_PAIRWISE_SALT'),
    OAUTH2_TOKEN_HOOK: JSON.stringify(hook),
    SERVE_PUBLIC_HOST: '0.0.0.0',
    SERVE_ADMIN_HOST: '0.0.0.0',
    SQA_OPT_OUT: 'true',
  }
  const volumes = ['./hydra:/etc/config/hydra:ro', ...(o.onSqlite ? ['hydra-data:/var/lib/sqlite'] : [])]
  return {
    'hydra-migrate': {
      image: `oryd/hydra:${oryVersion}`,
      command: ['migrate', 'sql', 'up', '-e', '--yes', '-c', '/etc/config/hydra/hydra.yml'],
      working_dir: '/etc/config/hydra',
      environment: env,
      volumes,
      ...o.migrateAfter,
    },
    hydra: {
      image: `oryd/hydra:${oryVersion}`,
      command: ['serve', 'all', '-c', '/etc/config/hydra/hydra.yml', ...(hydraDevMode(config) ? ['--dev'] : [])],
      working_dir: '/etc/config/hydra',
      environment: env,
      volumes,
      ports: [published(ports.hydraPublic), published(ports.hydraAdmin)],
      depends_on: {'hydra-migrate': {condition: 'service_completed_successfully'}},
      healthcheck: healthcheck(`http://127.0.0.1:${ports.hydraAdmin}/health/ready`),
      restart: 'unless-stopped',
    },
    'client-claims': {
      image: NODE_IMAGE,
      command: [...o.npxIam, ...embeddedServeArgs(config, 'client-claims', o.target)],
      environment: {CLIENT_CLAIMS_SECRET: secret('CLIENT_CLAIMS_SECRET')},
      depends_on: {hydra: {condition: 'service_healthy'}},
      healthcheck: healthcheck(`http://127.0.0.1:${ports.clientClaims}/health/alive`),
      restart: 'unless-stopped',
    },
  }
}

/** The `postgres` service, and a one-shot that creates the Ory servers' databases on it (never drops any). */
function postgresServices(config: IamConfig): Record<string, Record<string, unknown>> {
  const password = secret('POSTGRES_PASSWORD')
  // `$$` is a literal `$` for compose; the shell sees `$db`.
  const create = `for db in ${serversWithDatabase(config).join(' ')}; do psql -v ON_ERROR_STOP=1 -tAc "SELECT 1 FROM pg_database WHERE datname = '$$db'" | grep -q 1 || psql -v ON_ERROR_STOP=1 -c "CREATE DATABASE $$db" || exit 1; done`
  return {
    postgres: {
      image: POSTGRES_IMAGE,
      environment: {POSTGRES_USER: MANAGED_POSTGRES_USER, POSTGRES_PASSWORD: password, POSTGRES_DB: 'postgres'},
      volumes: ['postgres-data:/var/lib/postgresql/data'],
      ports: [published(config.ports.postgres, 5432)],
      healthcheck: {test: ['CMD', 'pg_isready', '-h', '127.0.0.1', '-U', MANAGED_POSTGRES_USER, '-d', 'postgres'], interval: '2s', timeout: '2s', retries: 60, start_period: '2s'},
      restart: 'unless-stopped',
    },
    'postgres-databases': {
      image: POSTGRES_IMAGE,
      command: ['sh', '-c', create],
      environment: {PGHOST: 'postgres', PGUSER: MANAGED_POSTGRES_USER, PGDATABASE: 'postgres', PGPASSWORD: password},
      depends_on: {postgres: {condition: 'service_healthy'}},
    },
  }
}
const healthcheck = (url: string): Record<string, unknown> => ({
  test: ['CMD', 'wget', '-q', '-O', '/dev/null', url],
  interval: '2s',
  timeout: '2s',
  retries: 60,
  start_period: '2s',
})
const published = (port: number, containerPort = port): string => `127.0.0.1:${port}:${containerPort}`

/**
 * Rewrites a loopback URL's host (and port) to `host` for URLs of host services reached from inside a container.
 * Everything else of the URL is kept byte for byte; other hosts are returned unchanged.
 */
export function rehost(url: string, host: string, port?: number): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^@/]*@)?)(?:127\.0\.0\.1|localhost|\[::1\])(:\d+)?/, (_all, prefix: string, oldPort?: string) => {
    return `${prefix}${host}${port === undefined ? (oldPort ?? '') : `:${port}`}`
  })
}

/** The SMTP URL inside compose: the bundled mail catcher by service name, another host service via the host. */
function composeSmtpUrl(config: IamConfig): string {
  const url = config.kratos.smtpUrl
  if (isEnvRef(url)) return url
  let port: string
  try {
    port = new URL(url).port
  } catch {
    return url
  }
  return port === String(config.ports.mailSmtp) ? rehost(url, 'mailpit', 1025) : rehost(url, 'host.docker.internal')
}

/** The oathkeeper.yml variant for compose (service-name URLs, 0.0.0.0, rules.compose.json). */
export function renderOathkeeperComposeConfig(config: IamConfig): string {
  const doc = oathkeeperConfigObject(config, {
    kratosPublicUrl: `http://kratos:${config.ports.kratosPublic}`,
    batchAuthUrl: `http://batch-auth:${config.ports.batchAuth}`,
    hydraAdminUrl: `http://hydra:${config.ports.hydraAdmin}`,
    rulesLocation: SERVER_RELATIVE.oathkeeperComposeRules,
  }) as {serve: Record<string, {host: string}>}
  doc.serve.proxy!.host = '0.0.0.0'
  doc.serve.api!.host = '0.0.0.0'
  return yamlDocument(doc)
}

export function renderCompose(config: IamConfig, ctx: ComposeContext): string {
  const {ports, oryVersion} = config
  const pkg = `${ctx.packageName ?? 'iam-stack'}@${ctx.packageVersion}`
  const npxIam = ['npx', '--yes', `--package=${pkg}`, 'iam']
  const target = composeTarget(config)
  const hooks = kratosAfterHooks(config, {webhookBaseUrl: `http://role-webhook:${ports.roleWebhook}`, secret: '${ROLE_WEBHOOK_SECRET:?run iam render}'})
  const smtpUrl = composeSmtpUrl(config)
  const kratosEnv: Record<string, string> = {
    DSN: composeDsn(config, 'kratos'),
    SECRETS_COOKIE: secret('KRATOS_SECRETS_COOKIE'),
    SECRETS_CIPHER: secret('KRATOS_SECRETS_CIPHER'),
    SECRETS_DEFAULT: secret('KRATOS_SECRETS_DEFAULT'),
    SERVE_PUBLIC_HOST: '0.0.0.0',
    SERVE_ADMIN_HOST: '0.0.0.0',
    COURIER_SMTP_CONNECTION_URI: smtpUrl,
    SQA_OPT_OUT: 'true',
  }
  if (config.roles.enabled) {
    kratosEnv.SELFSERVICE_FLOWS_LOGIN_AFTER = JSON.stringify(hooks.login)
    kratosEnv.SELFSERVICE_FLOWS_REGISTRATION_AFTER = JSON.stringify(hooks.registration)
  }
  const onSqlite = config.database.engine === 'sqlite'
  const managedDb = isManagedPostgres(config.database)
  const kratosVolumes = ['./kratos:/etc/config/kratos:ro', ...(onSqlite ? ['kratos-data:/var/lib/sqlite'] : [])]
  const ketoVolumes = ['./keto:/etc/config/keto:ro', ...(onSqlite ? ['keto-data:/var/lib/sqlite'] : [])]
  // Migrations wait for the databases on the postgres service; with a user's own server, compose reaches it as given.
  const migrateAfter = managedDb ? {depends_on: {'postgres-databases': {condition: 'service_completed_successfully'}}} : {}
  const ketoEnv = {DSN: composeDsn(config, 'keto'), SERVE_READ_HOST: '0.0.0.0', SERVE_WRITE_HOST: '0.0.0.0', SQA_OPT_OUT: 'true'}
  const services: Record<string, Record<string, unknown>> = {
    ...(managedDb ? postgresServices(config) : {}),
    'kratos-migrate': {
      image: `oryd/kratos:${oryVersion}`,
      command: ['migrate', 'sql', 'up', '-e', '--yes', '-c', '/etc/config/kratos/kratos.yml'],
      working_dir: '/etc/config/kratos',
      env_file: ['../.env'],
      environment: kratosEnv,
      volumes: kratosVolumes,
      ...migrateAfter,
    },
    kratos: {
      image: `oryd/kratos:${oryVersion}`,
      command: ['serve', '-c', '/etc/config/kratos/kratos.yml', ...(kratosDevMode(config) ? ['--dev'] : []), '--watch-courier'],
      working_dir: '/etc/config/kratos',
      env_file: ['../.env'],
      environment: kratosEnv,
      volumes: kratosVolumes,
      ports: [published(ports.kratosPublic), published(ports.kratosAdmin)],
      extra_hosts: ['host.docker.internal:host-gateway'],
      depends_on: {
        'kratos-migrate': {condition: 'service_completed_successfully'},
        mailpit: {condition: 'service_healthy'},
      },
      healthcheck: healthcheck(`http://127.0.0.1:${ports.kratosAdmin}/health/ready`),
      restart: 'unless-stopped',
    },
    'keto-migrate': {
      image: `oryd/keto:${oryVersion}`,
      command: ['migrate', 'up', '--yes', '-c', '/etc/config/keto/keto.yml'],
      working_dir: '/etc/config/keto',
      environment: ketoEnv,
      volumes: ketoVolumes,
      ...migrateAfter,
    },
    keto: {
      image: `oryd/keto:${oryVersion}`,
      command: ['serve', '-c', '/etc/config/keto/keto.yml'],
      working_dir: '/etc/config/keto',
      environment: ketoEnv,
      volumes: ketoVolumes,
      ports: [published(ports.ketoRead), published(ports.ketoWrite)],
      depends_on: {'keto-migrate': {condition: 'service_completed_successfully'}},
      healthcheck: healthcheck(`http://127.0.0.1:${ports.ketoRead}/health/ready`),
      restart: 'unless-stopped',
    },
    'batch-auth': {
      image: NODE_IMAGE,
      command: [...npxIam, ...embeddedServeArgs(config, 'batch-auth', target)],
      ports: [published(ports.batchAuth)],
      depends_on: {keto: {condition: 'service_healthy'}},
      healthcheck: healthcheck(`http://127.0.0.1:${ports.batchAuth}/health/alive`),
      restart: 'unless-stopped',
    },
    oathkeeper: {
      image: `oryd/oathkeeper:${oryVersion}`,
      command: ['serve', '-c', '/etc/config/oathkeeper/oathkeeper.compose.yml'],
      working_dir: '/etc/config/oathkeeper',
      environment: {SQA_OPT_OUT: 'true'},
      volumes: ['./oathkeeper:/etc/config/oathkeeper:ro'],
      ports: [published(ports.oathkeeperProxy), published(ports.oathkeeperApi)],
      extra_hosts: ['host.docker.internal:host-gateway'],
      depends_on: {
        kratos: {condition: 'service_healthy'},
        'batch-auth': {condition: 'service_healthy'},
      },
      healthcheck: healthcheck(`http://127.0.0.1:${ports.oathkeeperApi}/health/ready`),
      restart: 'unless-stopped',
    },
    mailpit: {
      image: MAIL_IMAGE,
      environment: {MP_SMTP_AUTH_ACCEPT_ANY: '1', MP_SMTP_AUTH_ALLOW_INSECURE: '1'},
      ports: [published(ports.mailUi, 8025), published(ports.mailSmtp, 1025)],
      healthcheck: {test: ['CMD', '/mailpit', 'readyz'], interval: '2s', timeout: '2s', retries: 30},
      restart: 'unless-stopped',
    },
  }
  if (usesBuiltInUi(config)) {
    // The sign-in pages: reached through the gateway (rules.compose.json sends /ui/ to this service).
    services.ui = {
      image: NODE_IMAGE,
      command: [...npxIam, ...embeddedServeArgs(config, 'ui', target)],
      depends_on: {kratos: {condition: 'service_healthy'}},
      healthcheck: healthcheck(`http://127.0.0.1:${ports.ui}/health/alive`),
      restart: 'unless-stopped',
    }
  }
  if (config.hydra.enabled) Object.assign(services, hydraServices(config, {npxIam, target, migrateAfter, onSqlite}))
  if (config.roles.enabled) {
    services['role-webhook'] = {
      image: NODE_IMAGE,
      command: [...npxIam, ...embeddedServeArgs(config, 'role-webhook', target)],
      // ROLE_WEBHOOK_SECRET comes from the project's .env.
      env_file: ['../.env'],
      ports: [published(ports.roleWebhook)],
      depends_on: {keto: {condition: 'service_healthy'}},
      healthcheck: healthcheck(`http://127.0.0.1:${ports.roleWebhook}/health/alive`),
      restart: 'unless-stopped',
    }
  }
  return yamlDocument({
    name: composeProjectName(config.project),
    services,
    volumes: onSqlite ? Object.fromEntries(serversWithDatabase(config).map((server) => [`${server}-data`, {}])) : managedDb ? {'postgres-data': {}} : {},
  })
}
