/**
 * Source 1: build a pinned Ory server from its tag's source archive with the local Go toolchain, following its
 * recipe (recipe.ts): take the archive (local or GitHub), extract and verify the tree hash (source-archive.ts),
 * `go build` inside the tree (dependencies from the Go module proxy, checked against the tree's go.sum), verify
 * `<binary> version`, rename into the cache. Everything happens in one staging folder that is removed at the end.
 */
import {execa} from 'execa'
import {constants} from 'node:fs'
import {access, appendFile, mkdir, stat, unlink, writeFile} from 'node:fs/promises'
import {delimiter, join} from 'node:path'

import {environmentError, IamError, ExitCode} from '../errors.js'
import {ORY_SPECS, type OryServer} from '../ory/servers.js'
import type {Reporter} from '../ui/reporter.js'
import {iamHome} from './paths.js'
import {buildRecipe, goBuildArgs, goEnv, goVersionSupported, MIN_GO_VERSION, parseGoVersion, type BuildRecipe} from './recipe.js'
import {extractVerifiedSource, fetchSourceArchive, locateSourceArchive, SOURCE_ARCHIVES_ENV} from './source-archive.js'
import {createStaging, placeBinary, removeStaging} from './staging.js'
import {reportedVersion} from './verify.js'

const MIN_GO = `Go ≥${MIN_GO_VERSION.major}.${MIN_GO_VERSION.minor}`
const TOOLCHAIN_FIX = `install ${MIN_GO} (https://go.dev/dl/) and a C compiler, and put \`go\` on PATH, or run \`iam install\` without --from-source to download Ory's release archives (needs network)`
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
}

async function runGo(ctx: GoContext, args: string[], o: {cwd: string; recipe?: BuildRecipe}): Promise<{ok: boolean; stdout: string; output: string; exitCode?: number}> {
  const result = await execa(ctx.go.path, args, {cwd: o.cwd, env: goEnv(ctx.env, o.recipe), reject: false, all: true, stdin: 'ignore'})
  const output = String(result.all ?? '')
  await ctx.log.command('go', args, output)
  return {ok: !result.failed, stdout: String(result.stdout), output, exitCode: result.exitCode}
}

/** Go's words for "the module proxy could not be reached or refused a module". */
const MODULE_FETCH_FAILURE = /(dial tcp|lookup .* no such host|proxy\.golang\.org|GOPROXY|module lookup disabled|connection refused|i\/o timeout|verifying .*: .*: (Get|reading))/

export interface SourceBuildOptions {
  env?: NodeJS.ProcessEnv
  reporter?: Reporter
  /** A directory holding the source archives, or one archive file; default env IAM_ORY_SOURCE_ARCHIVES, else GitHub. */
  sourceArchives?: string
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

  const staging = await createStaging(home, server)
  const ctx: GoContext = {go, env, log}
  let succeeded = false
  try {
    const archive = await locateSourceArchive(server, o.sourceArchives ?? env[SOURCE_ARCHIVES_ENV])
    step(archive.kind === 'file' ? `source: ${archive.path}` : `download ${archive.url}`)
    const archiveFile = await fetchSourceArchive(server, archive, staging)
    step('verify: extract and check the source tree hash')
    const src = await extractVerifiedSource(server, archiveFile, staging)
    await log.note(`source tree ${src} verified`)

    const out = join(staging, 'bin', server)
    await mkdir(join(staging, 'bin'))
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
    if (!build.ok && MODULE_FETCH_FAILURE.test(build.output)) {
      throw environmentError('MODULE_DOWNLOAD_FAILED', `go build of ${server} ${recipe.version} could not fetch its dependencies from the Go module proxy. Full log: ${log.path}\nLast lines:\n${tail(build.output, LOG_TAIL_LINES)}`, {
        suggestion: `Check the network and GOPROXY (now ${env.GOPROXY || 'the default https://proxy.golang.org,direct'}); offline, point GOPROXY at a reachable mirror or use a filled module cache (GOPROXY=off uses only the cache). Full log: ${log.path}`,
        details: {server, version: recipe.version, log: log.path},
      })
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
    const path = await placeBinary(out, {server, version: recipe.version, source: 'from-source', sourceTreeSha256: ORY_SPECS[server].sourceTreeSha256, installedAt: new Date().toISOString()}, env)
    succeeded = true
    return path
  } finally {
    await removeStaging(home, staging)
    // The log matters only when something went wrong.
    if (succeeded) await unlink(log.path).catch(() => undefined)
  }
}
