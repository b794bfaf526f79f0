/**
 * One real Ory server process under test: spawn, capture logs, wait for readiness, stop (SIGTERM, then SIGKILL),
 * restart with the same config and data. Every server is registered so the file's afterAll stops it, a
 * synchronous exit hook kills survivors, and a detached watchdog kills them if the test worker itself is killed.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {constants as fsConstants} from 'node:fs'
import {copyFile, mkdir, rename} from 'node:fs/promises'
import {dirname} from 'node:path'

import {IamError, isIamError} from '../../src/errors.js'
import {fatalStartupLine, migrationSpec, serveSpec, waitForReady, type ProcessSpec} from '../../src/ory/launch.js'
import type {OryServer} from '../../src/ory/servers.js'
import {assertPortsFree} from '../../src/util/ports.js'

const STOP_GRACE_MS = 5000
const READY_TIMEOUT_MS = Number(process.env.IAM_HARNESS_READY_TIMEOUT_MS ?? 60_000)
const MIGRATE_TIMEOUT_MS = 120_000
const LOG_LIMIT = 2 * 1024 * 1024

export interface ServerHandle {
  name: string
  urls: Record<string, string>
  logs(): string
  stop(): Promise<void>
  /** Restart after stop(): same config, ports and data. A no-op when running. */
  start(): Promise<void>
}

export interface ManagedServerOptions {
  server: OryServer
  name: string
  binary: string
  configPath: string
  cwd: string
  env?: Record<string, string>
  dsn?: string
  dev?: boolean
  urls: Record<string, string>
  readyUrls: string[]
  /** Loopback ports the server will bind, checked free before each start (fail fast instead of a hang). */
  ports: Record<string, number>
  /**
   * SQLite file the migration creates, and where a migrated copy of it is cached for this binary: later starts copy
   * the cached file instead of migrating again (Kratos' migration takes seconds of CPU on every start otherwise).
   */
  migrationCache?: {db: string; cache: string}
}

/**
 * The environment servers start with: only what a process needs to run. Ory servers read any config key from the
 * environment (DSN, SERVE_PUBLIC_PORT, LOG_LEVEL, SECRETS_…), so passing the test worker's whole environment would let
 * stray variables silently override the config under test.
 */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  // The one Ory key passed through: vitest.config.ts turns Kratos' Have I Been Pwned lookup off for the whole suite
  // (loopback only; offline each registration would wait ~15 s for it).
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'TZ', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'SELFSERVICE_METHODS_PASSWORD_CONFIG_HAVEIBEENPWNED_ENABLED']) {
    const value = process.env[key]
    if (value !== undefined) env[key] = value
  }
  return env
}

/** Every server started in this worker (one test file per worker), in start order. */
export const registry = new Set<ManagedServer>()

export class ManagedServer implements ServerHandle {
  readonly name: string
  readonly urls: Record<string, string>
  /** Wall-clock ms from spawn of `serve` to every ready URL answering, for each start. */
  readonly readyTimesMs: number[] = []
  /** Wall-clock ms the migration took (undefined for Oathkeeper or before the first start). */
  migrateMs: number | undefined
  private readonly o: ManagedServerOptions
  private chunks: string[] = []
  private size = 0
  private child: ChildProcess | undefined
  /** False once the child exited or failed to spawn (a failed spawn leaves exitCode null forever). */
  private childRunning = false
  private exited: Promise<void> | undefined
  private starting: Promise<void> | undefined
  private abort: AbortController | undefined
  private migrated = false
  /** Log text of the current start attempt, scanned for fatal startup lines. */
  private attemptLog = ''

  constructor(o: ManagedServerOptions) {
    this.o = o
    this.name = o.name
    this.urls = o.urls
    registry.add(this)
  }

  logs(): string {
    return this.chunks.join('')
  }

  get pid(): number | undefined {
    return this.isRunning() ? this.child?.pid : undefined
  }

  isRunning(): boolean {
    return this.child !== undefined && this.childRunning
  }

  private log(text: string): void {
    this.chunks.push(text)
    this.size += text.length
    while (this.size > LOG_LIMIT && this.chunks.length > 1) this.size -= this.chunks.shift()!.length
  }

  async start(): Promise<void> {
    if (this.starting) return this.starting
    if (this.isRunning()) return
    this.abort = new AbortController()
    this.starting = this.doStart(this.abort.signal).finally(() => {
      this.starting = undefined
    })
    return this.starting
  }

  private async doStart(signal: AbortSignal): Promise<void> {
    const launch = {binary: this.o.binary, configPath: this.o.configPath, dsn: this.o.dsn}
    if (!this.migrated) {
      const migration = migrationSpec(this.o.server, launch)
      if (migration) {
        const t0 = performance.now()
        const cache = this.o.migrationCache
        if (cache && (await copyFile(cache.cache, cache.db, fsConstants.COPYFILE_EXCL).then(() => true, () => false))) {
          this.log(`--- ${this.name}: database copied from the migrated template ${cache.cache}\n`)
        } else {
          await this.runMigration(migration, signal)
          if (cache) await saveTemplate(cache.db, cache.cache)
        }
        this.migrateMs = Math.round(performance.now() - t0)
      }
      this.migrated = true
    }
    await assertPortsFree(Object.entries(this.o.ports).map(([name, port]) => ({service: this.name, name, port})))
    const spec = serveSpec(this.o.server, {...launch, dev: this.o.dev})
    this.log(`--- ${this.name}: ${[spec.command, ...spec.args].join(' ')}\n`)
    const startedAt = performance.now()
    const child = spawn(spec.command, spec.args, {
      cwd: this.o.cwd,
      env: {...baseEnv(), ...spec.env, ...this.o.env},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.child = child
    this.childRunning = child.pid !== undefined
    this.attemptLog = ''
    const capture = (d: string): void => {
      this.log(d)
      if (this.attemptLog.length < 256 * 1024) this.attemptLog += d
    }
    child.stdout?.setEncoding('utf8').on('data', capture)
    child.stderr?.setEncoding('utf8').on('data', capture)
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, sig) => {
        this.childRunning = false
        this.log(`--- ${this.name}: exited (${sig ?? `code ${code}`})\n`)
        watchdogSend(`del ${child.pid}`)
        resolve()
      })
      child.on('error', (error) => {
        this.log(`--- ${this.name}: process error: ${error.message}\n`)
        // Only a failed spawn ends the process's life here; other errors (e.g. a failed kill) are followed by 'exit'.
        if (child.pid === undefined) {
          this.childRunning = false
          resolve()
        }
      })
    })
    if (child.pid !== undefined) watchdogSend(`add ${child.pid} ${spec.command}`)
    try {
      const isAlive = (): boolean => this.isRunning() && fatalStartupLine(this.attemptLog) === undefined
      await Promise.all(this.o.readyUrls.map((url) => waitForReady(url, {timeoutMs: READY_TIMEOUT_MS, intervalMs: 50, signal, isAlive})))
    } catch (error) {
      await this.kill()
      if (signal.aborted) throw new Error(`${this.name}: start aborted by stop()`)
      throw withLogTail(error, this)
    }
    this.readyTimesMs.push(Math.round(performance.now() - startedAt))
  }

  private async runMigration(spec: ProcessSpec, signal: AbortSignal): Promise<void> {
    this.log(`--- ${this.name}: ${[spec.command, ...spec.args].join(' ')}\n`)
    const child = spawn(spec.command, spec.args, {
      cwd: this.o.cwd,
      env: {...baseEnv(), ...spec.env, ...this.o.env},
      stdio: ['ignore', 'pipe', 'pipe'],
      signal,
      timeout: MIGRATE_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    })
    if (child.pid !== undefined) watchdogSend(`add ${child.pid} ${spec.command}`)
    child.stdout?.setEncoding('utf8').on('data', (d: string) => this.log(d))
    child.stderr?.setEncoding('utf8').on('data', (d: string) => this.log(d))
    const [code, sig] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
      child.once('close', (c, s) => resolve([c, s]))
      child.on('error', (error) => {
        this.log(`--- migration error: ${error.message}\n`)
        if (child.pid === undefined) resolve([null, null]) // never spawned: no 'close' will follow
      })
    })
    watchdogSend(`del ${child.pid}`)
    if (code !== 0) {
      throw withLogTail(
        new IamError('ORY_MIGRATION_FAILED', `${this.name}: migration failed (${sig ?? `exit code ${code}`}).`, {details: {server: this.o.server}}),
        this,
      )
    }
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves once the process is gone. */
  private async kill(): Promise<void> {
    const child = this.child
    if (!child || !this.exited) return
    if (this.isRunning()) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => {
        if (this.isRunning()) {
          this.log(`--- ${this.name}: no exit ${STOP_GRACE_MS} ms after SIGTERM, sending SIGKILL\n`)
          child.kill('SIGKILL')
        }
      }, STOP_GRACE_MS)
      await this.exited
      clearTimeout(timer)
    }
    await this.exited
  }

  async stop(): Promise<void> {
    this.abort?.abort()
    await this.starting?.catch(() => undefined)
    await this.kill()
  }

  /** Last resort from the exit hook: synchronous, no waiting. */
  killNow(): void {
    if (this.isRunning()) this.child?.kill('SIGKILL')
  }
}

/** Publishes a freshly migrated database as the template (atomic rename: concurrent workers never see half a file). */
async function saveTemplate(db: string, template: string): Promise<void> {
  try {
    await mkdir(dirname(template), {recursive: true})
    const tmp = `${template}.${process.pid}.${Date.now()}.tmp`
    await copyFile(db, tmp)
    await rename(tmp, template)
  } catch {
    // Only an optimisation: the next start migrates again.
  }
}

/** True while a process with this pid exists (signal 0 probes without signalling). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Folds runs of lines that differ only in timestamps/ports (e.g. one error per readiness poll) into one line. */
export function collapseRepeats(lines: string[]): string[] {
  const shape = (line: string): string => line.replace(/\d+/g, '0')
  const out: string[] = []
  let run = 0
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (i > 0 && shape(line) === shape(lines[i - 1]!)) {
      run++
      continue
    }
    if (run > 0) out.push(`    … ${run} more similar line${run === 1 ? '' : 's'}`)
    run = 0
    out.push(line)
  }
  if (run > 0) out.push(`    … ${run} more similar line${run === 1 ? '' : 's'}`)
  return out
}

function withLogTail(error: unknown, server: ManagedServer): Error {
  const tail = collapseRepeats(server.logs().split('\n')).slice(-40).join('\n')
  const message = `${error instanceof Error ? error.message : String(error)}\n--- last log lines of ${server.name} ---\n${tail}`
  if (isIamError(error)) {
    return new IamError(error.code, message, {exitCode: error.exitCode, suggestion: error.suggestion, details: error.details, cause: error})
  }
  return new Error(message, {cause: error})
}

// ------------------------------------------------------------------ last-resort cleanup

process.on('exit', () => {
  for (const server of registry) server.killNow()
})

/**
 * A detached watchdog that outlives a killed worker: it learns our child pids over a pipe and, when the pipe closes
 * (this process exited or was SIGKILLed), terminates the ones still running whose command line is still the binary we
 * started (guards against pid reuse).
 */
const WATCHDOG_SOURCE = `
const {readFileSync} = require('node:fs')
const pids = new Map()
let buf = ''
const alive = (pid, exe) => {
  try { process.kill(pid, 0) } catch { return false }
  if (process.platform !== 'linux') return true
  try { return readFileSync('/proc/' + pid + '/cmdline', 'utf8').split('\\0')[0] === exe } catch { return false }
}
process.stdin.setEncoding('utf8')
process.stdin.on('data', (d) => {
  buf += d
  let i
  while ((i = buf.indexOf('\\n')) >= 0) {
    const [op, pid, ...exe] = buf.slice(0, i).split(' ')
    buf = buf.slice(i + 1)
    if (op === 'add') pids.set(Number(pid), exe.join(' '))
    else if (op === 'del') pids.delete(Number(pid))
  }
})
const reap = () => {
  const live = [...pids].filter(([pid, exe]) => alive(pid, exe))
  if (live.length === 0) process.exit(0)
  for (const [pid] of live) try { process.kill(pid, 'SIGTERM') } catch {}
  setTimeout(() => { for (const [pid, exe] of live) if (alive(pid, exe)) try { process.kill(pid, 'SIGKILL') } catch {}; process.exit(0) }, 3000)
}
process.stdin.on('end', reap)
process.stdin.on('error', reap)
`

let watchdog: ChildProcess | undefined

function watchdogSend(line: string): void {
  if (process.env.IAM_HARNESS_NO_WATCHDOG === '1') return
  if (!watchdog) {
    watchdog = spawn(process.execPath, ['-e', WATCHDOG_SOURCE], {detached: true, stdio: ['pipe', 'ignore', 'ignore']})
    watchdog.on('error', () => undefined)
    watchdog.stdin?.on('error', () => undefined)
    watchdog.unref()
    ;(watchdog.stdin as unknown as {unref?: () => void} | null)?.unref?.()
  }
  watchdog.stdin?.write(`${line}\n`)
}

/** Stops every registered server (afterAll of each test file). Never throws: teardown must reach every server. */
export async function stopAll(): Promise<void> {
  await Promise.all([...registry].map((server) => server.stop().catch(() => undefined)))
}
