/**
 * Source 1: build a pinned Ory server from the Go module proxy with the local Go toolchain, following its recipe
 * (recipe.ts): download the module, copy it somewhere writable, patch (drop replaces, fill nested stand-ins),
 * `go build`, verify `<binary> version`, rename into the cache.
 */
import {execa} from 'execa'
import {constants} from 'node:fs'
import {access, appendFile, chmod, cp, mkdir, mkdtemp, readdir, rm, stat, unlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {delimiter, dirname, join} from 'node:path'

import {environmentError, IamError, ExitCode} from '../errors.js'
import type {OryServer} from '../ory/servers.js'
import type {Reporter} from '../ui/reporter.js'
import {iamHome} from './paths.js'
import {buildRecipe, goBuildArgs, goEnv, goVersionSupported, MIN_GO_VERSION, parseGoVersion, type BuildRecipe} from './recipe.js'
import {createStaging, placeBinary, removeStaging} from './staging.js'
import {reportedVersion} from './verify.js'

const MIN_GO = `Go ≥${MIN_GO_VERSION.major}.${MIN_GO_VERSION.minor}`
const TOOLCHAIN_FIX = `install ${MIN_GO} (https://go.dev/dl/) and put \`go\` on PATH, or run \`iam install\` without --from-source to download Ory's release archives (needs network)`
const LOG_TAIL_LINES = 20
const HEARTBEAT_MS = 30_000

export interface GoToolchain {
  path: string
  version: string
}

/** Finds `go` on PATH and checks its version. Throws GO_TOOLCHAIN_MISSING / GO_TOOLCHAIN_TOO_OLD (exit 3). */
export async function findGoToolchain(env: NodeJS.ProcessEnv = process.env): Promise<GoToolchain> {
  const path = await whichGo(env)
  if (!path) {
    throw environmentError('GO_TOOLCHAIN_MISSING', 'building from source needs the Go toolchain, and `go` is not on PATH', {
      suggestion: TOOLCHAIN_FIX,
    })
  }
  const result = await execa(path, ['version'], {env: goEnv(env), reject: false, timeout: 30_000, stdin: 'ignore'})
  const parsed = parseGoVersion(String(result.stdout))
  if (result.failed || !parsed) {
    throw environmentError('GO_TOOLCHAIN_MISSING', `\`${path} version\` failed: ${String(result.stderr || result.message).trim()}`, {
      suggestion: TOOLCHAIN_FIX,
    })
  }
  if (!goVersionSupported(parsed)) {
    throw environmentError('GO_TOOLCHAIN_TOO_OLD', `${path} is ${parsed.text}; building the Ory servers needs ${MIN_GO}`, {
      suggestion: TOOLCHAIN_FIX,
    })
  }
  return {path, version: parsed.text}
}

async function whichGo(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const names = process.platform === 'win32' ? ['go.exe'] : ['go']
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    for (const name of names) {
      const candidate = join(dir, name)
      try {
        await access(candidate, constants.X_OK)
        if ((await stat(candidate)).isFile()) return candidate
      } catch {
        // not here
      }
    }
  }
  return undefined
}

/** Full log of one build, kept under `<home>/logs/` when the build fails. */
class BuildLog {
  constructor(readonly path: string) {}

  async command(cmd: string, args: string[], output: string): Promise<void> {
    await appendFile(this.path, `$ ${[cmd, ...args].join(' ')}\n${output}${output.endsWith('\n') || output === '' ? '' : '\n'}`)
  }

  async note(line: string): Promise<void> {
    await appendFile(this.path, `# ${line}\n`)
  }
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}

interface GoContext {
  go: GoToolchain
  env: NodeJS.ProcessEnv
  log: BuildLog
  /** An empty dir, so module commands never pick up a surrounding go.mod or go.work. */
  neutralDir: string
}

async function runGo(ctx: GoContext, args: string[], o: {cwd: string; recipe?: BuildRecipe}): Promise<{ok: boolean; stdout: string; output: string; exitCode?: number}> {
  const result = await execa(ctx.go.path, args, {cwd: o.cwd, env: goEnv(ctx.env, o.recipe), reject: false, all: true, stdin: 'ignore'})
  const output = String(result.all ?? '')
  await ctx.log.command('go', args, output)
  return {ok: !result.failed, stdout: String(result.stdout), output, exitCode: result.exitCode}
}

/** `go mod download -json module@version` → the module's (read-only) directory in the module cache. */
async function downloadModule(ctx: GoContext, module: string, version: string): Promise<string> {
  const result = await runGo(ctx, ['mod', 'download', '-json', `${module}@${version}`], {cwd: ctx.neutralDir})
  let info: {Dir?: string; Error?: string} = {}
  try {
    info = JSON.parse(result.stdout) as typeof info
  } catch {
    // go printed no JSON: report its output below
  }
  if (!result.ok || !info.Dir) {
    const why = (info.Error ?? tail(result.output, LOG_TAIL_LINES)).trim()
    throw environmentError('MODULE_DOWNLOAD_FAILED', `could not download ${module}@${version} from the Go module proxy: ${why}`, {
      suggestion: `Check the network and GOPROXY (now ${ctx.env.GOPROXY || 'the default https://proxy.golang.org,direct'}); behind a proxy or offline, point GOPROXY at a reachable mirror or a filled module cache (GOFLAGS=-mod=mod GOPROXY=off uses only the cache). Full log: ${ctx.log.path}`,
      details: {module, version, log: ctx.log.path},
    })
  }
  return info.Dir
}

/** Copies a module-cache directory (read-only) to `dest` and makes the copy writable. */
async function copyWritable(from: string, dest: string): Promise<void> {
  await cp(from, dest, {recursive: true})
  await makeWritable(dest)
}

async function makeWritable(path: string): Promise<void> {
  const info = await stat(path)
  await chmod(path, info.mode | 0o200 | (info.isDirectory() ? 0o100 : 0))
  if (info.isDirectory()) {
    for (const entry of await readdir(path)) await makeWritable(join(path, entry))
  }
}

export interface SourceBuildOptions {
  env?: NodeJS.ProcessEnv
  reporter?: Reporter
  /** Replaces the server's recipe (tests exercise failure paths with it). */
  recipe?: BuildRecipe
}

/** Builds, verifies and installs one server from source. Returns the installed binary's path. */
export async function installFromSource(server: OryServer, o: SourceBuildOptions = {}): Promise<string> {
  const env = o.env ?? process.env
  const step = (message: string): void => o.reporter?.step(server, message)
  const recipe = o.recipe ?? buildRecipe(server)
  const home = iamHome(env)
  const go = await findGoToolchain(env)

  await mkdir(join(home, 'logs'), {recursive: true})
  const stamp = new Date().toISOString().replaceAll(':', '-').replace(/\.\d+Z$/, 'Z')
  const log = new BuildLog(join(home, 'logs', `install-${server}-${recipe.version}-${stamp}.log`))
  await writeFile(log.path, `# iam install --from-source ${server} ${recipe.version} with ${go.version} (${go.path})\n`)

  const neutralDir = await mkdtemp(join(tmpdir(), `iam-build-${server}-`))
  const staging = await createStaging(home, server)
  const ctx: GoContext = {go, env, log, neutralDir}
  let succeeded = false
  try {
    step(`download ${recipe.module}@${recipe.version} (Go module proxy)`)
    const moduleDir = await downloadModule(ctx, recipe.module, recipe.version)

    const src = join(neutralDir, 'src')
    step(`copy module to a writable build dir ${src}`)
    await copyWritable(moduleDir, src)

    for (const module of recipe.dropReplaces) {
      step(`patch: drop replace ${module}`)
      await mustSucceed(ctx, await runGo(ctx, ['mod', 'edit', `-dropreplace=${module}`], {cwd: src}), `go mod edit -dropreplace=${module}`)
    }
    for (const standIn of recipe.standIns) {
      step(`patch: fill ./${standIn.dir} with ${standIn.module}@${standIn.version} + stand-in (${standIn.why})`)
      const standInDir = await downloadModule(ctx, standIn.module, standIn.version)
      const dest = join(src, standIn.dir)
      await rm(dest, {recursive: true, force: true})
      await copyWritable(standInDir, dest)
      for (const file of standIn.files) {
        await mkdir(dirname(join(dest, file.path)), {recursive: true})
        await writeFile(join(dest, file.path), file.content)
        await log.note(`wrote stand-in ${join(standIn.dir, file.path)}`)
      }
    }

    const out = join(staging, server)
    const args = goBuildArgs(recipe, out)
    step(`build: go build (CGO_ENABLED=${recipe.cgo ? 1 : 0}${recipe.tags.length > 0 ? `, tags ${recipe.tags.join(',')}` : ''}); this takes minutes on a cold Go build cache`)
    const started = Date.now()
    const heartbeat = setInterval(() => step(`still building… ${Math.round((Date.now() - started) / 1000)}s`), HEARTBEAT_MS)
    let build
    try {
      build = await runGo(ctx, args, {cwd: src, recipe})
    } finally {
      clearInterval(heartbeat)
    }
    if (!build.ok) {
      throw new IamError(
        'BUILD_FAILED',
        `go build of ${server} ${recipe.version} failed (exit ${build.exitCode ?? '?'}). Full log: ${log.path}\nLast lines:\n${tail(build.output, LOG_TAIL_LINES)}`,
        {
          exitCode: ExitCode.Failure,
          suggestion: `Read the log at ${log.path}; a cgo error usually means gcc or libc headers are missing (Kratos and Keto need cgo for SQLite).`,
          details: {server, version: recipe.version, log: log.path, tail: tail(build.output, LOG_TAIL_LINES)},
        },
      )
    }

    step(`verify: ${server} version`)
    const reported = await reportedVersion(out, env)
    await log.note(`${server} version:\n${reported.output}`)
    if (reported.version !== recipe.version) {
      throw new IamError('VERIFY_FAILED', `the built ${server} reports version ${reported.version ?? '(none)'}, expected ${recipe.version}. Full log: ${log.path}`, {
        exitCode: ExitCode.Failure,
        suggestion: 'The build recipe no longer sets the version (see buildInfoPackage in src/ory/servers.ts); please report this.',
        details: {server, expected: recipe.version, reported: reported.version, log: log.path},
      })
    }
    const path = await placeBinary(out, {server, version: recipe.version, source: 'from-source', installedAt: new Date().toISOString()}, env)
    succeeded = true
    return path
  } finally {
    await rm(neutralDir, {recursive: true, force: true})
    await removeStaging(home, staging)
    // The log matters only when something went wrong.
    if (succeeded) await unlink(log.path).catch(() => undefined)
  }
}

async function mustSucceed(ctx: GoContext, result: {ok: boolean; output: string}, what: string): Promise<void> {
  if (result.ok) return
  throw new IamError('BUILD_FAILED', `${what} failed. Full log: ${ctx.log.path}\nLast lines:\n${tail(result.output, LOG_TAIL_LINES)}`, {
    exitCode: ExitCode.Failure,
    suggestion: `Read the log at ${ctx.log.path}.`,
    details: {log: ctx.log.path},
  })
}
