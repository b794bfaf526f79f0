/**
 * From a project directory to a Runtime: load iam.yaml, pick native or compose (for down/status/logs: the one `iam up`
 * used, recorded in .iam/run/runtime.json), construct it.
 */
import {resolve} from 'node:path'

import {defaultConfig} from '../config/defaults.js'
import {loadConfig} from '../config/load.js'
import type {IamConfig} from '../config/model.js'
import {ComposeRuntime} from './compose.js'
import {readRuntimeMarker} from './marker.js'
import {NativeRuntime} from './native.js'
import {runtimePaths} from './paths.js'
import {selectRuntime, type RuntimeSelection} from './select.js'
import type {Runtime} from './types.js'

export interface OpenRuntimeOptions {
  /** --runtime */
  override?: string
  env?: NodeJS.ProcessEnv
  /** `iam up`: always select afresh. Others: reuse what `iam up` recorded. */
  forStart?: boolean
  /** Loaded already (e.g. by `iam up` before rendering). */
  config?: IamConfig
}

export interface OpenedRuntime {
  projectDir: string
  config: IamConfig
  selection: RuntimeSelection
  runtime: Runtime
}

export async function openRuntime(dir: string, o: OpenRuntimeOptions = {}): Promise<OpenedRuntime> {
  const projectDir = resolve(dir)
  const env = o.env ?? process.env
  const marker = o.forStart ? undefined : await readRuntimeMarker(runtimePaths(projectDir))
  let config = o.config
  if (!config) {
    try {
      config = (await loadConfig(projectDir, {env})).config
    } catch (error) {
      // A stack that is running must stay stoppable and inspectable even after someone broke iam.yaml: the pid
      // files / compose project carry what down, status and logs need.
      if (!marker) throw error
      config = defaultConfig(marker.project)
    }
  }
  let selection: RuntimeSelection | undefined
  if (!o.forStart && !o.override) {
    if (marker) {
      selection = {kind: marker.kind, ...(marker.engine ? {engine: marker.engine} : {}), reason: `the ${marker.kind} runtime \`iam up\` used`}
    }
  }
  selection ??= await selectRuntime(config, {...(o.override ? {override: o.override} : {}), env})
  return {projectDir, config, selection, runtime: createRuntime(projectDir, config, selection, env)}
}

export function createRuntime(projectDir: string, config: IamConfig, selection: RuntimeSelection, env: NodeJS.ProcessEnv = process.env): Runtime {
  if (selection.kind === 'compose') return new ComposeRuntime({projectDir, config, engine: selection.engine ?? 'docker', env})
  return new NativeRuntime({projectDir, config, env})
}
