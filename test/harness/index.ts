/**
 * Test harness for the REAL Ory servers: each start function creates a temp dir, picks free loopback ports, writes a
 * minimal config (SQLite under the temp dir), runs migrations, starts `serve` and waits for /health/ready on every API
 * port. Every server started in a test file is stopped after that file (even when tests fail or time out), and the
 * logs of the file's servers are printed when a test fails. A missing binary throws ORY_BINARY_MISSING: never a skip.
 */
import {createHash} from 'node:crypto'
import {mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {pathToFileURL} from 'node:url'
import {parse as parseYaml, stringify as stringifyYaml} from 'yaml'

import {isIamError} from '../../src/errors.js'
import {healthUrls, resolveOryBinary} from '../../src/ory/launch.js'
import {ORY_SPECS, type OryServer} from '../../src/ory/servers.js'
import {getFreePorts} from './ports.js'
import {
  DEFAULT_IDENTITY_SCHEMA,
  type JsonObject,
  type KetoNamespace,
  ketoConfig,
  kratosConfig,
  oathkeeperConfig,
  sqliteDsn,
} from './configs.js'
import {collapseRepeats, ManagedServer, registry, stopAll, type ServerHandle} from './process.js'

export type {ServerHandle} from './process.js'
export {getFreePort, getFreePorts} from './ports.js'

/** Extra, non-contract details of a harness-started server (useful when debugging a test). */
export interface HarnessDetails {
  /** pid of the running `serve` process, undefined while stopped. */
  readonly pid: number | undefined
  /** Temp dir holding config, database and rendered files. */
  dir: string
  configPath: string
  /** Time from spawning `serve` to every ready URL answering, one entry per start(). */
  readyTimesMs: number[]
  /** Time the migration took on the first start (undefined for Oathkeeper). */
  migrateMs: number | undefined
}

const tempDirs: string[] = []
let failures = 0
const counters = new Map<string, number>()

function nextName(server: string): string {
  const n = (counters.get(server) ?? 0) + 1
  counters.set(server, n)
  return n === 1 ? server : `${server}#${n}`
}

/**
 * A temp dir removed after the test file like the servers' own dirs (kept, and its path printed, when a test failed
 * or IAM_HARNESS_KEEP=1).
 */
export async function tempDir(label = 'tmp'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `iam-harness-${label}-`))
  tempDirs.push(dir)
  return dir
}

const loopback = (port: number): string => `http://127.0.0.1:${port}`

/**
 * Renders a config on fresh free ports and starts the server; when another process grabbed one of the ports
 * between our probe and the server's bind, tries again on new ports.
 */
async function startOnFreePorts<K extends string>(
  server: OryServer,
  portNames: readonly K[],
  render: (dir: string, ports: Record<K, number>) => Promise<{configPath: string; dsn?: string; urls: Record<string, string>}>,
  o: {dev?: boolean; db?: string} = {},
): Promise<ManagedServer & HarnessDetails> {
  const binary = (await resolveOryBinary(server)).path
  const template = o.db && process.env.IAM_HARNESS_MIGRATION_CACHE !== '0' ? await templatePath(server, binary) : undefined
  const dir = await tempDir(server)
  const name = nextName(server)
  for (let attempt = 1; ; attempt++) {
    const ports = await getFreePorts(portNames)
    const {configPath, dsn, urls} = await render(dir, ports)
    const handle = new ManagedServer({
      server,
      name,
      binary,
      configPath,
      cwd: dir,
      dsn,
      dev: o.dev,
      urls,
      readyUrls: healthUrls(server, urls),
      ports,
      migrationCache: template && o.db ? {db: join(dir, o.db), cache: template} : undefined,
    })
    try {
      await handle.start()
      return Object.assign(handle, {dir, configPath})
    } catch (error) {
      const portTaken = (isIamError(error) && error.code === 'PORT_IN_USE') || /address already in use/i.test(handle.logs())
      if (!portTaken || attempt >= 3) throw error
      registry.delete(handle)
    }
  }
}

/**
 * Where the migrated template database of this exact binary is cached (keyed by path, size and mtime, so a rebuilt
 * binary migrates afresh). Set IAM_HARNESS_MIGRATION_CACHE=0 to migrate on every start.
 */
async function templatePath(server: OryServer, binary: string): Promise<string> {
  const info = await stat(binary)
  const key = createHash('sha256').update(`${binary}\0${info.size}\0${info.mtimeMs}`).digest('hex').slice(0, 16)
  return join(tmpdir(), 'iam-harness-templates', `${server}-${ORY_SPECS[server].version}-${key}.db`)
}

async function writeConfig(dir: string, file: string, config: JsonObject): Promise<string> {
  const path = join(dir, file)
  await writeFile(path, stringifyYaml(config), {mode: 0o600})
  return path
}

export interface StartKetoOptions {
  namespaces?: KetoNamespace[]
  /** Deep-merged over the harness defaults (e.g. `{limit: {max_batch_check_size: 3}}`). */
  config?: Record<string, unknown>
}

export async function startKeto(o: StartKetoOptions = {}): Promise<ServerHandle & HarnessDetails & {urls: {read: string; write: string}}> {
  const handle = await startOnFreePorts('keto', ['read', 'write', 'metrics', 'opl'] as const, async (dir, ports) => {
    const dsn = sqliteDsn(join(dir, 'keto.db'))
    const configPath = await writeConfig(dir, 'keto.yml', ketoConfig({dsn, ports, namespaces: o.namespaces, config: o.config}))
    return {configPath, dsn, urls: {read: loopback(ports.read), write: loopback(ports.write)}}
  })
  return handle as typeof handle & {urls: {read: string; write: string}}
}

export interface StartKratosOptions {
  /** Deep-merged over the harness defaults. */
  config?: Record<string, unknown>
  /** Identity schema (JSON Schema with ory.sh/kratos extensions); default: email + password. */
  identitySchema?: object
}

export async function startKratos(o: StartKratosOptions = {}): Promise<ServerHandle & HarnessDetails & {urls: {public: string; admin: string}}> {
  const handle = await startOnFreePorts(
    'kratos',
    ['public', 'admin', 'smtp'] as const,
    async (dir, ports) => {
      const schemaPath = join(dir, 'identity.schema.json')
      await writeFile(schemaPath, JSON.stringify(o.identitySchema ?? DEFAULT_IDENTITY_SCHEMA, null, 2))
      const dsn = sqliteDsn(join(dir, 'kratos.db'))
      const config = kratosConfig({dsn, ports, identitySchemaUrl: pathToFileURL(schemaPath).href, config: o.config})
      const configPath = await writeConfig(dir, 'kratos.yml', config)
      return {configPath, dsn, urls: {public: loopback(ports.public), admin: loopback(ports.admin)}}
    },
    {dev: true, db: 'kratos.db'},
  )
  return handle as typeof handle & {urls: {public: string; admin: string}}
}

export interface StartOathkeeperOptions {
  /** Deep-merged over the harness defaults; configuring a handler (e.g. `mutators.id_token.config`) enables it. */
  config?: Record<string, unknown>
  /** Access rules, written to rules.json and loaded via `access_rules.repositories: [file://…]`. */
  rules: object[]
}

export async function startOathkeeper(o: StartOathkeeperOptions): Promise<ServerHandle & HarnessDetails & {urls: {proxy: string; api: string}}> {
  if (o.rules.length === 0) {
    // Oathkeeper (v26.2.0 as v0.40.9) never reports ready without a rule; fail now rather than after the readiness timeout.
    throw new Error('startOathkeeper: pass at least one access rule (Oathkeeper never reports /health/ready with no rules)')
  }
  const handle = await startOnFreePorts('oathkeeper', ['proxy', 'api', 'prometheus'] as const, async (dir, ports) => {
    const rulesPath = join(dir, 'rules.json')
    await writeFile(rulesPath, JSON.stringify(o.rules, null, 2))
    const config = oathkeeperConfig({ports, rulesUrl: pathToFileURL(rulesPath).href, config: o.config})
    const configPath = await writeConfig(dir, 'oathkeeper.yml', config)
    return {configPath, urls: {proxy: loopback(ports.proxy), api: loopback(ports.api)}}
  })
  return handle as typeof handle & {urls: {proxy: string; api: string}}
}

export interface StartOryFromConfigOptions {
  server: OryServer
  /** A config you rendered yourself (ports, DSN — or pass DSN in env). */
  configPath: string
  /** Working dir of the server (relative paths in the config resolve against it). Default: the config's directory. */
  cwd?: string
  env?: Record<string, string>
  readyUrls: string[]
  /** Kratos only: `serve --dev` (needed for plain-http loopback URLs). Default true. */
  dev?: boolean
}

/**
 * Starts a real server from a config file rendered elsewhere (migrations first when the server has them). `urls`
 * holds the API base URLs read from the config's `serve` section when they can be read (e.g. {read, write} for Keto).
 */
export async function startOryFromConfig(o: StartOryFromConfigOptions): Promise<ServerHandle & {configPath: string}> {
  const binary = (await resolveOryBinary(o.server)).path
  const configPath = resolve(o.configPath)
  const urls = await urlsFromConfig(o.server, configPath)
  const handle = new ManagedServer({
    server: o.server,
    name: nextName(o.server),
    binary,
    configPath,
    cwd: o.cwd ?? dirname(configPath),
    env: o.env,
    dsn: o.env?.DSN,
    dev: o.server === 'kratos' && o.dev !== false,
    urls,
    readyUrls: o.readyUrls,
    ports: loopbackPorts(o.readyUrls),
  })
  await handle.start()
  return Object.assign(handle, {configPath})
}

function loopbackPorts(urls: string[]): Record<string, number> {
  const ports: Record<string, number> = {}
  for (const url of urls) {
    const parsed = new URL(url)
    if (['127.0.0.1', 'localhost'].includes(parsed.hostname) && parsed.port) ports[parsed.host] = Number(parsed.port)
  }
  return ports
}

async function urlsFromConfig(server: OryServer, configPath: string): Promise<Record<string, string>> {
  const names = {kratos: ['public', 'admin'], keto: ['read', 'write'], oathkeeper: ['proxy', 'api'], hydra: ['public', 'admin']}[server]
  const urls: Record<string, string> = {}
  try {
    const config = parseYaml(await readFile(configPath, 'utf8')) as {serve?: Record<string, {host?: string; port?: number}>}
    for (const name of names) {
      const section = config.serve?.[name]
      if (typeof section?.port !== 'number') continue
      const host = !section.host || section.host === '0.0.0.0' ? '127.0.0.1' : section.host
      urls[name] = `http://${host.includes(':') ? `[${host}]` : host}:${section.port}`
    }
  } catch {
    // Unreadable config: the server will say so when it starts; urls stay empty.
  }
  return urls
}

// ------------------------------------------------------------------ per-file lifecycle

const PRINTED_LOG_LINES = 200

/** Prints the tail of every server's log of this file, and writes the full logs to files whose paths it prints. */
async function printLogs(reason: string): Promise<void> {
  if (registry.size === 0) return
  const logDir = await mkdtemp(join(tmpdir(), 'iam-harness-logs-'))
  tempDirs.push(logDir)
  for (const server of registry) {
    const full = server.logs()
    const file = join(logDir, `${server.name.replace(/[^\w.-]/g, '_')}.log`)
    await writeFile(file, full)
    const lines = collapseRepeats(full.split('\n'))
    const shown = lines.slice(-PRINTED_LOG_LINES).join('\n')
    const cut = lines.length > PRINTED_LOG_LINES ? ` (last ${PRINTED_LOG_LINES} of ${lines.length} lines)` : ''
    process.stderr.write(
      `\n===== ${reason}: logs of ${server.name} (${Object.values(server.urls).join(', ')})${cut}; full log: ${file} =====\n${shown}\n===== end of ${server.name} =====\n`,
    )
  }
}

// Registered at import, so the hooks belong to the importing test file. Outside vitest (scripts, benches) there are no
// hooks: the caller stops its servers, and the exit hook and watchdog still kill leftovers.
if (process.env.VITEST) {
  const {afterAll, beforeEach} = await import('vitest')
  beforeEach((ctx) => {
    ctx.onTestFailed(async () => {
      failures++
      await printLogs(`test failed: ${ctx.task.name}`)
    })
  })
  afterAll(async () => {
    await stopAll()
    if (failures > 0 || process.env.IAM_HARNESS_KEEP === '1') {
      if (tempDirs.length > 0) process.stderr.write(`harness: kept server dirs for inspection: ${tempDirs.join(' ')}\n`)
      return
    }
    await Promise.all(tempDirs.map((dir) => rm(dir, {recursive: true, force: true})))
  })
}
