/**
 * Picks the runtime: an explicit choice (--runtime, IAM_RUNTIME, iam.yaml `runtime`) wins; `auto` uses compose when
 * a container engine answers (`docker info`, then `podman info`, each with a short timeout), native otherwise.
 * Always says which and why.
 */
import {execa} from 'execa'

import type {IamConfig, RuntimePreference} from '../config/model.js'
import {environmentError, usageError} from '../errors.js'
import type {ContainerEngine} from './compose.js'
import type {RuntimeKind} from './types.js'

export interface RuntimeSelection {
  kind: RuntimeKind
  engine?: ContainerEngine
  /** One line for humans: why this runtime. */
  reason: string
}

export interface SelectRuntimeOptions {
  /** --runtime flag. */
  override?: string
  env?: NodeJS.ProcessEnv
  /** Per engine probe. Default 3 s (a hung daemon socket must not stall `iam up`). */
  probeTimeoutMs?: number
}

const CHOICES: readonly RuntimePreference[] = ['auto', 'compose', 'native']

/** Does this engine's daemon answer? Returns its server version, or the reason it does not. */
export async function probeEngine(engine: ContainerEngine, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ok: true; version: string} | {ok: false; why: string}> {
  const format = engine === 'docker' ? '{{.ServerVersion}}' : '{{.Version.Version}}'
  try {
    const r = await execa(engine, ['info', '--format', format], {env, extendEnv: false, reject: false, timeout: timeoutMs, stdin: 'ignore'})
    if (r.exitCode === 0 && String(r.stdout).trim()) return {ok: true, version: String(r.stdout).trim()}
    if (r.timedOut) return {ok: false, why: `\`${engine} info\` did not answer within ${timeoutMs} ms`}
    if (r.exitCode === undefined) return {ok: false, why: `${engine} is not installed`}
    const msg = String(r.stderr || r.stdout).trim().split('\n').at(-1) ?? ''
    return {ok: false, why: `\`${engine} info\` failed${msg ? `: ${msg}` : ''}`}
  } catch (error) {
    return {ok: false, why: `${engine} could not run: ${(error as Error).message}`}
  }
}

export async function selectRuntime(config: Pick<IamConfig, 'runtime'>, o: SelectRuntimeOptions = {}): Promise<RuntimeSelection> {
  const env = o.env ?? process.env
  const timeoutMs = o.probeTimeoutMs ?? 3000
  let preference: RuntimePreference = config.runtime
  let source = 'iam.yaml `runtime`'
  if (env.IAM_RUNTIME) {
    preference = env.IAM_RUNTIME as RuntimePreference
    source = 'IAM_RUNTIME'
  }
  if (o.override) {
    preference = o.override as RuntimePreference
    source = '--runtime'
  }
  if (!CHOICES.includes(preference)) {
    throw usageError('RUNTIME_INVALID', `Unknown runtime "${preference}" (from ${source}).`, {suggestion: `Use one of: ${CHOICES.join(', ')}.`})
  }
  if (preference === 'native') return {kind: 'native', reason: `native runtime requested by ${source}`}

  const docker = await probeEngine('docker', env, timeoutMs)
  if (docker.ok) {
    return {kind: 'compose', engine: 'docker', reason: `${preference === 'auto' ? 'auto: ' : ''}Docker engine ${docker.version} answered`}
  }
  const podman = await probeEngine('podman', env, timeoutMs)
  if (podman.ok) {
    return {kind: 'compose', engine: 'podman', reason: `${preference === 'auto' ? 'auto: ' : ''}Podman ${podman.version} answered (${docker.why})`}
  }
  if (preference === 'compose') {
    throw environmentError('NO_CONTAINER_ENGINE', `The compose runtime was requested by ${source}, but no container engine answers: ${docker.why}; ${podman.why}.`, {
      suggestion: 'Start Docker (or Podman), or use --runtime native.',
    })
  }
  return {kind: 'native', reason: `auto: no container engine answered (${docker.why}; ${podman.why}), using the native runtime`}
}
