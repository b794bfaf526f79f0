/**
 * Pure: where each Ory server keeps its data. `database: sqlite` (the default) is a file per server under
 * `.iam/data`; `database: postgres` is a PostgreSQL server iam runs for development (one database per server,
 * a generated password in `.env`); `database: {engine: postgres, urls: {…}}` is the user's own server, given by
 * (usually `${VAR}`) URLs, one database per server, which iam only connects to — it never creates or drops anything
 * there.
 */
import type {DatabaseConfig, IamConfig} from './model.js'

/** The Ory servers that keep data in a database (Oathkeeper keeps none). */
export const DATABASE_SERVERS = ['kratos', 'keto', 'hydra'] as const
export type DatabaseServer = (typeof DATABASE_SERVERS)[number]

/** The servers of this project that keep data: Kratos and Keto, and Hydra when enabled. */
export function serversWithDatabase(config: Pick<IamConfig, 'hydra'>): DatabaseServer[] {
  return DATABASE_SERVERS.filter((server) => server !== 'hydra' || config.hydra.enabled)
}

/** The user's URL (as written, maybe ${VAR}) of one server's database; validation makes sure it is there. */
export function externalDatabaseUrl(db: DatabaseConfig, server: DatabaseServer): string {
  const url = db.urls?.[server]
  if (url === undefined) throw new Error(`database.urls.${server} is not set`)
  return url
}

/** The account of the managed server (its password is POSTGRES_PASSWORD in `.env`). */
export const MANAGED_POSTGRES_USER = 'iam'

export function isManagedPostgres(db: DatabaseConfig): boolean {
  return db.engine === 'postgres' && db.urls === undefined
}

export function isExternalPostgres(db: DatabaseConfig): boolean {
  return db.engine === 'postgres' && db.urls !== undefined
}

/** The managed server's URL for one server's database (the password is URL-encoded; never log the result). */
export function managedPostgresUrl(o: {host: string; port: number; password: string; database: string}): string {
  return `postgres://${MANAGED_POSTGRES_USER}:${encodeURIComponent(o.password)}@${o.host}:${o.port}/${o.database}?sslmode=disable`
}

/** `host:port/database` of a PostgreSQL URL: what an error may name (never the user or password). */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.hostname}:${u.port || '5432'}${u.pathname || '/'}`
  } catch {
    return 'an unparsable URL'
  }
}
