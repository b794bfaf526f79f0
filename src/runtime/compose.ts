/**
 * Compose runtime: `docker compose` (or `podman compose`) against the rendered `ory/compose.yaml`, with the project
 * name from iam.yaml so several stacks coexist. `up -d`, then our own health wait polling `ps --format json`
 * (rather than `up --wait`) so the wait, its timeout and its error messages are ours and tested.
 */
import {execa} from 'execa'
import {readFile, rm} from 'node:fs/promises'
import {relative} from 'node:path'
import {parse as parseYaml} from 'yaml'

import type {IamConfig} from '../config/model.js'
import {environmentError, ExitCode, IamError} from '../errors.js'
import {writeRuntimeMarker} from './marker.js'
import {runtimePaths, type RuntimePaths} from './paths.js'
import {assertPortsFree} from '../util/ports.js'
import {planServices, plannedPorts} from '../plan/services.js'
import type {LogsOptions, Runtime, RuntimeEvent, ServiceStatus, ServiceStateName, StartOptions, StartResult, StatusReport, StopOptions, StopResult} from './types.js'

export type ContainerEngine = 'docker' | 'podman'

export interface ComposeRuntimeOptions {
  projectDir: string
  config: IamConfig
  engine: ContainerEngine
  env?: NodeJS.ProcessEnv
  /** Delay between `ps` polls while waiting for health. Default 1 s. */
  pollIntervalMs?: number
}

export const DEFAULT_COMPOSE_TIMEOUT_MS = 180_000
const COMMAND_TIMEOUT_MS = 10 * 60_000

/** One container as `compose ps --format json` reports it (the fields we use). */
export interface ComposeContainer {
  Name?: string
  Service?: string
  State?: string
  Health?: string
  ExitCode?: number
  Image?: string
  Publishers?: {URL?: string; TargetPort?: number; PublishedPort?: number; Protocol?: string}[]
  Labels?: Record<string, string> | string
}

/** Compose v2 prints a JSON array (before 2.21) or one JSON object per line (2.21+); accept both. */
export function parseComposePs(stdout: string): ComposeContainer[] {
  const text = stdout.trim()
  if (!text) return []
  if (text.startsWith('[')) return JSON.parse(text) as ComposeContainer[]
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ComposeContainer)
}

function serviceOf(c: ComposeContainer): string {
  if (c.Service) return c.Service
  if (c.Labels && typeof c.Labels === 'object') return c.Labels['com.docker.compose.service'] ?? c.Name ?? '?'
  return c.Name ?? '?'
}

/** A container's lifecycle state in our vocabulary, with a short health text. */
export function containerState(c: ComposeContainer): {state: ServiceStateName; health: string; done: boolean; failed: boolean} {
  const state = (c.State ?? '').toLowerCase()
  const health = (c.Health ?? '').toLowerCase()
  if (state === 'exited' || state === 'dead') {
    const code = c.ExitCode ?? 0
    // One-shot jobs (migrations) exit 0 when done.
    if (code === 0) return {state: 'stopped', health: 'completed (exit 0)', done: true, failed: false}
    return {state: 'crashed', health: `exited with code ${code}`, done: false, failed: true}
  }
  if (state === 'running') {
    if (health === '' || health === 'healthy') return {state: 'ready', health: health || 'running (no healthcheck)', done: true, failed: false}
    if (health === 'unhealthy') return {state: 'unhealthy', health, done: false, failed: false}
    return {state: 'starting', health, done: false, failed: false}
  }
  if (state === 'restarting') return {state: 'starting', health: 'restarting', done: false, failed: false}
  return {state: 'pending', health: state || 'created', done: false, failed: false}
}

/** Compose project names: lowercase letters, digits, dashes and underscores. */
export function composeProjectName(project: string): string {
  const name = project.toLowerCase().replaceAll(/[^a-z0-9_-]+/g, '-').replace(/^[^a-z0-9]+/, '')
  return name || 'iam'
}

export class ComposeRuntime implements Runtime {
  readonly kind = 'compose' as const
  private readonly paths: RuntimePaths
  private readonly project: string

  constructor(private readonly o: ComposeRuntimeOptions) {
    this.paths = runtimePaths(o.projectDir)
    this.project = composeProjectName(o.config.project)
  }

  /** `<engine> compose -p <project> -f ory/compose.yaml --env-file .env <sub...>` in the project directory. */
  composeArgs(sub: string[]): string[] {
    return [
      'compose',
      '-p',
      this.project,
      '-f',
      relative(this.o.projectDir, this.paths.composeFile),
      '--env-file',
      relative(this.o.projectDir, this.paths.envFile),
      ...sub,
    ]
  }

  private async run(sub: string[], o: {timeoutMs?: number} = {}): Promise<{exitCode: number; stdout: string; stderr: string}> {
    try {
      const r = await execa(this.o.engine, this.composeArgs(sub), {
        cwd: this.o.projectDir,
        env: this.o.env ?? process.env,
        extendEnv: false,
        reject: false,
        timeout: o.timeoutMs ?? COMMAND_TIMEOUT_MS,
        stdin: 'ignore',
      })
      if (r.failed && r.exitCode === undefined) {
        throw environmentError('CONTAINER_ENGINE_FAILED', `\`${this.o.engine} compose ${sub[0] ?? ''}\` could not run: ${r.shortMessage}`, {
          suggestion: `Check that ${this.o.engine} with the compose plugin is installed, or use --runtime native.`,
        })
      }
      return {exitCode: r.exitCode ?? 1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '')}
    } catch (error) {
      if (error instanceof IamError) throw error
      throw environmentError('CONTAINER_ENGINE_FAILED', `\`${this.o.engine} compose\` could not run: ${(error as Error).message}`)
    }
  }

  private async expectedServices(): Promise<string[]> {
    try {
      const doc = parseYaml(await readFile(this.paths.composeFile, 'utf8')) as {services?: Record<string, unknown>}
      return Object.keys(doc?.services ?? {})
    } catch (error) {
      throw new IamError('COMPOSE_FILE_MISSING', `Cannot read ${relative(this.o.projectDir, this.paths.composeFile)}: ${(error as Error).message}`, {
        exitCode: ExitCode.Usage,
        suggestion: 'Run `iam render` to write the compose file.',
      })
    }
  }

  async ps(): Promise<ComposeContainer[]> {
    const r = await this.run(['ps', '-a', '--format', 'json'], {timeoutMs: 30_000})
    if (r.exitCode !== 0) throw this.failure('ps', r)
    return parseComposePs(r.stdout)
  }

  async start(o: StartOptions = {}): Promise<StartResult> {
    const t0 = Date.now()
    const emit = (e: RuntimeEvent): void => o.onEvent?.(e)
    const expected = await this.expectedServices()
    const before = await this.ps()
    const byService = new Map(before.map((c) => [serviceOf(c), containerState(c)]))
    // On a running stack `up -d` still runs: compose recreates exactly the containers whose configuration changed.
    const wasRunning = expected.length > 0 && expected.every((s) => byService.get(s)?.done)
    // Ports are only ours to check when none of this project's containers hold them yet.
    if (!before.some((c) => (c.State ?? '').toLowerCase() === 'running')) {
      const p = this.o.config.ports
      await assertPortsFree([
        // Mailpit is always in the compose file, whatever the plan says about a mail catcher.
        ...plannedPorts(planServices(this.o.config).filter((s) => s.name !== 'mail')),
        {service: 'mail', name: 'ui', port: p.mailUi},
        {service: 'mail', name: 'smtp', port: p.mailSmtp},
      ])
    }
    emit({type: 'plan', services: expected})
    for (const s of expected) emit({type: 'service', service: s, state: 'pending', elapsedMs: 0})
    await writeRuntimeMarker(this.paths, {kind: 'compose', project: this.project, engine: this.o.engine})
    const up = await this.run(['up', '-d'])
    if (up.exitCode !== 0) {
      await this.run(['down'])
      throw this.failure('up -d', up)
    }
    // compose says `Container <project>-<service>-1  Recreated` for each container it replaced.
    const recreated = [...`${up.stdout}\n${up.stderr}`.matchAll(/Container\s+\S*?-([a-z0-9-]+)-\d+\s+Recreated?\b/gi)].map((m) => m[1]!)
    const restarted = [...new Set(recreated)].filter((s) => expected.includes(s)).map((service) => ({service, reasons: ['its compose configuration changed (recreated by docker compose)']}))
    const timeoutMs = o.timeoutMs ?? DEFAULT_COMPOSE_TIMEOUT_MS
    const deadline = Date.now() + timeoutMs
    const last = new Map<string, {state: ServiceStateName; health: string}>()
    for (;;) {
      const containers = await this.ps()
      const states = new Map(containers.map((c) => [serviceOf(c), containerState(c)]))
      for (const s of expected) {
        const st = states.get(s) ?? {state: 'pending' as const, health: 'no container yet', done: false, failed: false}
        const prev = last.get(s)
        if (!prev || prev.state !== st.state) emit({type: 'service', service: s, state: st.state, message: st.health, elapsedMs: Date.now() - t0})
        last.set(s, st)
      }
      const failed = expected.find((s) => states.get(s)?.failed)
      if (failed) await this.failStart(failed, states.get(failed)?.health ?? 'failed')
      if (expected.every((s) => states.get(s)?.done)) break
      if (Date.now() >= deadline) {
        const waiting = expected.filter((s) => !states.get(s)?.done)
        const first = waiting[0] ?? '?'
        const why = waiting.map((s) => `${s} (${states.get(s)?.health || 'no container'})`).join(', ')
        await this.failStart(first, `not healthy within ${Math.round(timeoutMs / 1000)}s: ${why}`)
      }
      o.signal?.throwIfAborted()
      await new Promise((resolve) => setTimeout(resolve, this.o.pollIntervalMs ?? 1000))
    }
    if (wasRunning && restarted.length === 0) return {alreadyRunning: true, started: [], restarted, status: await this.status()}
    return {alreadyRunning: false, started: wasRunning ? restarted.map((r) => r.service) : expected, restarted, status: await this.status()}
  }

  /** Collects the failing service's log tail, takes the stack down (never half-started) and throws. */
  private async failStart(service: string, reason: string): Promise<never> {
    const logs = await this.run(['logs', '--no-color', '--tail', '20', service], {timeoutMs: 30_000})
    const tail = logs.stdout.split('\n').filter(Boolean).slice(-20)
    await this.run(['down'])
    const text = tail.length > 0 ? `\n--- last ${tail.length} log lines of ${service} ---\n${tail.join('\n')}\n---` : ''
    throw new IamError('SERVICE_NOT_READY', `${service} did not become ready: ${reason}.${text}`, {
      exitCode: ExitCode.Failure,
      suggestion: `Read \`iam logs ${service}\`; the stack was taken down (data volumes kept).`,
      details: {service, reason, logTail: tail},
    })
  }

  async stop(o: StopOptions = {}): Promise<StopResult> {
    const before = await this.ps().catch(() => [])
    const r = await this.run(o.purge ? ['down', '--volumes'] : ['down'])
    if (r.exitCode !== 0) throw this.failure('down', r)
    await rm(this.paths.runtimeFile, {force: true})
    const stopped = [...new Set(before.map(serviceOf))]
    for (const s of stopped) o.onEvent?.({type: 'service', service: s, state: 'stopped', elapsedMs: 0})
    return {stopped, purged: Boolean(o.purge)}
  }

  async status(): Promise<StatusReport> {
    const expected = await this.expectedServices()
    const containers = await this.ps()
    const byService = new Map(containers.map((c) => [serviceOf(c), c]))
    const names = [...expected, ...[...byService.keys()].filter((s) => !expected.includes(s))]
    const services: ServiceStatus[] = names.map((name) => {
      const c = byService.get(name)
      if (!c) return {name, state: 'stopped', ports: {}, urls: {}, health: 'no container'}
      const st = containerState(c)
      const ports: Record<string, number> = {}
      const urls: Record<string, string> = {}
      for (const p of c.Publishers ?? []) {
        if (!p.PublishedPort || !p.TargetPort) continue
        ports[String(p.TargetPort)] = p.PublishedPort
        urls[String(p.TargetPort)] = `http://127.0.0.1:${p.PublishedPort}`
      }
      const version = c.Image?.includes(':') ? c.Image.split(':').at(-1) : undefined
      return {name, state: st.state, ...(c.Name ? {container: c.Name} : {}), ports, urls, ...(version ? {version} : {}), health: st.health}
    })
    const healthy = services.length > 0 && services.every((s) => s.state === 'ready' || s.health === 'completed (exit 0)')
    return {runtime: 'compose', project: this.project, services, healthy}
  }

  async logs(o: LogsOptions): Promise<void> {
    const sub = ['logs', '--no-color']
    if (o.follow) sub.push('--follow')
    if (o.tail !== undefined) sub.push('--tail', String(o.tail))
    if (o.service) sub.push(o.service)
    const child = execa(this.o.engine, this.composeArgs(sub), {
      cwd: this.o.projectDir,
      env: this.o.env ?? process.env,
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      ...(o.signal ? {cancelSignal: o.signal} : {}),
    })
    child.stdout?.pipe(o.out, {end: false})
    child.stderr?.pipe(o.out, {end: false})
    const r = await child
    if (r.exitCode !== 0 && !r.isCanceled) throw this.failure('logs', {exitCode: r.exitCode ?? 1, stdout: '', stderr: String(r.stderr ?? '')})
  }

  private failure(what: string, r: {exitCode: number; stdout: string; stderr: string}): IamError {
    const tail = (r.stderr || r.stdout).trim().split('\n').slice(-10).join('\n')
    return new IamError('COMPOSE_FAILED', `\`${this.o.engine} compose ${what}\` failed (exit ${r.exitCode})${tail ? `:\n${tail}` : '.'}`, {
      exitCode: ExitCode.Failure,
      suggestion: `Check that the ${this.o.engine} engine is running, or use --runtime native.`,
      details: {command: [this.o.engine, ...this.composeArgs(what.split(' '))], exitCode: r.exitCode},
    })
  }
}
