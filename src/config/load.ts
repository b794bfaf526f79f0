import {existsSync, statSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {dirname, isAbsolute, join, relative, resolve} from 'node:path'
import {LineCounter, parseDocument} from 'yaml'

import {usageError} from '../errors.js'
import {findEnvRefs} from './env.js'
import {configInvalid, Locator, type ConfigIssue, type RawIssue} from './issues.js'
import {PROJECT_FILES, type IamConfig} from './model.js'
import {toModel, type RawConfig} from './raw.js'
import {schemaIssues} from './schema-check.js'
import {semanticIssues} from './validate.js'

export interface ParseOptions {
  /** Shown in every error position (`iam.yaml:12:5`). Default `iam.yaml`. */
  file?: string
}

export interface EnvReference {
  /** Model path of the field, e.g. `routes[0].upstream`. */
  path: string
  name: string
  /** Whether the variable is set in the environment loadConfig was given (never its value). */
  set: boolean
  hasDefault: boolean
}

/**
 * Parses and validates iam.yaml text (pure: no I/O). Returns the resolved model, with `${VAR}` references verbatim.
 * Throws IamError CONFIG_INVALID (exit 2) listing every problem with file:line:column; details.errors has them all.
 */
export function parseConfig(source: string, options: ParseOptions = {}): IamConfig {
  const file = options.file ?? PROJECT_FILES.config
  const lineCounter = new LineCounter()
  const doc = parseDocument(source, {lineCounter, prettyErrors: false, uniqueKeys: true, keepSourceTokens: false})
  const syntax: ConfigIssue[] = doc.errors.map((e) => {
    const pos = lineCounter.linePos(e.pos[0])
    return {file, line: pos.line, column: pos.col, path: '(yaml)', message: e.message.split('\n')[0] ?? e.message}
  })
  if (syntax.length > 0) throw configInvalid(file, syntax)

  const locator = new Locator(doc, lineCounter, file)
  const fail = (issues: RawIssue[]): never => {
    throw configInvalid(
      file,
      issues.map((i) => locator.locate(i)),
    )
  }
  const data: unknown = doc.toJS({maxAliasCount: 100})
  if (data === null || data === undefined) {
    fail([{path: [], message: 'the file is empty; run `iam init` to write a starter iam.yaml'}])
  }
  const structural = schemaIssues(data)
  if (structural.length > 0) fail(structural)
  const raw = data as RawConfig
  const config = toModel(raw)
  const semantic = semanticIssues(raw, config)
  if (semantic.length > 0) fail(semantic)
  return config
}

/** Every `${VAR}` the model references, and whether `env` sets it. */
export function envReferences(config: IamConfig, env: NodeJS.ProcessEnv = process.env): EnvReference[] {
  const out: EnvReference[] = []
  const walk = (value: unknown, path: string): void => {
    if (typeof value === 'string') {
      for (const ref of findEnvRefs(value)) out.push({path, name: ref.name, set: env[ref.name] !== undefined, hasDefault: ref.default !== undefined})
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`))
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k)
  }
  walk(config, '')
  return out
}

export interface LoadedConfig {
  config: IamConfig
  /** Absolute path of iam.yaml. */
  path: string
  source: string
  /** `${VAR}` references in the file and whether the given environment sets them. */
  envRefs: EnvReference[]
}

/**
 * Reads `<projectDir>/iam.yaml`. Throws IamError CONFIG_NOT_FOUND (exit 2) when it is missing and CONFIG_INVALID
 * when it is invalid; error positions name the file relative to the current directory.
 */
export async function loadConfig(projectDir: string, o: {env?: NodeJS.ProcessEnv} = {}): Promise<LoadedConfig> {
  const path = join(projectDir, PROJECT_FILES.config)
  let source: string
  try {
    source = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw usageError('CONFIG_NOT_FOUND', `No ${PROJECT_FILES.config} in ${projectDir}.`, {
        suggestion: 'Run `iam init` to create a project, or pass the project directory.',
        details: {file: path, line: 0, column: 0},
      })
    }
    throw usageError('CONFIG_UNREADABLE', `Cannot read ${path}: ${(error as Error).message}`, {details: {file: path, line: 0, column: 0}})
  }
  const config = parseConfig(source, {file: displayPath(path)})
  return {config, path, source, envRefs: envReferences(config, o.env ?? process.env)}
}

function displayPath(path: string): string {
  const rel = relative(process.cwd(), path)
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path
}

/** `--config` of the serve commands: a project directory or its iam.yaml. */
export async function loadConfigAt(dirOrFile: string): Promise<LoadedConfig> {
  const abs = resolve(dirOrFile)
  return loadConfig(existsSync(abs) && statSync(abs).isFile() ? dirname(abs) : abs)
}
