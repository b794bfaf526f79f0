/** Where the runtimes keep their state inside a project (all under `.iam/`, gitignored), from src/project/layout.ts. */
import {join} from 'node:path'

import {LAYOUT, projectPath} from '../project/layout.js'

export interface RuntimePaths {
  projectDir: string
  stateDir: string
  /** Pid files of the native runtime and the runtime marker. */
  runDir: string
  logDir: string
  dataDir: string
  /** Which runtime `iam up` used, so down/status/logs talk to the same one. */
  runtimeFile: string
  envFile: string
  composeFile: string
}

export function runtimePaths(projectDir: string): RuntimePaths {
  const stateDir = projectPath(projectDir, LAYOUT.stateDir)
  return {
    projectDir,
    stateDir,
    runDir: join(stateDir, 'run'),
    logDir: projectPath(projectDir, LAYOUT.logsDir),
    dataDir: projectPath(projectDir, LAYOUT.dataDir),
    runtimeFile: join(stateDir, 'run', 'runtime.json'),
    envFile: projectPath(projectDir, LAYOUT.secrets),
    composeFile: projectPath(projectDir, LAYOUT.compose),
  }
}

const CONFIG_FILES = {kratos: LAYOUT.kratosConfig, keto: LAYOUT.ketoConfig, oathkeeper: LAYOUT.oathkeeperConfig, hydra: LAYOUT.hydraConfig} as const

/** Absolute path of the config file a server is started with (rendered by `iam render`). */
export function oryConfigPath(projectDir: string, server: keyof typeof CONFIG_FILES): string {
  return projectPath(projectDir, CONFIG_FILES[server])
}
