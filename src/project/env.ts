/**
 * The environment each server of the native runtime needs on top of its rendered config: the secrets from `.env`,
 * the SQLite DSN and, for Kratos, the values that must not be written into kratos.yml. Ory servers read any config
 * key from env (ory/x configx: key upper-cased, `.` → `_`; string lists take a plain value or a JSON array; env
 * replaces the whole key, lists included). Verified against the real binaries in test/project/render.real.test.ts.
 */
import {externalDatabaseUrl, isManagedPostgres, managedPostgresUrl, type DatabaseServer} from '../config/database.js'
import {resolveEnvRefs} from '../config/env.js'
import {IamError} from '../errors.js'
import type {IamConfig} from '../config/model.js'
import {tokenHookConfig} from '../templates/hydra.js'
import {isEnvRef, kratosAfterHooks} from '../templates/kratos.js'
import {sqliteDsn} from './layout.js'
import type {Secrets} from './secrets.js'

export interface ServerEnvOptions {
  config: IamConfig
  projectDir: string
  secrets: Secrets & Record<string, string>
  /** Environment `${VAR}` references of iam.yaml resolve from (default: process.env over the .env values). */
  env?: NodeJS.ProcessEnv
}

/**
 * The DSN a server's migrations and serve command read from env `DSN` (never a command-line argument: it may hold a
 * password): its SQLite file, the managed PostgreSQL server's database named after it, or the user's URL.
 */
export function databaseDsn(o: ServerEnvOptions, server: DatabaseServer): string {
  const {database, ports} = o.config
  if (database.urls) return resolveEnvRefs(externalDatabaseUrl(database, server), {...o.secrets, ...(o.env ?? process.env)})
  if (isManagedPostgres(database)) {
    const password = o.secrets.POSTGRES_PASSWORD
    if (!password) throw missingSecret('POSTGRES_PASSWORD')
    return managedPostgresUrl({host: '127.0.0.1', port: ports.postgres, password, database: server})
  }
  return sqliteDsn(o.projectDir, server)
}

/** A secret this iam.yaml needs is not in `.env` (removed by hand): `iam render` generates what is missing. */
function missingSecret(name: string): IamError {
  return new IamError('SECRETS_MISSING', `.env lacks ${name}, which this iam.yaml needs.`, {suggestion: 'Run `iam render` to generate the missing secrets.', details: {missing: [name]}})
}

/** Env for `kratos migrate` and `kratos serve` (contains secrets: never log it). */
export function kratosEnv(o: ServerEnvOptions): Record<string, string> {
  const env: Record<string, string> = {
    DSN: databaseDsn(o, 'kratos'),
    SECRETS_COOKIE: o.secrets.KRATOS_SECRETS_COOKIE,
    SECRETS_CIPHER: o.secrets.KRATOS_SECRETS_CIPHER,
    SECRETS_DEFAULT: o.secrets.KRATOS_SECRETS_DEFAULT,
  }
  if (isEnvRef(o.config.kratos.smtpUrl)) {
    env.COURIER_SMTP_CONNECTION_URI = resolveEnvRefs(o.config.kratos.smtpUrl, {...o.secrets, ...(o.env ?? process.env)})
  }
  if (o.config.roles.enabled) {
    const hooks = kratosAfterHooks(o.config, {secret: o.secrets.ROLE_WEBHOOK_SECRET})
    env.SELFSERVICE_FLOWS_LOGIN_AFTER = JSON.stringify(hooks.login)
    env.SELFSERVICE_FLOWS_REGISTRATION_AFTER = JSON.stringify(hooks.registration)
  }
  return env
}

/** Env for `keto migrate` and `keto serve` (may contain a database password: never log it). */
export function ketoEnv(o: ServerEnvOptions): Record<string, string> {
  return {DSN: databaseDsn(o, 'keto')}
}

/**
 * Env for `hydra migrate` and `hydra serve` (secrets: never log it): the DSN, the system secret, the pairwise salt
 * and the token hook with its key. `hookBaseUrl`: where Hydra reaches `iam serve client-claims`.
 */
export function hydraEnv(o: ServerEnvOptions, hookBaseUrl = `http://127.0.0.1:${o.config.ports.clientClaims}`): Record<string, string> {
  const secret = (name: 'HYDRA_SECRETS_SYSTEM' | 'HYDRA_PAIRWISE_SALT' | 'CLIENT_CLAIMS_SECRET'): string => {
    const value = o.secrets[name]
    if (!value) throw missingSecret(name)
    return value
  }
  return {
    DSN: databaseDsn(o, 'hydra'),
    SECRETS_SYSTEM: JSON.stringify([secret('HYDRA_SECRETS_SYSTEM')]),
    OIDC_SUBJECT_IDENTIFIERS_PAIRWISE_SALT: secret('HYDRA_PAIRWISE_SALT'),
    OAUTH2_TOKEN_HOOK: JSON.stringify(tokenHookConfig(hookBaseUrl, secret('CLIENT_CLAIMS_SECRET'))),
  }
}

/** Env for `iam serve client-claims`: the key Hydra's token hook calls it with. */
export function clientClaimsEnv(o: Pick<ServerEnvOptions, 'secrets'>): Record<string, string> {
  const key = o.secrets.CLIENT_CLAIMS_SECRET
  return key ? {CLIENT_CLAIMS_SECRET: key} : {}
}

/** Env for `iam serve role-webhook`. */
export function roleWebhookEnv(o: Pick<ServerEnvOptions, 'secrets'>): Record<string, string> {
  return {ROLE_WEBHOOK_SECRET: o.secrets.ROLE_WEBHOOK_SECRET}
}
