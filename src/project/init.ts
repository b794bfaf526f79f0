import {chmod, copyFile, mkdir, mkdtemp, readdir, rename, rm, rmdir, stat, writeFile} from 'node:fs/promises'
import {basename, dirname, join, relative, resolve, sep} from 'node:path'

import {IamError, usageError} from '../errors.js'
import {readKeySet} from '../keys/store.js'
import {signingKey} from '../keys/jwks.js'
import {LAYOUT} from './layout.js'
import {defaultConfig} from '../config/defaults.js'
import {parseConfig} from '../config/load.js'
import {PROJECT_FILES, type IamConfig, type RuntimePreference, type TokenAlgorithm} from '../config/model.js'
import {PROJECT_PATTERN} from '../config/schema.js'
import {renderConfigYaml} from '../config/stringify.js'
import {pathExists, readTextIfExists} from '../util/fs.js'

/**
 * `iam init`: writes iam.yaml, renders every Ory file, the secrets and the signing JWKS, and makes sure git ignores
 * what must never be committed. All files are built in a temp directory inside the target and then moved into
 * place; if a move fails, what was moved is rolled back (replaced files are restored), so a project is never
 * half-written.
 */

/** What renderProject (src/project/render.ts) offers init; injectable so unit tests can make it fail. */
export type RenderFn = (projectDir: string, o: {config: IamConfig}) => Promise<unknown>

export interface InitChoices {
  project?: string
  runtime?: RuntimePreference
  roles?: boolean
  algorithm?: TokenAlgorithm
  /** Hydra on, with a starter machine route (`--machine-clients`). */
  machineClients?: boolean
}

export interface InitOptions extends InitChoices {
  /** Replace an existing project's iam.yaml and rendered files (existing secrets and a matching JWKS are kept). */
  force?: boolean
  render?: RenderFn
  /** Test seam: the rename used to move files into place. */
  rename?: (from: string, to: string) => Promise<void>
}

export interface InitResult {
  dir: string
  /** Files written, relative to dir. */
  files: string[]
  /** Of those, files that existed before (--force) and were replaced. */
  replaced: string[]
  /** Files an earlier render wrote that the new configuration no longer renders, removed (--force). */
  removed: string[]
  /** Absolute path of the secrets file (its values are never printed). */
  secretsFile: string
  jwks: {kid: string; alg: string}
  /** Existing files kept instead of regenerated: .env (missing secrets appended) and a JWKS of the same algorithm. */
  kept: string[]
  /** Lines appended to .gitignore (empty when it already had them). */
  gitignoreAdded: string[]
}

/** Paths git must never see: secrets, private keys, runtime state. */
/** `.*.tmp`: an interrupted atomic write's temp file (it may hold a key or a secret until the next write removes it). */
export const GITIGNORE_LINES = [PROJECT_FILES.secrets, PROJECT_FILES.jwks, `${PROJECT_FILES.stateDir}/`, '.*.tmp'] as const
const GITIGNORE_HEADER = '# iam: secrets, signing keys and runtime state (never commit these)'

/** A project name derived from a directory name: lowercase, [a-z0-9_-], starting with a letter or digit. */
export function projectNameFor(dir: string): string {
  const slug = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '')
  return slug === '' ? 'iam' : slug
}

export function checkProjectName(name: string): void {
  if (!new RegExp(PROJECT_PATTERN).test(name)) {
    throw usageError('INVALID_PROJECT_NAME', `"${name}" is not a valid project name.`, {
      suggestion: 'Use lowercase letters, digits, "-" and "_", starting with a letter or digit.',
    })
  }
}

/** The configuration init writes for these choices (defaults from defaultConfig). */
export function starterConfig(project: string, choices: InitChoices = {}): IamConfig {
  const config = defaultConfig(project, {roles: choices.roles ?? true, machineClients: choices.machineClients ?? false})
  return {
    ...config,
    runtime: choices.runtime ?? config.runtime,
    tokens: {...config.tokens, algorithm: choices.algorithm ?? config.tokens.algorithm},
  }
}

/** Lines of GITIGNORE_LINES missing from `content` (`/x` and `x/` count as `x`). */
export function missingGitignoreLines(content: string): string[] {
  const norm = (line: string): string => line.trim().replace(/^\//, '').replace(/\/$/, '')
  const present = new Set(content.split(/\r?\n/).map(norm))
  return GITIGNORE_LINES.filter((line) => !present.has(norm(line)))
}



async function listFiles(root: string, dir = root): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await listFiles(root, path)))
    else out.push(relative(root, path))
  }
  return out.sort()
}

/** Copies a file keeping its mode (0600 secrets stay 0600). */
async function copyKeepingMode(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), {recursive: true})
  await copyFile(from, to)
  await chmod(to, (await stat(from)).mode & 0o777)
}

/** Keeps the existing JWKS on --force when it signs with the chosen algorithm; otherwise a new one is generated. */
async function keepableJwks(path: string, algorithm: TokenAlgorithm): Promise<boolean> {
  try {
    return signingKey(await readKeySet(path)).alg === algorithm
  } catch {
    return false
  }
}

/** Throws PROJECT_EXISTS (exit 2) when `dir` already holds an iam.yaml, unless forced. */
export async function assertNoProject(dir: string, force = false): Promise<void> {
  const configPath = join(resolve(dir), PROJECT_FILES.config)
  if ((await pathExists(configPath)) && !force) {
    throw usageError('PROJECT_EXISTS', `${configPath} already exists.`, {
      suggestion: 'Edit it and run `iam render`, or pass --force to replace it (existing secrets and signing keys are kept).',
      details: {file: configPath},
    })
  }
}

export async function initProject(dir: string, o: InitOptions = {}): Promise<InitResult> {
  const target = resolve(dir)
  const project = o.project ?? projectNameFor(target)
  checkProjectName(project)
  const config = starterConfig(project, o)
  const yaml = renderConfigYaml(config)
  // What init writes must load back as exactly this model; a failure here is a bug, not a user error.
  parseConfig(yaml, {file: PROJECT_FILES.config})

  await assertNoProject(target, o.force)

  const createdTarget = !(await pathExists(target))
  await mkdir(target, {recursive: true})
  const work = await mkdtemp(join(target, '.iam-init-'))
  const stage = join(work, 'new')
  const backup = join(work, 'old')
  try {
    await mkdir(stage)
    await writeFile(join(stage, PROJECT_FILES.config), yaml)
    // An existing .env (perhaps the application's own) is extended, never replaced: render appends only the
    // missing secrets. An existing signing key is kept when it matches the algorithm, so tokens stay valid.
    const kept: string[] = []
    const secrets = join(target, PROJECT_FILES.secrets)
    if (await pathExists(secrets)) {
      await copyKeepingMode(secrets, join(stage, PROJECT_FILES.secrets))
      kept.push(PROJECT_FILES.secrets)
    }
    const jwks = join(target, PROJECT_FILES.jwks)
    if ((await pathExists(jwks)) && (await keepableJwks(jwks, config.tokens.algorithm))) {
      await copyKeepingMode(jwks, join(stage, PROJECT_FILES.jwks))
      kept.push(PROJECT_FILES.jwks)
    }

    const render = o.render ?? (await import('./render.js')).renderProject
    await render(stage, {config})

    const gitignore = (await readTextIfExists(join(target, '.gitignore'))) ?? ''
    const added = missingGitignoreLines(gitignore)
    if (added.length > 0) {
      const sep = gitignore === '' || gitignore.endsWith('\n') ? '' : '\n'
      const blank = gitignore === '' ? '' : '\n'
      await writeFile(join(stage, '.gitignore'), `${gitignore}${sep}${blank}${GITIGNORE_HEADER}\n${added.join('\n')}\n`)
    }

    const {kid, alg} = signingKey(await readKeySet(join(stage, PROJECT_FILES.jwks)))
    const files = await listFiles(stage)
    // Files an earlier render wrote that this configuration no longer has (e.g. the role hook with --no-roles).
    const stale = (await previouslyRendered(target)).filter((f) => !files.includes(f))
    const replaced = await moveIntoPlace(stage, target, backup, files, stale, o.rename ?? rename)
    for (const file of stale) await removeEmptyParents(target, dirname(join(target, file)))
    return {
      dir: target,
      files,
      removed: stale.filter((f) => replaced.includes(f)),
      replaced: replaced.filter((f) => files.includes(f)),
      secretsFile: join(target, PROJECT_FILES.secrets),
      jwks: {kid, alg},
      kept,
      gitignoreAdded: added,
    }
  } catch (error) {
    if (createdTarget) {
      await rm(target, {recursive: true, force: true})
    }
    throw error
  } finally {
    await rm(work, {recursive: true, force: true})
  }
}

/**
 * Moves every staged file into the target; a replaced file is first moved to `backup`. On any failure the moves are
 * undone in reverse order and the replaced files restored, then the error is rethrown as INIT_FAILED.
 */
async function moveIntoPlace(
  stage: string,
  target: string,
  backup: string,
  files: string[],
  remove: string[],
  move: (from: string, to: string) => Promise<void>,
): Promise<string[]> {
  const done: {path: string; backup?: string; placed: boolean}[] = []
  const createdDirs: string[] = []
  const replaced: string[] = []
  const saveExisting = async (file: string, entry: {path: string; backup?: string}): Promise<void> => {
    if (!(await pathExists(entry.path))) return
    const saved = join(backup, file)
    await mkdir(dirname(saved), {recursive: true})
    await move(entry.path, saved)
    entry.backup = saved
    replaced.push(file)
  }
  try {
    for (const file of files) {
      const path = join(target, file)
      await makeParents(target, dirname(path), createdDirs)
      const entry: {path: string; backup?: string; placed: boolean} = {path, placed: false}
      done.push(entry)
      await saveExisting(file, entry)
      await move(join(stage, file), path)
      entry.placed = true
    }
    for (const file of remove) {
      const entry: {path: string; backup?: string; placed: boolean} = {path: join(target, file), placed: false}
      done.push(entry)
      await saveExisting(file, entry)
    }
    return replaced
  } catch (error) {
    const failures: string[] = []
    for (const entry of done.reverse()) {
      try {
        if (entry.placed) await rm(entry.path, {force: true})
        if (entry.backup) await rename(entry.backup, entry.path)
      } catch (undo) {
        failures.push(`${entry.path}: ${(undo as Error).message}`)
      }
    }
    for (const dir of createdDirs.reverse()) await rmdir(dir).catch(() => undefined)
    throw new IamError('INIT_FAILED', `Could not move the project files into ${target}: ${(error as Error).message}`, {
      cause: error,
      suggestion: failures.length > 0 ? `Rolling back failed for ${failures.join('; ')}; restore these by hand.` : 'Nothing was changed; fix the cause and run `iam init` again.',
      details: {dir: target, rolledBack: failures.length === 0},
    })
  }
}

/** Paths the last `iam render` recorded in its manifest (empty when there is none or it is unreadable). */
async function previouslyRendered(target: string): Promise<string[]> {
  const text = await readTextIfExists(join(target, LAYOUT.manifest))
  if (text === undefined) return []
  try {
    const manifest = JSON.parse(text) as {files?: Record<string, unknown>}
    return Object.keys(manifest.files ?? {}).filter((f) => !f.split(/[\\/]/).includes('..'))
  } catch {
    return []
  }
}

async function removeEmptyParents(root: string, dir: string): Promise<void> {
  for (let d = dir; d !== root && d.startsWith(root + sep); d = dirname(d)) {
    if ((await readdir(d).catch(() => ['?'])).length > 0) return
    await rmdir(d).catch(() => undefined)
  }
}

async function makeParents(root: string, dir: string, created: string[]): Promise<void> {
  const missing: string[] = []
  for (let d = dir; d !== root && d.startsWith(root + sep) && !(await pathExists(d)); d = dirname(d)) missing.unshift(d)
  for (const d of missing) {
    await mkdir(d)
    created.push(d)
  }
}
