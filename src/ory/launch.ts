/**
 * How to launch the real Ory servers: which binary, which migration and serve command lines, and how to wait until
 * a server answers /health/ready. Shared by the native runtime and the test harness; no test concerns here.
 */
import {constants as fsConstants} from 'node:fs'
import {access, stat} from 'node:fs/promises'
import {delimiter, isAbsolute, join, resolve} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {environmentError, IamError, ExitCode} from '../errors.js'
import {serverBinaryPath} from '../install/paths.js'
import {probeReady} from '../servers/http/index.js'
import {ORY_SPECS, type OryServer} from './servers.js'

export interface ResolveBinaryOptions {
  /** Environment used for IAM_HOME / XDG_CACHE_HOME (installer cache) and PATH lookups. Default process.env. */
  env?: NodeJS.ProcessEnv
  /** A path the user gave explicitly (flag or config); when set it must exist, nothing else is tried. */
  explicitPath?: string
}

export interface ResolvedBinary {
  path: string
  source: 'explicit' | 'cache' | 'path'
}

/**
 * Finds the binary for `server`: an explicit path, else the installer cache (pinned version), else `PATH`.
 * Throws ORY_BINARY_MISSING (exit 3) naming every place looked at and the install command that fixes it.
 */
export async function resolveOryBinary(server: OryServer, o: ResolveBinaryOptions = {}): Promise<ResolvedBinary> {
  const env = o.env ?? process.env
  const version = ORY_SPECS[server].version
  const suggestion = `iam install --from-source ${server}`
  if (o.explicitPath !== undefined) {
    const path = resolve(o.explicitPath)
    if (await isExecutableFile(path)) return {path, source: 'explicit'}
    throw environmentError('ORY_BINARY_MISSING', `The ${server} binary given at ${path} does not exist or is not executable.`, {
      suggestion: `Fix the path, or run \`${suggestion}\` and drop the explicit path.`,
      details: {server, version, looked: [path]},
    })
  }
  const cached = serverBinaryPath(server, version, env)
  if (await isExecutableFile(cached)) return {path: cached, source: 'cache'}
  const looked = [cached]
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue
    const candidate = join(dir, server)
    looked.push(candidate)
    if (await isExecutableFile(candidate)) return {path: candidate, source: 'path'}
  }
  throw environmentError('ORY_BINARY_MISSING', `The ${server} ${version} binary is not installed (looked in the iam cache ${cached} and on PATH).`, {
    suggestion: `Run \`${suggestion}\` (builds ${server} ${version} with the local Go toolchain).`,
    details: {server, version, looked},
  })
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const info = await stat(path)
    if (!info.isFile()) return false
    await access(path, fsConstants.X_OK)
    return true
  } catch {
    return false
  }
}

export interface ProcessSpec {
  command: string
  args: string[]
  /** Extra environment for the process (merged over the parent's by the caller). */
  env: Record<string, string>
  /** Run as this account (a server that refuses root, e.g. PostgreSQL, when iam runs as root). */
  uid?: number
  gid?: number
}

export interface LaunchOptions {
  binary: string
  configPath: string
  /** Database DSN passed as env `DSN` (overrides the config file's `dsn`). Not used by Oathkeeper. */
  dsn?: string
}

/** Env common to every Ory process we start: no telemetry calls home (they would hang without internet). */
function baseEnv(o: LaunchOptions, server: OryServer): Record<string, string> {
  const env: Record<string, string> = {SQA_OPT_OUT: 'true'}
  if (o.dsn !== undefined && server !== 'oathkeeper') env.DSN = o.dsn
  return env
}

/** The migration command for a server, or undefined for Oathkeeper (no database). Idempotent: safe on every start. */
export function migrationSpec(server: OryServer, o: LaunchOptions): ProcessSpec | undefined {
  switch (server) {
    case 'kratos':
      // `migrate sql up` (the bare `migrate sql` is deprecated on v26); -e reads env DSN, falling back to the config's `dsn`.
      return {command: o.binary, args: ['migrate', 'sql', 'up', '-e', '--yes', '-c', o.configPath], env: baseEnv(o, server)}
    case 'keto':
      return {command: o.binary, args: ['migrate', 'up', '--yes', '-c', o.configPath], env: baseEnv(o, server)}
    case 'hydra':
      return {command: o.binary, args: ['migrate', 'sql', 'up', '-e', '--yes', '-c', o.configPath], env: baseEnv(o, server)}
    case 'oathkeeper':
      return undefined
  }
}

/**
 * The long-running serve command. `dev` adds `--dev` to Kratos (http cookies and URLs on loopback) and Hydra (an
 * http:// issuer). Hydra serves its public and admin APIs from one process (`serve all`).
 */
export function serveSpec(server: OryServer, o: LaunchOptions & {dev?: boolean; watchCourier?: boolean}): ProcessSpec {
  const args = server === 'hydra' ? ['serve', 'all', '-c', o.configPath, '--sqa-opt-out'] : ['serve', '-c', o.configPath, '--sqa-opt-out']
  if (server === 'kratos') {
    if (o.dev) args.push('--dev')
    if (o.watchCourier) args.push('--watch-courier')
  }
  if (server === 'hydra' && o.dev) args.push('--dev')
  return {command: o.binary, args, env: baseEnv(o, server)}
}

/** Names of the HTTP APIs each server listens on (the keys of a handle's `urls`). */
export const ORY_API_PORTS = {
  kratos: {public: 4433, admin: 4434},
  keto: {read: 4466, write: 4467},
  oathkeeper: {proxy: 4455, api: 4456},
  hydra: {public: 4444, admin: 4445},
} as const satisfies Record<OryServer, Record<string, number>>

/**
 * The /health/ready URLs to wait for. Kratos and Keto answer on each API port; Oathkeeper only on its API port
 * (the proxy forwards everything else to rules).
 */
// Oathkeeper (v0.40.9 and still v26.2.0) answers /health/ready with 503 "The requested resource could not be found" for as long as its
// access rules are empty: a config with no rule never becomes ready (it does as soon as a rule file gains a rule).
export function healthUrls(server: OryServer, urls: Record<string, string>): string[] {
  const names = server === 'oathkeeper' ? ['api'] : Object.keys(ORY_API_PORTS[server])
  return names.map((name) => {
    const base = urls[name]
    if (base === undefined) throw new Error(`healthUrls(${server}): missing url "${name}"`)
    return `${base.replace(/\/+$/, '')}/health/ready`
  })
}

export interface WaitForReadyOptions {
  timeoutMs: number
  /** Delay between attempts. Default 100 ms. */
  intervalMs?: number
  /** Per-request timeout. Default min(2 s, timeoutMs). */
  requestTimeoutMs?: number
  signal?: AbortSignal
  /** Called between attempts; when it returns false the process died and waiting is pointless. */
  isAlive?: () => boolean
  /** The probe (default: GET, ready on 2xx); the native runtime passes one that also speaks postgres://. */
  probe?: (url: string, timeoutMs: number, signal?: AbortSignal) => Promise<{ok: boolean; status?: number; error?: string}>
}

/**
 * Polls GET `url` until it answers 2xx. Throws IamError NOT_READY (exit 1) with details {url, lastStatus + lastBody | lastError}
 * on timeout, at once when `isAlive()` reports the process gone, and rethrows the abort reason when `signal` fires.
 */
export async function waitForReady(url: string, o: WaitForReadyOptions): Promise<void> {
  const started = Date.now()
  const deadline = started + o.timeoutMs
  const intervalMs = o.intervalMs ?? 100
  let lastStatus: number | undefined
  let lastError: string | undefined
  let lastBody: string | undefined
  const fail = (why: string): IamError =>
    new IamError('NOT_READY', `${url} did not become ready: ${why}.`, {
      exitCode: ExitCode.Failure,
      suggestion: 'Check the server log for the reason it did not start.',
      details: {url, elapsedMs: Date.now() - started, ...(lastStatus === undefined ? {} : {lastStatus, lastBody}), ...(lastError === undefined ? {} : {lastError})},
    })
  for (;;) {
    o.signal?.throwIfAborted()
    if (o.isAlive && !o.isAlive()) throw fail('the process exited or reported a fatal startup error')
    const remaining = deadline - Date.now()
    const perRequest = Math.max(1, Math.min(o.requestTimeoutMs ?? 2000, remaining))
    const probe = o.probe ? await o.probe(url, perRequest, o.signal) : await probeReady(url, '', perRequest, o.signal)
    o.signal?.throwIfAborted()
    if (probe.ok) return
    if (probe.status !== undefined) {
      lastStatus = probe.status
      lastBody = probe.error?.replace(/^HTTP \d+:? ?/, '')
      lastError = undefined
    } else if (!(lastStatus !== undefined && Date.now() >= deadline)) {
      // A probe that our own deadline cut short says nothing new: the server's last answer stays the reason.
      lastError = probe.error
      lastStatus = undefined
      lastBody = undefined
    }
    if (o.isAlive && !o.isAlive()) throw fail('the process exited or reported a fatal startup error')
    if (Date.now() + intervalMs > deadline) throw fail(`timed out after ${o.timeoutMs} ms`)
    try {
      await sleep(intervalMs, undefined, o.signal ? {signal: o.signal} : undefined)
    } catch (error) {
      o.signal?.throwIfAborted() // the caller's reason, not the timer's generic AbortError
      throw error
    }
  }
}

/**
 * Log lines after which a server will never become ready even though its process may keep running: Keto (seen on v0.14.0)
 * logs `unable to listen on "…": bind: address already in use` for one API and then hangs instead of exiting.
 * Returns the offending line so callers can fail fast (and kill the process) instead of waiting out a timeout.
 */
export function fatalStartupLine(logText: string): string | undefined {
  for (const line of logText.split('\n')) {
    if (/bind: address already in use|unable to listen on|bind: permission denied/i.test(line)) return line.trim()
  }
  return undefined
}
