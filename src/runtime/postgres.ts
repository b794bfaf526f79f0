/**
 * The PostgreSQL server iam runs for `database: postgres` (native runtime), from this machine's server binaries
 * (Debian's `postgresql` package): initdb into a folder of the project's, loopback TCP only (no Unix socket), a
 * generated password, one database per Ory server. Also the checks of a user's own server (`database.urls`), which
 * iam only connects to. Errors name the server and host:port/database, never the password.
 */
import {createHash} from 'node:crypto'
import {constants as fsConstants} from 'node:fs'
import {access, appendFile, chown, mkdir, readFile, readdir, rm, stat} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import {execa} from 'execa'
import pg from 'pg'

import {describePostgresUrl, MANAGED_POSTGRES_USER, type DatabaseServer} from '../config/database.js'
import {environmentError, IamError, ExitCode} from '../errors.js'
import type {ProcessSpec} from '../ory/launch.js'
import {writeFileAtomic} from '../util/atomic-write.js'

export interface PostgresBinaries {
  /** Folder holding initdb and postgres. */
  bindir: string
  /** What `postgres --version` reports, e.g. "15.18". */
  version: string
}

/** The account the server runs as when iam runs as root (initdb and postgres refuse to run as root). */
export interface PostgresAccount {
  name: string
  uid: number
  gid: number
}

const INSTALL_HINT = 'Install the PostgreSQL server binaries (Debian/Ubuntu: `sudo apt-get install postgresql`; macOS: `brew install postgresql@15`), or use database: sqlite, or your own server with database.urls.'

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.X_OK)
    return true
  } catch {
    return false
  }
}

/** Candidate folders: $IAM_POSTGRES_BINDIR, `pg_config --bindir`, Debian's /usr/lib/postgresql/<newest>/bin, PATH. */
async function candidateBindirs(env: NodeJS.ProcessEnv): Promise<string[]> {
  const dirs: string[] = []
  if (env.IAM_POSTGRES_BINDIR) return [env.IAM_POSTGRES_BINDIR]
  const fromPgConfig = await execa('pg_config', ['--bindir'], {env, reject: false, timeout: 5000}).catch(() => undefined)
  if (fromPgConfig?.exitCode === 0) dirs.push(String(fromPgConfig.stdout).trim())
  const versions = await readdir('/usr/lib/postgresql').catch(() => [] as string[])
  for (const v of versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))) dirs.push(`/usr/lib/postgresql/${v}/bin`)
  for (const dir of (env.PATH ?? '').split(':')) if (dir) dirs.push(dir)
  return dirs
}

/** The server binaries; POSTGRES_NOT_INSTALLED (exit 3) naming the package when there are none. */
export async function findPostgresBinaries(env: NodeJS.ProcessEnv = process.env): Promise<PostgresBinaries> {
  const looked: string[] = []
  for (const bindir of await candidateBindirs(env)) {
    looked.push(bindir)
    if (!(await isExecutable(join(bindir, 'initdb'))) || !(await isExecutable(join(bindir, 'postgres')))) continue
    const out = await execa(join(bindir, 'postgres'), ['--version'], {reject: false, timeout: 5000})
    const version = /\(PostgreSQL\)\s+(\S+)/.exec(String(out.stdout))?.[1]
    if (out.exitCode === 0 && version) return {bindir, version}
  }
  throw environmentError('POSTGRES_NOT_INSTALLED', `database: postgres needs the PostgreSQL server binaries (initdb, postgres); none found (looked in ${looked.slice(0, 4).join(', ') || 'no folder'}).`, {
    suggestion: INSTALL_HINT,
    details: {looked},
  })
}

/** As root, the `postgres` account to run the server as (from /etc/passwd); undefined when not root. */
export async function postgresAccount(): Promise<PostgresAccount | undefined> {
  if (process.getuid?.() !== 0) return undefined
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '')
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid] = line.split(':')
    if (name === 'postgres' && uid && gid) return {name, uid: Number(uid), gid: Number(gid)}
  }
  throw environmentError('POSTGRES_ACCOUNT_MISSING', 'iam runs as root, and PostgreSQL refuses to run as root, but this machine has no `postgres` account to run it as.', {
    suggestion: 'Run iam as a normal user, or install the postgresql package (it creates the postgres account).',
  })
}

/**
 * The data folder. As a normal user: `.iam/data/postgres` in the project (deleted with it by `iam down --volumes`).
 * As root the server runs as `postgres`, which cannot enter a root-owned project: a folder of its own per project.
 */
export function postgresDataDir(projectDataDir: string, projectDir: string, account: PostgresAccount | undefined): string {
  if (!account) return join(projectDataDir, 'postgres')
  return join('/var/lib/iam/postgres', createHash('sha256').update(projectDir).digest('hex').slice(0, 16))
}

/** Runs initdb once (when the folder has no cluster yet): loopback TCP only, scram-sha-256, superuser `iam`. */
export async function initPostgres(o: {binaries: PostgresBinaries; dataDir: string; account: PostgresAccount | undefined; password: string; logFile: string}): Promise<'created' | 'exists'> {
  if (await stat(join(o.dataDir, 'PG_VERSION')).then(() => true, () => false)) return 'exists'
  // The parents must let the server's account through (as root they are iam's own folders under /var/lib).
  await mkdir(dirname(o.dataDir), {recursive: true, mode: o.account ? 0o755 : 0o700})
  await mkdir(o.dataDir, {mode: 0o700})
  if (o.account) await chown(o.dataDir, o.account.uid, o.account.gid)
  // The password reaches initdb in a file readable by the server's account only, removed at once.
  const pwfile = join(dirname(o.dataDir), `.${createHash('sha256').update(o.dataDir).digest('hex').slice(0, 8)}.pw`)
  await writeFileAtomic(pwfile, `${o.password}\n`, {mode: 0o600})
  try {
    if (o.account) await chown(pwfile, o.account.uid, o.account.gid)
    const args = ['-D', o.dataDir, '-U', MANAGED_POSTGRES_USER, `--pwfile=${pwfile}`, '--auth-host=scram-sha-256', '--auth-local=reject', '-E', 'UTF8', '--no-instructions']
    const result = await execa(join(o.binaries.bindir, 'initdb'), args, {reject: false, all: true, timeout: 120_000, ...(o.account ? {uid: o.account.uid, gid: o.account.gid} : {})})
    await appendFile(o.logFile, `${String(result.all ?? '')}\n`, {mode: 0o600})
    if (result.exitCode !== 0) {
      await rm(o.dataDir, {recursive: true, force: true})
      throw new IamError('SERVICE_NOT_READY', `initdb failed (exit ${result.exitCode}); its output is in the postgres log.`, {
        exitCode: ExitCode.Failure,
        suggestion: '`iam logs postgres` shows why.',
      })
    }
  } finally {
    await rm(pwfile, {force: true})
  }
  return 'created'
}

/** The server process: loopback TCP only, no Unix socket, its log on stderr (the service log). */
export function postgresServeSpec(o: {binaries: PostgresBinaries; dataDir: string; port: number; account: PostgresAccount | undefined}): ProcessSpec {
  return {
    command: join(o.binaries.bindir, 'postgres'),
    args: ['-D', o.dataDir, '-p', String(o.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'logging_collector=off'],
    env: {},
    ...(o.account ? {uid: o.account.uid, gid: o.account.gid} : {}),
  }
}

function connectionFailure(error: unknown): string {
  const e = error as {code?: string; message?: string}
  if (e.code === 'ECONNREFUSED') return 'connection refused'
  if (e.code === '57P03') return 'the server is starting up'
  return e.message ?? String(error)
}

/**
 * pg_isready's question without a password: does the server accept connections? A server that asks for the
 * password (or refuses it) is accepting; one that answers "starting up" (57P03) or does not answer is not.
 */
export async function probePostgres(url: string, timeoutMs: number): Promise<{ok: boolean; error?: string}> {
  const u = new URL(url)
  const client = new pg.Client({host: u.hostname, port: Number(u.port || 5432), user: MANAGED_POSTGRES_USER, database: 'postgres', password: () => Promise.reject(new Error('probe: no password')), connectionTimeoutMillis: Math.max(1, timeoutMs)})
  client.on('error', () => undefined)
  try {
    await client.connect()
    return {ok: true}
  } catch (error) {
    const e = error as {code?: string; message?: string}
    if (e.code?.startsWith('28') || e.message === 'probe: no password') return {ok: true}
    return {ok: false, error: connectionFailure(error)}
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** Creates the Ory servers' databases that do not exist yet on the managed server (never drops anything). */
export async function ensureDatabases(o: {port: number; password: string; databases: readonly DatabaseServer[]}): Promise<DatabaseServer[]> {
  const client = new pg.Client({host: '127.0.0.1', port: o.port, user: MANAGED_POSTGRES_USER, password: o.password, database: 'postgres', connectionTimeoutMillis: 10_000, statement_timeout: 30_000})
  client.on('error', () => undefined)
  await client.connect()
  try {
    const existing = new Set((await client.query<{datname: string}>('SELECT datname FROM pg_database WHERE datname = ANY($1)', [[...o.databases]])).rows.map((r) => r.datname))
    const created: DatabaseServer[] = []
    for (const name of o.databases) {
      if (existing.has(name)) continue
      // The names come from DATABASE_SERVERS (lower-case identifiers), never from input.
      await client.query(`CREATE DATABASE "${name}"`)
      created.push(name)
    }
    return created
  } finally {
    await client.end().catch(() => undefined)
  }
}

/**
 * Connects to a user's database and runs `SELECT 1`. DATABASE_UNREACHABLE (exit 3) names the Ory server and
 * host:port/database, never the URL's user or password.
 */
export async function checkDatabase(server: DatabaseServer, url: string, timeoutMs = 5000): Promise<void> {
  const client = new pg.Client({connectionString: url, connectionTimeoutMillis: timeoutMs, statement_timeout: timeoutMs, query_timeout: timeoutMs})
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.query('SELECT 1')
  } catch (error) {
    const where = describePostgresUrl(url)
    // Driver messages can quote the URL's user; the password never reaches them, but strip the URL itself to be sure.
    const reason = connectionFailure(error).split(url).join(where)
    throw environmentError('DATABASE_UNREACHABLE', `${server}'s database at ${where} cannot be reached: ${reason}.`, {
      suggestion: `Check that the server at ${where} runs, that the database exists, and database.urls.${server} (its user, password and sslmode) in iam.yaml or the variable it names.`,
      details: {server, at: where},
    })
  } finally {
    await client.end().catch(() => undefined)
  }
}
