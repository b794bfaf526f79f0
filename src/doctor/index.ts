/**
 * `iam doctor`: what this machine and this project need before `iam up` works, checked one by one, each with the fix.
 * Reads only: it never writes a file, starts a process other than `<binary> version` / `go version` / `<engine> info`,
 * or prints a secret.
 */
import {readdir, stat} from 'node:fs/promises'
import {dirname, join, relative, resolve} from 'node:path'

import {missingGitignoreLines} from '../project/init.js'
import {describePostgresUrl, externalDatabaseUrl, serversWithDatabase, isExternalPostgres, isManagedPostgres} from '../config/database.js'
import {resolveEnvRefs} from '../config/env.js'
import {loadConfig} from '../config/load.js'
import type {IamConfig} from '../config/model.js'
import {isIamError, usageError} from '../errors.js'
import {findGoToolchain} from '../install/go-build.js'
import {signingKey} from '../keys/jwks.js'
import {readKeySet} from '../keys/store.js'
import {resolveOryBinary} from '../ory/launch.js'
import {ORY_SERVERS, ORY_SPECS} from '../ory/servers.js'
import {binaryVersion, describeReported} from '../install/installed.js'
import {LAYOUT, projectPath} from '../project/layout.js'
import {projectEnv, renderProject} from '../project/render.js'
import {ensureSecrets, secretNames} from '../project/secrets.js'
import {readRuntimeMarker} from '../runtime/marker.js'
import {openRuntime} from '../runtime/open.js'
import {checkDatabase as checkPostgresDatabase, findPostgresBinaries, postgresAccount} from '../runtime/postgres.js'
import {POSTGRES_IMAGE} from '../templates/compose.js'
import {runtimePaths} from '../runtime/paths.js'
import {selectRuntime, type RuntimeSelection} from '../runtime/select.js'
import {planServices, plannedPorts} from '../plan/services.js'
import {readTextIfExists} from '../util/fs.js'
import {isAtomicTempName} from '../util/atomic-write.js'
import {assertPortsFree} from '../util/ports.js'

export type CheckStatus = 'ok' | 'warn' | 'fail'

export interface DoctorCheck {
  /** Stable id, e.g. `binary.kratos`, `project.secrets`. */
  id: string
  status: CheckStatus
  /** One line: what was found. */
  message: string
  /** One line: what to do (warn and fail only). */
  fix?: string
}

export interface DoctorReport {
  /** Project directory checked (it holds an iam.yaml: without one runDoctor throws CONFIG_NOT_FOUND). */
  projectDir: string
  runtime?: RuntimeSelection['kind']
  checks: DoctorCheck[]
  /** No check failed (warnings allowed). Exit code 1 otherwise. */
  ok: boolean
}

export interface DoctorOptions {
  projectDir: string
  env?: NodeJS.ProcessEnv
  /** --runtime */
  runtime?: string
}

const MIN_NODE = [20, 18] as const

export async function runDoctor(o: DoctorOptions): Promise<DoctorReport> {
  const env = o.env ?? process.env
  const projectDir = resolve(o.projectDir)
  const checks: DoctorCheck[] = [checkNode(process.versions.node)]

  // Outside a project `iam up` cannot work: refused as `iam up` refuses it (CONFIG_NOT_FOUND, exit 2), not "ready".
  if ((await readTextIfExists(join(projectDir, LAYOUT.config))) === undefined) {
    throw usageError('CONFIG_NOT_FOUND', `No ${LAYOUT.config} in ${projectDir}: iam doctor checks a project, and \`iam up\` needs one.`, {
      suggestion: 'Run `iam init` there to create a project, or pass -C <dir> naming the directory that holds iam.yaml.',
      details: {file: join(projectDir, LAYOUT.config), line: 0, column: 0},
    })
  }
  let config: IamConfig | undefined
  try {
    config = (await loadConfig(projectDir, {env})).config
    checks.push({id: 'project.config', status: 'ok', message: `${LAYOUT.config} is valid (project ${config.project})`})
  } catch (error) {
    checks.push(failure('project.config', error, `Fix ${LAYOUT.config} as the message says.`))
  }

  let selection: RuntimeSelection | undefined
  try {
    selection = await selectRuntime(config ?? {runtime: 'auto'}, {env, ...(o.runtime ? {override: o.runtime} : {})})
    checks.push({id: 'runtime', status: 'ok', message: `${selection.kind}: ${selection.reason}`})
  } catch (error) {
    checks.push(failure('runtime', error, 'Start the container engine, or run with --runtime native.'))
  }

  // The native runtime (also the fallback of `auto`) runs the pinned binaries; compose runs images instead.
  if (selection?.kind !== 'compose') {
    // Hydra only for a project that runs it (outside a project every server is checked).
    const servers = ORY_SERVERS.filter((server) => server !== 'hydra' || !config || config.hydra.enabled)
    const binaries = await Promise.all(servers.map((server) => checkBinary(server, env)))
    checks.push(...binaries)
    if (binaries.some((c) => c.status === 'fail')) checks.push(await checkGo(env))
  }

  if (config) checks.push(...(await checkDatabase(projectDir, config, selection?.kind, env)))
  if (config) checks.push(...(await checkProject(projectDir, config, env)))
  return {projectDir, ...(selection ? {runtime: selection.kind} : {}), checks, ok: checks.every((c) => c.status !== 'fail')}
}

export function checkNode(version: string): DoctorCheck {
  const [major = 0, minor = 0] = version.split('.').map(Number)
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1])
  return ok
    ? {id: 'node', status: 'ok', message: `Node.js ${version}`}
    : {id: 'node', status: 'fail', message: `Node.js ${version} is older than ${MIN_NODE.join('.')}`, fix: `Install Node.js ${MIN_NODE.join('.')} or newer.`}
}

async function checkBinary(server: (typeof ORY_SERVERS)[number], env: NodeJS.ProcessEnv): Promise<DoctorCheck> {
  const id = `binary.${server}`
  const fix = `Run \`iam install --from-source ${server}\` (it builds ${ORY_SPECS[server].version} into the iam cache, which is preferred over PATH).`
  try {
    // Throws ORY_BINARY_MISSING naming where it looked.
    const found = await resolveOryBinary(server, {env})
    const version = await binaryVersion(server, {env, explicitPath: found.path})
    if (version.status === 'ok') return {id, status: 'ok', message: `${server} ${version.reported} at ${found.path} (${found.source})`}
    return {id, status: 'warn', message: `${server} at ${found.path} reports ${describeReported(version)}`, fix}
  } catch (error) {
    return failure(id, error, fix)
  }
}

/**
 * `database: postgres`: natively, this machine's PostgreSQL server binaries (and, as root, the account to run them
 * as); `database.urls`: each server's own database answers `SELECT 1` (named by host:port/database only).
 */
async function checkDatabase(projectDir: string, config: IamConfig, runtime: string | undefined, env: NodeJS.ProcessEnv): Promise<DoctorCheck[]> {
  if (isManagedPostgres(config.database)) {
    if (runtime === 'compose') return [{id: 'database', status: 'ok', message: `PostgreSQL runs as the compose service postgres (${POSTGRES_IMAGE})`}]
    try {
      const binaries = await findPostgresBinaries(env)
      const account = await postgresAccount()
      return [{id: 'database', status: 'ok', message: `PostgreSQL ${binaries.version} at ${binaries.bindir}${account ? ` (run as ${account.name}: iam runs as root)` : ''}`}]
    } catch (error) {
      return [failure('database', error, 'Install the package postgresql (Debian/Ubuntu: `sudo apt-get install postgresql`), or set database: sqlite.')]
    }
  }
  if (!isExternalPostgres(config.database)) return []
  const projectVars = await projectEnv(projectDir)
  return Promise.all(
    serversWithDatabase(config).map(async (server): Promise<DoctorCheck> => {
      const id = `database.${server}`
      try {
        const url = resolveEnvRefs(externalDatabaseUrl(config.database, server), {...projectVars, ...env})
        await checkPostgresDatabase(server, url)
        return {id, status: 'ok', message: `${server}'s database at ${describePostgresUrl(url)} answers`}
      } catch (error) {
        return failure(id, error, `Check database.urls.${server} and that its server runs.`)
      }
    }),
  )
}

async function checkGo(env: NodeJS.ProcessEnv): Promise<DoctorCheck> {
  try {
    const go = await findGoToolchain(env)
    return {id: 'go', status: 'ok', message: `${go.version} at ${go.path} (iam install --from-source can build the missing binaries)`}
  } catch (error) {
    return {...failure('go', error, 'Install Go (https://go.dev/dl/), or run `iam install` to download release archives.'), status: 'warn'}
  }
}

async function checkProject(projectDir: string, config: IamConfig, env: NodeJS.ProcessEnv): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = []

  const render = await renderProject(projectDir, {config, check: true, env}).catch((error: unknown) => failure('project.render', error, 'Run `iam render` and read its error.'))
  if ('id' in render) checks.push(render)
  else {
    const stale = render.files.filter((f) => f.status !== 'unchanged')
    const handEdited = stale.filter((f) => f.status === 'hand-edited')
    if (stale.length === 0) checks.push({id: 'project.render', status: 'ok', message: `rendered files match ${LAYOUT.config}`})
    else
      checks.push({
        id: 'project.render',
        status: 'warn',
        message: `${stale.length} rendered file(s) differ from ${LAYOUT.config}: ${stale.map((f) => `${f.path} (${f.status})`).join(', ')}`,
        fix: handEdited.length > 0 ? '`iam up` renders the rest; `iam render --force` overwrites hand edits.' : '`iam up` renders them first (or run `iam render`).',
      })
  }

  checks.push(await checkPrivateFile('project.secrets', projectPath(projectDir, LAYOUT.secrets), LAYOUT.secrets))
  const secrets = await ensureSecrets(projectDir, {check: true, names: secretNames(config)}).catch(() => undefined)
  if (secrets && secrets.generated.length > 0) {
    checks.push({id: 'project.secrets.complete', status: 'warn', message: `${LAYOUT.secrets} lacks ${secrets.generated.join(', ')}`, fix: '`iam render` (or `iam up`) generates the missing secrets.'})
  }

  const keyFile = projectPath(projectDir, LAYOUT.jwks)
  const keyMode = await checkPrivateFile('project.keys', keyFile, LAYOUT.jwks)
  if (keyMode.status !== 'ok') checks.push(keyMode)
  else {
    try {
      const set = await readKeySet(keyFile)
      const signing = signingKey(set)
      checks.push({id: 'project.keys', status: 'ok', message: `${LAYOUT.jwks}: ${set.keys.length} key(s), signing with ${signing.kid} (${signing.alg}), mode 0600`})
    } catch (error) {
      checks.push(failure('project.keys', error, 'Run `iam keys generate --force` (tokens signed with the old keys stop verifying).'))
    }
  }

  checks.push(await checkStateModes(projectDir))
  checks.push(await checkStaleTemps(projectDir))

  const gitignore = (await readTextIfExists(join(projectDir, '.gitignore'))) ?? ''
  const missing = missingGitignoreLines(gitignore)
  checks.push(
    missing.length === 0
      ? {id: 'project.gitignore', status: 'ok', message: '.gitignore keeps secrets, keys and runtime state out of git'}
      : {id: 'project.gitignore', status: 'fail', message: `.gitignore does not ignore ${missing.join(', ')}`, fix: `Add these lines to .gitignore: ${missing.join(' ')}`},
  )

  checks.push(...(await checkPorts(projectDir, config, env)))
  return checks
}

/** Secrets and private keys: must exist and be readable by the owner only. */
async function checkPrivateFile(id: string, path: string, label: string): Promise<DoctorCheck> {
  let mode: number
  try {
    mode = (await stat(path)).mode & 0o777
  } catch {
    return {id, status: 'fail', message: `${label} is missing`, fix: '`iam render` (or `iam up`) creates it.'}
  }
  if ((mode & 0o077) !== 0) {
    return {id, status: 'fail', message: `${label} is readable by others (mode ${mode.toString(8).padStart(4, '0')})`, fix: `chmod 600 ${label}`}
  }
  return {id, status: 'ok', message: `${label} exists, mode 0600`}
}

/**
 * `.iam/` holds the databases (live sessions, identities), logs and pid files: every folder 0700, and every database
 * and log file 0600, whoever created it (iam, or Kratos and Keto creating their SQLite files and journals). Pid files
 * and the runtime marker hold no secret; the 0700 folder keeps them private too.
 */
async function checkStateModes(projectDir: string): Promise<DoctorCheck> {
  const id = 'project.state'
  const root = projectPath(projectDir, LAYOUT.stateDir)
  const PRIVATE_STATE = [LAYOUT.dataDir, LAYOUT.logsDir].map((d) => `${projectPath(projectDir, d)}/`)
  const open: string[] = []
  const walk = async (dir: string, depth: number): Promise<void> => {
    if ((((await stat(dir)).mode & 0o077) !== 0)) open.push(`${relative(projectDir, dir)}/`)
    for (const entry of await readdir(dir, {withFileTypes: true})) {
      const path = join(dir, entry.name)
      if (entry.isDirectory() && depth < 3) await walk(path, depth + 1)
      else if (entry.isFile() && PRIVATE_STATE.some((d) => path.startsWith(d)) && ((await stat(path)).mode & 0o077) !== 0) open.push(relative(projectDir, path))
    }
  }
  try {
    await walk(root, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {id, status: 'ok', message: `${LAYOUT.stateDir}/ does not exist yet (\`iam up\` creates it 0700)`}
    throw error
  }
  if (open.length === 0) return {id, status: 'ok', message: `${LAYOUT.stateDir}/: folders 0700, databases and logs 0600`}
  return {
    id,
    status: 'fail',
    message: `readable by other users: ${open.slice(0, 5).join(', ')}${open.length > 5 ? ` and ${open.length - 5} more` : ''} (the databases hold live sessions)`,
    fix: `chmod -R go-rwx ${LAYOUT.stateDir}`,
  }
}

/** Temp files of interrupted writes (a private key, .env) that no later write of the same file has removed yet. */
async function checkStaleTemps(projectDir: string): Promise<DoctorCheck> {
  const id = 'project.tempfiles'
  const found: string[] = []
  for (const dir of ['.', LAYOUT.oryDir, dirname(LAYOUT.jwks), dirname(LAYOUT.kratosConfig), dirname(LAYOUT.ketoConfig)]) {
    const entries = await readdir(projectPath(projectDir, dir)).catch(() => [] as string[])
    for (const entry of entries) if (isAtomicTempName(entry)) found.push(join(dir, entry))
  }
  if (found.length === 0) return {id, status: 'ok', message: 'no temp files of interrupted writes'}
  return {id, status: 'warn', message: `temp files of interrupted writes (they may hold keys or secrets): ${found.join(', ')}`, fix: `rm ${found.join(' ')} (the next write of the same file also removes them)`}
}

/** A running stack holds its own ports (and should be healthy); otherwise every planned port must be free for `iam up`. */
async function checkPorts(projectDir: string, config: IamConfig, env: NodeJS.ProcessEnv): Promise<DoctorCheck[]> {
  if (await readRuntimeMarker(runtimePaths(projectDir))) {
    try {
      const {runtime} = await openRuntime(projectDir, {config, env})
      const report = await runtime.status()
      const up = report.services.filter((s) => s.state !== 'stopped')
      if (up.length > 0) {
        const down = report.services.filter((s) => s.state !== 'ready')
        return [
          report.healthy
            ? {id: 'project.stack', status: 'ok', message: `the stack runs (${report.runtime} runtime), every service ready`}
            : {id: 'project.stack', status: 'fail', message: `the stack runs (${report.runtime} runtime) but ${down.map((s) => `${s.name} is ${s.state}`).join(', ')}`, fix: '`iam logs <service>` says why; `iam up` starts what is missing.'},
        ]
      }
    } catch (error) {
      return [{...failure('project.stack', error, '`iam status` shows the stack.'), status: 'warn'}]
    }
  }
  try {
    await assertPortsFree(plannedPorts(planServices(config)))
    return [{id: 'project.ports', status: 'ok', message: `the stack is not running and every port in ${LAYOUT.config} is free`}]
  } catch (error) {
    return [failure('project.ports', error, 'Stop what holds the port, or change it in iam.yaml.')]
  }
}

function failure(id: string, error: unknown, fallbackFix: string): DoctorCheck {
  if (isIamError(error)) return {id, status: 'fail', message: error.message, fix: error.suggestion ?? fallbackFix}
  return {id, status: 'fail', message: error instanceof Error ? error.message : String(error), fix: fallbackFix}
}
