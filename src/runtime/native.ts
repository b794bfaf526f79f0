/**
 * Native runtime: the Ory binaries (installer cache, PATH or explicit paths) and the embedded servers run as
 * detached child processes with SQLite under `.iam/data`, logs under `.iam/logs`, pid files under `.iam/run`.
 * `start` returns once everything answers /health/ready; the stack outlives the `iam up` process.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {closeSync, openSync, writeSync} from 'node:fs'
import {chmod, mkdir, readFile, rm} from 'node:fs/promises'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

import {DATABASE_SERVERS, isExternalPostgres, isManagedPostgres, serversWithDatabase} from '../config/database.js'
import type {IamConfig} from '../config/model.js'
import {IamError, ExitCode, isIamError} from '../errors.js'
import {migrationSpec, resolveOryBinary, serveSpec, waitForReady, type ProcessSpec} from '../ory/launch.js'
import {ORY_SPECS, type OryServer} from '../ory/servers.js'
import {binaryVersion, describeReported} from '../install/installed.js'
import {clientClaimsEnv, databaseDsn, hydraEnv, ketoEnv, kratosEnv, roleWebhookEnv} from '../project/env.js'
import {LAYOUT} from '../project/layout.js'
import {readPackageInfo} from '../project/render.js'
import {readSecrets, type Secrets} from '../project/secrets.js'
import {probeAll, probeHealthUrl} from './health.js'
import {checkDatabase, ensureDatabases, findPostgresBinaries, initPostgres, postgresAccount, postgresDataDir, postgresServeSpec, type PostgresAccount, type PostgresBinaries} from './postgres.js'
import {fileSize, followFiles, tailFile} from './logfiles.js'
import {oryConfigPath, runtimePaths, type RuntimePaths} from './paths.js'
import {isRecordAlive, processStartTime, readPidRecords, removePidRecord, terminate, writePidRecord, type PidRecord} from './pidfile.js'
import {writeRuntimeMarker} from './marker.js'
import {fingerprintChanges, fingerprintOf, startFiles, type Fingerprint} from './fingerprint.js'
import {assertPortsFree} from '../util/ports.js'
import {requestJson} from '../servers/http/index.js'
import {embeddedServeArgs, isEmbeddedService, hydraDevMode, kratosDevMode, loopbackTarget, planServices, plannedPorts, type ServiceDef} from '../plan/services.js'
import type {
  LogsOptions,
  Runtime,
  RuntimeEvent,
  ServiceName,
  ServiceStatus,
  StartOptions,
  StartResult,
  StatusReport,
  StopOptions,
  StopResult,
} from './types.js'

export const DEFAULT_READY_TIMEOUT_MS = 60_000
export const DEFAULT_STOP_GRACE_MS = 10_000
const LOG_TAIL_LINES = 20

export interface NativeRuntimeOptions {
  projectDir: string
  config: IamConfig
  env?: NodeJS.ProcessEnv
  /** Explicit binary paths (override the installer cache and PATH). */
  binaries?: Partial<Record<OryServer, string>>
  /** Entry point of the iam CLI for the embedded servers. Default: this package's bin/run.js. */
  iamBin?: string
}

/** Entry point of this package's CLI (dist/runtime/native.js → bin/run.js). */
export const IAM_CLI_ENTRY = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

/** A service that failed to become ready: which, why, and the end of its log. */
export class ServiceStartError extends IamError {
  readonly reason: string

  constructor(service: string, reason: string, logFile: string, logTail: string[], projectDir: string) {
    const rel = relative(projectDir, logFile) || logFile
    const tail = logTail.length > 0 ? `\n--- last ${logTail.length} lines of ${rel} ---\n${logTail.join('\n')}\n---` : ''
    super('SERVICE_NOT_READY', `${service} did not become ready: ${reason}.${tail}`, {
      exitCode: ExitCode.Failure,
      suggestion: `Read ${rel} (\`iam logs ${service}\`); everything started by this run was stopped.`,
      details: {service, reason, logFile, logTail},
    })
    this.reason = reason
  }
}

interface Launched {
  def: ServiceDef
  child: ChildProcess
  record: PidRecord
  exit?: {code: number | null; signal: NodeJS.Signals | null}
}

export class NativeRuntime implements Runtime {
  readonly kind = 'native' as const
  private readonly paths: RuntimePaths
  private readonly services: ServiceDef[]
  private readonly env: NodeJS.ProcessEnv

  constructor(private readonly o: NativeRuntimeOptions) {
    this.paths = runtimePaths(o.projectDir)
    this.services = planServices(o.config)
    this.env = o.env ?? process.env
  }

  async start(o: StartOptions = {}): Promise<StartResult> {
    const t0 = Date.now()
    const emit = (e: RuntimeEvent): void => o.onEvent?.(e)
    const timeoutMs = o.timeoutMs ?? DEFAULT_READY_TIMEOUT_MS
    await this.loadVersions()
    const alive = await this.aliveRecords()
    // Throws SECRETS_MISSING naming what `iam render` must generate.
    const secrets = await readSecrets(this.o.projectDir)
    const binaries = await this.resolveBinaries(this.services, emit)
    const postgres = await this.resolvePostgres(secrets)
    // Converge: a running service whose command line, environment, binary or start-time files differ from what it
    // would start with now is restarted; one iam.yaml no longer plans is stopped; the rest are left alone.
    const specsOf = new Map(this.services.map((s) => [s.name, this.processSpecs(s, binaries, secrets, postgres)] as const))
    const fingerprints = new Map<ServiceName, Fingerprint>()
    for (const s of this.services) fingerprints.set(s.name, await this.fingerprint(s, specsOf.get(s.name)!))
    const restarts = new Map<ServiceName, string[]>()
    for (const s of this.services) {
      const record = alive.get(s.name)
      const reasons = record ? fingerprintChanges(record.fingerprint, fingerprints.get(s.name)!) : []
      if (reasons.length > 0) restarts.set(s.name, reasons)
    }
    const unplanned = [...alive.values()].filter((r) => !this.services.some((s) => s.name === r.service))
    for (const record of unplanned) {
      await this.stopRecord(record, DEFAULT_STOP_GRACE_MS)
      emit({type: 'service', service: record.service, state: 'stopped', message: 'no longer in iam.yaml', elapsedMs: 0})
    }
    const stoppedUnplanned = unplanned.map((r) => r.service)
    const toStart = this.services.filter((s) => !alive.has(s.name) || restarts.has(s.name))
    const restarted = [...restarts].map(([service, reasons]) => ({service, reasons}))
    if (toStart.length === 0) {
      await this.awaitRulesReload(emit, o.timeoutMs ?? DEFAULT_READY_TIMEOUT_MS)
      return {alreadyRunning: true, started: [], restarted, stopped: stoppedUnplanned, status: await this.status()}
    }
    emit({type: 'plan', services: this.services.map((s) => s.name)})
    for (const s of this.services) {
      if (alive.has(s.name) && !restarts.has(s.name)) emit({type: 'service', service: s.name, state: 'ready', message: 'already running, unchanged', elapsedMs: 0})
    }
    // Stop what restarts (in reverse start order) before checking its ports.
    for (const s of [...toStart].reverse()) {
      const record = alive.get(s.name)
      if (!record) continue
      await this.stopRecord(record, DEFAULT_STOP_GRACE_MS)
      emit({type: 'service', service: s.name, state: 'stopped', message: `restarting: ${restarts.get(s.name)!.join(', ')}`, elapsedMs: Date.now() - t0})
    }
    await assertPortsFree(plannedPorts(toStart))
    // The user's own database servers: unreachable is a clear error now, not a migration failing later.
    if (isExternalPostgres(this.o.config.database)) {
      for (const server of DATABASE_SERVERS.filter((name) => toStart.some((s) => s.name === name))) {
        await checkDatabase(server, databaseDsn({config: this.o.config, projectDir: this.o.projectDir, secrets, env: this.env}, server))
      }
    }
    // Logs, pid files and the SQLite databases (live sessions) are for this user only: 0700 folders, also when an
    // older iam made them 0755 (mkdir's mode applies to new folders only, and through the umask).
    for (const dir of [this.paths.stateDir, this.paths.runDir, this.paths.logDir, this.paths.dataDir]) {
      await mkdir(dir, {recursive: true, mode: 0o700})
      await chmod(dir, 0o700)
    }
    await writeRuntimeMarker(this.paths, {kind: 'native', project: this.o.config.project})

    const launched: Launched[] = []
    const abort = new AbortController()
    const onAbort = (): void => abort.abort(o.signal?.reason)
    o.signal?.addEventListener('abort', onAbort, {once: true})
    const ready = new Map<ServiceName, Promise<void>>()
    for (const s of this.services) if (alive.has(s.name)) ready.set(s.name, Promise.resolve())
    const elapsed = (): number => Date.now() - t0
    let firstError: unknown

    const bringUp = async (def: ServiceDef): Promise<void> => {
      emit({type: 'service', service: def.name, state: 'pending', elapsedMs: elapsed()})
      await Promise.all(def.dependsOn.map((d) => ready.get(d)).filter((p) => p !== undefined))
      abort.signal.throwIfAborted()
      const logFile = join(this.paths.logDir, `${def.name}.log`)
      const logStart = await fileSize(logFile)
      const logTail = async (): Promise<string[]> => {
        const lines = await tailFile(logFile, LOG_TAIL_LINES + 200)
        // Only what this run wrote: skip lines from earlier runs when the file grew from logStart.
        const fresh = (await fileSize(logFile)) > logStart ? lines : []
        return fresh.slice(-LOG_TAIL_LINES)
      }
      const specs = specsOf.get(def.name)!
      if (def.kind === 'database' && postgres) {
        emit({type: 'service', service: def.name, state: 'migrating', elapsedMs: elapsed()})
        await initPostgres({...postgres, password: postgres.password, logFile})
      }
      if (specs.migrate) {
        emit({type: 'service', service: def.name, state: 'migrating', elapsedMs: elapsed()})
        const result = await runToCompletion(specs.migrate, specs.cwd, this.env, logFile, timeoutMs, abort.signal)
        if (result !== 'ok') throw new ServiceStartError(def.name, `migration ${result}`, logFile, await logTail(), this.o.projectDir)
      }
      emit({type: 'service', service: def.name, state: 'starting', elapsedMs: elapsed()})
      const entry = await this.spawnDetached(def, specs.serve, specs.cwd, logFile, fingerprints.get(def.name))
      launched.push(entry)
      try {
        const deadline = Date.now() + timeoutMs
        for (const url of def.healthUrls) {
          await waitForReady(url, {
            timeoutMs: Math.max(1, deadline - Date.now()),
            signal: abort.signal,
            isAlive: () => entry.exit === undefined,
            probe: probeHealthUrl,
          })
        }
        // The Ory servers' databases on the server iam runs: created once, never dropped (only --volumes deletes data).
        if (def.kind === 'database') {
          await ensureDatabases({port: this.o.config.ports.postgres, password: postgres!.password, databases: serversWithDatabase(this.o.config)})
        }
      } catch (error) {
        if (abort.signal.aborted) throw error
        // Give the exit event a moment so the reason names the exit code rather than a refused connection.
        await new Promise((resolve) => setTimeout(resolve, 100))
        throw new ServiceStartError(def.name, failureReason(error, entry, timeoutMs), logFile, await logTail(), this.o.projectDir)
      }
      emit({type: 'service', service: def.name, state: 'ready', elapsedMs: elapsed()})
    }

    for (const def of toStart) {
      const p = bringUp(def).catch((error: unknown) => {
        // After an interrupt, follow-on failures (a migration killed) are not the story.
        if (firstError === undefined && !o.signal?.aborted) {
          firstError = error
          // The progress view (and --json's event stream) name the service that brought the run down.
          const reason = error instanceof ServiceStartError ? error.reason : error instanceof Error ? error.message : String(error)
          emit({type: 'service', service: def.name, state: 'crashed', message: reason, elapsedMs: elapsed()})
        }
        abort.abort(error)
        throw error
      })
      p.catch(() => undefined)
      ready.set(def.name, p)
    }
    await Promise.allSettled(ready.values())
    o.signal?.removeEventListener('abort', onAbort)

    if (firstError !== undefined || abort.signal.aborted) {
      // Never leave a half-started stack: stop what this run started.
      for (const entry of [...launched].reverse()) {
        await terminate(entry.record, DEFAULT_STOP_GRACE_MS)
        await removePidRecord(this.paths.runDir, entry.def.name)
        emit({type: 'service', service: entry.def.name, state: 'stopped', elapsedMs: elapsed()})
      }
      throw o.signal?.aborted ? o.signal.reason : (firstError ?? abort.signal.reason)
    }
    // The stack outlives this process.
    for (const entry of launched) entry.child.unref()
    // Oathkeeper reloads its access rules by itself; when it kept running, wait until it serves the rendered ones.
    if (!toStart.some((s) => s.name === 'oathkeeper')) await this.awaitRulesReload(emit, timeoutMs)
    return {alreadyRunning: false, started: toStart.map((s) => s.name), restarted, stopped: stoppedUnplanned, status: await this.status()}
  }

  /** Stops a recorded service and forgets its pid record. */
  private async stopRecord(record: PidRecord, graceMs: number): Promise<Awaited<ReturnType<typeof terminate>>> {
    const result = await terminate(record, graceMs)
    await removePidRecord(this.paths.runDir, record.service)
    return result
  }

  /** Hashes of what a service starts with (see fingerprint.ts): Oathkeeper's rules and keys reload without a restart. */
  private async fingerprint(def: ServiceDef, specs: {serve: ProcessSpec; cwd: string}): Promise<Fingerprint> {
    const files = def.server ? await startFiles(dirname(oryConfigPath(this.o.projectDir, def.server)), HOT_RELOADED) : []
    return fingerprintOf({
      command: specs.serve.command,
      args: specs.serve.args,
      cwd: specs.cwd,
      env: specs.serve.env ?? {},
      files,
      projectDir: this.o.projectDir,
      ...(def.kind === 'embedded' ? {extra: {iam: this.embeddedVersion}} : {}),
    })
  }

  /**
   * Oathkeeper watches rules.json and reloads it: once the stack runs, wait (bounded) until its API serves the rules
   * iam rendered, so that `iam up` returns with the new routes in force.
   */
  private async awaitRulesReload(emit: (e: RuntimeEvent) => void, timeoutMs: number): Promise<void> {
    const api = this.services.find((s) => s.name === 'oathkeeper')?.urls.api
    if (api === undefined) return
    const rendered = await readFile(join(dirname(oryConfigPath(this.o.projectDir, 'oathkeeper')), 'rules.json'), 'utf8').catch(() => undefined)
    if (rendered === undefined) return
    const want = ruleDigest(JSON.parse(rendered) as unknown[])
    const deadline = Date.now() + Math.min(timeoutMs, 15_000)
    while (Date.now() < deadline) {
      try {
        const res = await requestJson(api, {method: 'GET', path: '/rules?limit=500', timeoutMs: 2000, what: 'Oathkeeper'})
        if (Array.isArray(res.body) && ruleDigest(res.body) === want) {
          emit({type: 'info', message: 'oathkeeper serves the rendered access rules'})
          return
        }
      } catch {
        // not answering yet: try again
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    emit({type: 'info', message: 'oathkeeper did not load the rendered access rules in time: `iam logs oathkeeper` says why'})
  }

  async stop(o: StopOptions = {}): Promise<StopResult> {
    const graceMs = o.graceMs ?? DEFAULT_STOP_GRACE_MS
    const records = await readPidRecords(this.paths.runDir)
    const order = this.services.map((s) => s.name).reverse()
    records.sort((a, b) => rank(order, a.service) - rank(order, b.service))
    const stopped: ServiceName[] = []
    // Oathkeeper first (stop taking traffic), then the rest, in parallel within the grace period.
    for (const record of records) {
      const result = await this.stopRecord(record, graceMs)
      if (result !== 'not-running') stopped.push(record.service)
      o.onEvent?.({type: 'service', service: record.service, state: 'stopped', message: result, elapsedMs: 0})
    }
    await rm(join(this.paths.runDir, 'runtime.json'), {force: true})
    if (o.purge) {
      await rm(this.paths.dataDir, {recursive: true, force: true})
      // As root the managed server's data lives outside the project (the postgres account cannot enter it).
      if (isManagedPostgres(this.o.config.database)) {
        const account = await postgresAccount().catch(() => undefined)
        if (account) await rm(postgresDataDir(this.paths.dataDir, this.o.projectDir, account), {recursive: true, force: true})
      }
    }
    return {stopped, purged: Boolean(o.purge)}
  }

  async status(): Promise<StatusReport> {
    await this.loadVersions()
    const records = new Map((await readPidRecords(this.paths.runDir)).map((r) => [r.service, r]))
    const services: ServiceStatus[] = []
    const names = [...this.services.map((s) => s.name), ...[...records.keys()].filter((n) => !this.services.some((s) => s.name === n))]
    await Promise.all(
      names.map(async (name, index) => {
        const def = this.services.find((s) => s.name === name)
        const record = records.get(name)
        const logFile = join(this.paths.logDir, `${name}.log`)
        const base = {
          name,
          ports: record?.ports ?? def?.ports ?? {},
          urls: record?.urls ?? def?.urls ?? {},
          version: describeRecordedVersion(record?.version ?? (def ? this.versionOf(def) : undefined), def),
          logFile,
        }
        let status: ServiceStatus
        if (!record) {
          status = {...base, state: 'stopped', health: 'not running'}
        } else if (!(await isRecordAlive(record))) {
          status = {...base, state: 'crashed', pid: record.pid, health: `process ${record.pid} is gone (see ${relative(this.o.projectDir, logFile)})`}
        } else {
          const health = await probeAll(record.healthUrls, 2000)
          status = {...base, state: health.ok ? 'ready' : 'unhealthy', pid: record.pid, health: health.answer}
        }
        services[index] = status
      }),
    )
    return {runtime: 'native', project: this.o.config.project, services, healthy: services.length > 0 && services.every((s) => s.state === 'ready')}
  }

  async logs(o: LogsOptions): Promise<void> {
    const names = o.service ? [o.service] : this.services.map((s) => s.name)
    if (o.service && !this.services.some((s) => s.name === o.service)) {
      const known = (await readPidRecords(this.paths.runDir)).map((r) => r.service)
      if (!known.includes(o.service)) {
        throw new IamError('UNKNOWN_SERVICE', `No service named "${o.service}" in this project.`, {
          exitCode: ExitCode.Usage,
          suggestion: `Use one of: ${this.services.map((s) => s.name).join(', ')}.`,
        })
      }
    }
    const prefix = (name: string): string => (names.length > 1 ? `${name.padEnd(12)} | ` : '')
    const files = names.map((name) => ({name, path: join(this.paths.logDir, `${name}.log`), prefix: prefix(name)}))
    for (const f of files) {
      const lines = await tailFile(f.path, o.tail ?? Number.MAX_SAFE_INTEGER)
      for (const line of lines) o.out.write(`${f.prefix}${line}\n`)
    }
    if (o.follow) await followFiles(files, o.out, o.signal ?? new AbortController().signal)
  }

  /** Records whose process is still ours and alive, by service. */
  private async aliveRecords(): Promise<Map<ServiceName, PidRecord>> {
    const alive = new Map<ServiceName, PidRecord>()
    for (const record of await readPidRecords(this.paths.runDir)) {
      if (await isRecordAlive(record)) alive.set(record.service, record)
      else await removePidRecord(this.paths.runDir, record.service)
    }
    return alive
  }

  /** The binary of each Ory service to start and the version it reports (recorded, shown by status). */
  private async resolveBinaries(services: ServiceDef[], emit: (e: RuntimeEvent) => void): Promise<Partial<Record<OryServer, string>>> {
    const out: Partial<Record<OryServer, string>> = {}
    await Promise.all(
      services.map(async (s) => {
        if (!s.server) return
        const explicit = this.o.binaries?.[s.server]
        const options = {env: this.env, ...(explicit ? {explicitPath: explicit} : {})}
        // Throws ORY_BINARY_MISSING with the install command.
        const resolved = await resolveOryBinary(s.server, options)
        const version = await binaryVersion(s.server, {...options, explicitPath: resolved.path})
        out[s.server] = resolved.path
        this.reportedVersions.set(s.name, version.reported ?? 'unknown')
        if (version.status !== 'ok') {
          emit({type: 'info', message: `${s.server} at ${resolved.path} reports ${describeReported(version)}: run \`iam install --from-source ${s.server}\``})
        }
      }),
    )
    return out
  }

  /** Secrets and values kept out of the rendered YAML, per service (src/project/env.ts). Never logged. */
  private serviceEnv(def: ServiceDef, secrets: Secrets & Record<string, string>): Record<string, string> {
    const projectDir = this.o.projectDir
    switch (def.name) {
      case 'kratos':
        return kratosEnv({config: this.o.config, projectDir, secrets, env: this.env})
      case 'keto':
        return ketoEnv({config: this.o.config, projectDir, secrets, env: this.env})
      case 'role-webhook':
        return roleWebhookEnv({secrets})
      case 'hydra':
        return hydraEnv({config: this.o.config, projectDir, secrets, env: this.env})
      case 'client-claims':
        return clientClaimsEnv({secrets})
      default:
        return {}
    }
  }

  private embeddedVersion = 'iam'
  /** What each Ory binary this run starts reports in `<binary> version` (not the pinned string). */
  private readonly reportedVersions = new Map<ServiceName, string>()

  private versionOf(def: ServiceDef): string | undefined {
    return def.kind === 'embedded' ? this.embeddedVersion : this.reportedVersions.get(def.name)
  }

  /** With `database: postgres`: the machine's server binaries, the account to run them as, the data folder. */
  private async resolvePostgres(secrets: Record<string, string>): Promise<ManagedPostgres | undefined> {
    if (!isManagedPostgres(this.o.config.database)) return undefined
    const password = secrets.POSTGRES_PASSWORD
    if (!password) {
      throw new IamError('SECRETS_MISSING', `${LAYOUT.secrets} lacks POSTGRES_PASSWORD (database: postgres needs it).`, {suggestion: 'Run `iam render` to generate it.'})
    }
    const binaries = await findPostgresBinaries(this.env)
    const account = await postgresAccount()
    this.reportedVersions.set('postgres', `PostgreSQL ${binaries.version}`)
    return {binaries, account, password, dataDir: postgresDataDir(this.paths.dataDir, this.o.projectDir, account)}
  }

  /** Embedded servers run from this package: their version is iam's. */
  private async loadVersions(): Promise<void> {
    const pkg = await readPackageInfo().catch(() => undefined)
    if (pkg) this.embeddedVersion = `iam ${pkg.version}`
  }

  /** Command lines for one service: Ory servers via src/ory/launch.ts, embedded servers via this CLI. */
  private processSpecs(
    def: ServiceDef,
    binaries: Partial<Record<OryServer, string>>,
    secrets: Secrets & Record<string, string>,
    postgres?: ManagedPostgres,
  ): {migrate?: ProcessSpec; serve: ProcessSpec; cwd: string} {
    if (def.kind === 'database') {
      if (!postgres) throw new Error('no PostgreSQL binaries resolved')
      return {serve: postgresServeSpec({...postgres, port: this.o.config.ports.postgres}), cwd: '/'}
    }
    const env = this.serviceEnv(def, secrets)
    if (def.server) {
      const binary = binaries[def.server]
      if (!binary) throw new Error(`no binary resolved for ${def.server}`)
      const configPath = oryConfigPath(this.o.projectDir, def.server)
      // The database DSN travels in the service's env (serviceEnv), never on the command line.
      const launch = {binary, configPath}
      const migrate = migrationSpec(def.server, launch)
      // The courier sends what Kratos queues (codes, verification and recovery mails); without it nothing leaves.
      const dev = def.server === 'hydra' ? hydraDevMode(this.o.config) : kratosDevMode(this.o.config)
      const serve = serveSpec(def.server, {...launch, dev, watchCourier: true})
      const withEnv = (spec: ProcessSpec): ProcessSpec => ({...spec, env: {...env, ...spec.env}})
      return {...(migrate ? {migrate: withEnv(migrate)} : {}), serve: withEnv(serve), cwd: dirname(configPath)}
    }
    if (!isEmbeddedService(def.name)) throw new Error(`no command for the embedded service ${def.name}`)
    const args = embeddedServeArgs(this.o.config, def.name, loopbackTarget(this.o.config))
    return {serve: {command: process.execPath, args: [this.o.iamBin ?? IAM_CLI_ENTRY, ...args], env}, cwd: this.o.projectDir}
  }

  private async spawnDetached(def: ServiceDef, spec: ProcessSpec, cwd: string, logFile: string, fingerprint?: Fingerprint): Promise<Launched> {
    const fd = openSync(logFile, 'a', 0o600)
    let child: ChildProcess
    try {
      writeSync(fd, `=== ${new Date().toISOString()} iam: ${[spec.command, ...spec.args].join(' ')}\n`)
      // detached: own process group, survives `iam up` exiting and is not hit by the terminal's Ctrl-C.
      child = spawn(spec.command, spec.args, {cwd, env: {...this.env, ...spec.env}, detached: true, stdio: ['ignore', fd, fd], ...(spec.uid === undefined ? {} : {uid: spec.uid, gid: spec.gid})})
    } finally {
      closeSync(fd)
    }
    const entry: Launched = {
      def,
      child,
      record: {
        service: def.name,
        pid: child.pid ?? -1,
        command: [spec.command, ...spec.args],
        cwd,
        logFile,
        startedAt: new Date().toISOString(),
        ports: def.ports,
        urls: def.urls,
        healthUrls: def.healthUrls,
        version: this.versionOf(def),
        // PostgreSQL's SIGTERM waits for every client to leave; SIGINT is its fast, clean shutdown.
        ...(def.kind === 'database' ? {stopSignal: 'SIGINT' as const} : {}),
        ...(fingerprint ? {fingerprint} : {}),
      },
    }
    child.on('exit', (code, signal) => {
      entry.exit = {code, signal}
    })
    const spawnError = await new Promise<Error | undefined>((resolve) => {
      child.once('error', resolve)
      child.once('spawn', () => resolve(undefined))
    })
    if (spawnError || child.pid === undefined) {
      throw new ServiceStartError(def.name, `could not start ${spec.command}: ${spawnError?.message ?? 'no pid'}`, logFile, [], this.o.projectDir)
    }
    const startTime = await processStartTime(child.pid)
    if (startTime !== undefined) entry.record.startTime = startTime
    await writePidRecord(this.paths.runDir, entry.record)
    return entry
  }
}

/** The PostgreSQL server this project runs (`database: postgres`): binaries, account, password, data folder. */
interface ManagedPostgres {
  binaries: PostgresBinaries
  account: PostgresAccount | undefined
  password: string
  dataDir: string
}

/** Files Oathkeeper reloads by itself (access rules watched, key set fetched with a TTL): no restart for them. */
const HOT_RELOADED = ['rules.json', 'jwks.json']

/** What of each access rule decides a request, in a stable order (Oathkeeper's API adds defaults to the rest). */
function ruleDigest(rules: unknown[]): string {
  const pick = (r: Record<string, unknown>): unknown => {
    const match = r.match as {url?: string; methods?: string[]} | undefined
    const upstream = r.upstream as {url?: string; strip_path?: string} | undefined
    const handlers = (list: unknown): unknown => (Array.isArray(list) ? list.map((h) => (h as {handler?: string}).handler) : [])
    return [r.id, match?.url, [...(match?.methods ?? [])].sort(), upstream?.url, upstream?.strip_path || undefined, handlers(r.authenticators), (r.authorizer as {handler?: string} | undefined)?.handler, JSON.stringify((r.authorizer as {config?: unknown} | undefined)?.config ?? null), handlers(r.mutators)]
  }
  return JSON.stringify(rules.map((r) => pick(r as Record<string, unknown>)).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))))
}

/** A running Ory server's recorded version as status shows it: flagged when it is not the pinned one. */
function describeRecordedVersion(version: string | undefined, def: ServiceDef | undefined): string | undefined {
  if (version === undefined || !def?.server) return version
  const pinned = ORY_SPECS[def.server].version
  return version === pinned ? version : `${version} (iam pins ${pinned})`
}

function rank(order: string[], name: string): number {
  const i = order.indexOf(name)
  return i === -1 ? -1 : i
}

function failureReason(error: unknown, entry: Launched, timeoutMs: number): string {
  if (entry.exit) {
    return entry.exit.signal ? `the process was killed by ${entry.exit.signal}` : `the process exited with code ${entry.exit.code}`
  }
  if (isIamError(error) && error.code === 'NOT_READY') {
    const d = error.details ?? {}
    const last = d.lastStatus !== undefined ? `HTTP ${String(d.lastStatus)}` : d.lastError !== undefined ? String(d.lastError) : 'no answer'
    return `not ready within ${Math.round(timeoutMs / 1000)}s (last health answer from ${String(d.url)}: ${last})`
  }
  return error instanceof Error ? error.message : String(error)
}

/** Runs a one-shot command (a migration) with its output appended to the log. */
async function runToCompletion(spec: ProcessSpec, cwd: string, baseEnv: NodeJS.ProcessEnv, logFile: string, timeoutMs: number, signal: AbortSignal): Promise<'ok' | string> {
  const fd = openSync(logFile, 'a', 0o600)
  let child: ChildProcess
  try {
    writeSync(fd, `=== ${new Date().toISOString()} iam: ${[spec.command, ...spec.args].join(' ')}\n`)
    child = spawn(spec.command, spec.args, {cwd, env: {...baseEnv, ...spec.env}, stdio: ['ignore', fd, fd]})
  } finally {
    closeSync(fd)
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      resolve(`did not finish within ${Math.round(timeoutMs / 1000)}s`)
    }, timeoutMs)
    const onAbort = (): void => {
      child.kill('SIGKILL')
    }
    signal.addEventListener('abort', onAbort, {once: true})
    child.once('error', (error) => {
      clearTimeout(timer)
      resolve(`could not run: ${error.message}`)
    })
    child.once('exit', (code, sig) => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      if (code === 0) resolve('ok')
      else resolve(sig ? `was killed by ${sig}` : `exited with code ${code}`)
    })
  })
}

/** For tests and diagnostics: the pid records of a project. */
export async function readNativeRecords(projectDir: string): Promise<PidRecord[]> {
  return readPidRecords(runtimePaths(projectDir).runDir)
}

