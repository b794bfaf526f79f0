/**
 * `iam up` as a function: render when iam.yaml changed, pick the runtime, start (all or nothing, health-waited),
 * optionally seed, and return a typed result. The command keeps only flags, printing, signals and --attach, so this
 * is what a test (or another tool) calls to bring a stack up without spawning the CLI.
 */
import {relative, resolve} from 'node:path'

import {loadConfig} from '../config/load.js'
import type {IamConfig} from '../config/model.js'
import {endpoints, type Endpoint} from '../plan/services.js'
import {renderProject} from '../project/render.js'
import {openRuntime} from '../runtime/open.js'
import type {Runtime, RuntimeEventListener, RuntimeKind, StatusReport} from '../runtime/types.js'
import type {SeedReport} from '../seed/apply.js'

export interface UpResult {
  runtime: RuntimeKind
  reason: string
  alreadyRunning: boolean
  started: string[]
  /** Running services restarted because what they run with changed (rendered files, environment, binary), and why. */
  restarted: {service: string; reasons: string[]}[]
  /** Running services stopped because iam.yaml no longer plans them. */
  stopped: string[]
  status: StatusReport
  endpoints: Endpoint[]
  /** Path of the file holding the secrets (never their values), relative to the working directory. */
  secretsFile: string
  rendered: {path: string; status: string}[]
  /** With seed: what applying iam.yaml's seed: section did (absent when the stack did not become healthy). */
  seed?: SeedReport
}

export interface UpOptions {
  /** auto | native | compose; default: IAM_RUNTIME / iam.yaml. */
  runtime?: string
  /** Per-service budget to become ready. */
  timeoutMs?: number
  /** Apply iam.yaml's seed: section once healthy. */
  seed?: boolean
  signal?: AbortSignal
  /**
   * The start's progress display: begun once rendering and the runtime choice are said, ended (also on failure)
   * before anything else is said, so a live view never interleaves with other output.
   */
  progress?: {begin(): Promise<RuntimeEventListener>; end(): Promise<void>}
  /** Things the user should know on the way (a hand-edited file, the runtime chosen, a stale configuration). */
  notice?: (level: 'info' | 'warn', message: string) => void
  /** Each rendered file that changed. */
  onRendered?: (file: {path: string; status: string}) => void
}

export interface UpOutcome {
  result: UpResult
  config: IamConfig
  runtime: Runtime
}

export async function up(projectDir: string, o: UpOptions = {}): Promise<UpOutcome> {
  const dir = resolve(projectDir)
  const notice = o.notice ?? (() => undefined)
  const {config} = await loadConfig(dir)
  const report = await renderProject(dir, {config})
  const rendered = report.files.filter((f) => f.status !== 'unchanged').map((f) => ({path: f.path, status: f.status}))
  for (const f of rendered) {
    if (f.status === 'hand-edited') notice('warn', `${f.path} was edited by hand; kept as is (\`iam render --force\` overwrites it)`)
    else o.onRendered?.(f)
  }
  const opened = await openRuntime(dir, {config, forStart: true, ...(o.runtime ? {override: o.runtime} : {})})
  notice('info', `runtime: ${opened.selection.kind}${opened.selection.engine ? ` (${opened.selection.engine})` : ''}: ${opened.selection.reason}`)
  const onEvent = await o.progress?.begin()
  let started
  try {
    started = await opened.runtime.start({
      ...(o.timeoutMs === undefined ? {} : {timeoutMs: o.timeoutMs}),
      ...(onEvent ? {onEvent} : {}),
      ...(o.signal ? {signal: o.signal} : {}),
    })
  } finally {
    await o.progress?.end()
  }
  for (const r of started.restarted ?? []) notice('info', `restarted ${r.service}: ${r.reasons.join(', ')}`)
  for (const s of started.stopped ?? []) notice('info', `stopped ${s}: iam.yaml no longer needs it`)
  let seed: SeedReport | undefined
  if (o.seed) {
    if (started.status.healthy) {
      const {seedFromConfig} = await import('../seed/apply.js')
      notice('info', 'seeding: identities and roles, then tuples')
      seed = await seedFromConfig(config)
    } else notice('warn', 'not seeded: the stack is not healthy')
  }
  const result: UpResult = {
    runtime: opened.selection.kind,
    reason: opened.selection.reason,
    alreadyRunning: started.alreadyRunning,
    started: started.started,
    restarted: started.restarted ?? [],
    stopped: started.stopped ?? [],
    status: started.status,
    endpoints: endpoints(config, {runtime: opened.selection.kind}),
    secretsFile: relative(process.cwd(), resolve(dir, '.env')) || '.env',
    rendered,
    ...(seed ? {seed} : {}),
  }
  return {result, config, runtime: opened.runtime}
}
