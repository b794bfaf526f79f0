/**
 * The from-source path for real: the tag's source archive (from ../shared/ory/src or IAM_ORY_SOURCE_ARCHIVES),
 * extracted and verified by its tree hash, `go build` of Oathkeeper into a temp IAM_HOME (a minute with a warm Go
 * build cache, several cold), idempotency, the default cache the suite's Ory binaries live in, and the failure paths.
 */
import {execa} from 'execa'
import {appendFile, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {IamError} from '../../src/errors.js'
import {installFromSource} from '../../src/install/go-build.js'
import {ensureInstalled, installedBinary} from '../../src/install/index.js'
import {serverBinaryPath} from '../../src/install/paths.js'
import {buildRecipe} from '../../src/install/recipe.js'
import {ORY_SERVERS, ORY_SPECS, ORY_VERSION} from '../../src/ory/servers.js'
import {runIam} from '../helpers/cli.js'
import {sourceArchive, sourceArchivesDir} from '../helpers/source-archives.js'

const BUILD_TIMEOUT = 20 * 60_000

let work: string
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'iam-install-source-'))
})
afterAll(async () => {
  await rm(work, {recursive: true, force: true})
})

/** Every file and directory under `dir`, relative; [] when it does not exist. */
async function listAll(dir: string): Promise<string[]> {
  return (await readdir(dir, {recursive: true}).catch(() => [] as string[])).sort()
}

describe('iam install --from-source', () => {
  it(
    'builds oathkeeper from the verified source archive into an empty IAM_HOME; a second run is a no-op; --force rebuilds',
    async () => {
      const home = join(work, 'home')
      const env = {IAM_HOME: home, IAM_ORY_SOURCE_ARCHIVES: sourceArchivesDir()}
      const first = await runIam(['install', '--from-source', 'oathkeeper', '--json'], {env, timeoutMs: BUILD_TIMEOUT})
      expect(first.exitCode, first.output).toBe(0)
      const path = serverBinaryPath('oathkeeper', ORY_VERSION, env)
      expect(first.json).toMatchObject({servers: [{server: 'oathkeeper', version: ORY_VERSION, path, source: 'from-source', action: 'installed'}]})
      // Progress names the binary and each step, on stderr (one JSON event per line with --json).
      for (const step of ['source: ', 'verify: extract and check the source tree hash', 'build', 'verify: oathkeeper version']) {
        expect(first.stderr).toContain(`"subject":"oathkeeper","message":"${step}`)
      }
      expect((await execa(path, ['version'])).stdout).toMatch(/^Version:\s+v26\.2\.0$/m)
      expect(installedBinary('oathkeeper', env)).toBe(path)
      expect(JSON.parse(await readFile(join(home, 'bin/oathkeeper', ORY_VERSION, 'install.json'), 'utf8'))).toMatchObject({
        source: 'from-source',
        sourceTreeSha256: ORY_SPECS.oathkeeper.sourceTreeSha256,
      })
      // Nothing of the build is left behind: only the binary, its metadata (and the empty logs folder).
      expect(await listAll(home)).toEqual(['bin', 'bin/oathkeeper', `bin/oathkeeper/${ORY_VERSION}`, `bin/oathkeeper/${ORY_VERSION}/install.json`, `bin/oathkeeper/${ORY_VERSION}/oathkeeper`, 'logs'])
      const builtAt = (await stat(path)).mtimeMs

      const second = await runIam(['install', '--from-source', 'oathkeeper'], {env})
      expect(second.exitCode, second.output).toBe(0)
      expect(second.stdout).toMatch(/oathkeeper\s+v26\.2\.0\s+already installed/)
      expect((await stat(path)).mtimeMs).toBe(builtAt)

      // The archive as one file (what a user downloads from GitHub) instead of a folder.
      const forced = await runIam(['install', '--from-source', 'oathkeeper', '--force', '--source-archives', sourceArchive('oathkeeper'), '--json'], {env: {IAM_HOME: home}, timeoutMs: BUILD_TIMEOUT})
      expect(forced.exitCode, forced.output).toBe(0)
      expect(forced.json).toMatchObject({servers: [{action: 'installed', source: 'from-source'}]})
      expect((await stat(path)).mtimeMs).toBeGreaterThan(builtAt)
    },
    BUILD_TIMEOUT * 2,
  )

  it('is a no-op against the default cache when the pinned binaries are current', async () => {
    // The inherited environment: IAM_HOME when CI sets it, else ~/.cache/iam, where the suite's binaries live.
    const r = await runIam(['install', '--from-source', 'all', '--json'])
    expect(r.exitCode, r.output).toBe(0)
    expect(r.json).toEqual({
      servers: ORY_SERVERS.map((server) => ({
        server,
        version: ORY_VERSION,
        path: serverBinaryPath(server),
        source: expect.stringMatching(/^(from-source|release-archive|unknown)$/),
        action: 'already-installed',
        durationMs: expect.any(Number),
      })),
    })
    // The API other modules call agrees with the command.
    for (const server of ORY_SERVERS) {
      expect(installedBinary(server)).toBe(serverBinaryPath(server))
      expect(await ensureInstalled(server, {fromSource: true})).toBe(serverBinaryPath(server))
    }
  })

  it('a source tree that is not the tag (one byte changed) is refused: SOURCE_TREE_MISMATCH, nothing built, nothing left', async () => {
    const dir = join(work, 'tampered')
    await mkdir(join(dir, 'x'), {recursive: true})
    await execa('tar', ['-xzf', sourceArchive('oathkeeper'), '-C', join(dir, 'x')])
    const [top] = await readdir(join(dir, 'x'))
    await appendFile(join(dir, 'x', top!, 'main.go'), '\n')
    const archive = join(dir, `oathkeeper-${ORY_VERSION}.tar.gz`)
    await execa('tar', ['-czf', archive, '-C', join(dir, 'x'), top!])
    const home = join(work, 'tampered-home')
    const r = await runIam(['install', '--from-source', 'oathkeeper', '--source-archives', dir, '--json'], {env: {IAM_HOME: home}})
    expect(r.exitCode, r.output).toBe(1)
    expect(r.json).toMatchObject({error: {code: 'SOURCE_TREE_MISMATCH', exitCode: 1, details: {expected: ORY_SPECS.oathkeeper.sourceTreeSha256}}})
    expect(r.stderr).not.toContain('"message":"build')
    expect(installedBinary('oathkeeper', {IAM_HOME: home})).toBeUndefined()
    // Only the (kept) build log: no extracted tree, no staging folder, no binary.
    expect((await listAll(home)).filter((p) => !p.startsWith('logs'))).toEqual([])
  })

  it('a folder without the archive is SOURCE_ARCHIVE_MISSING (exit 3) naming the files it looked for', async () => {
    const empty = await mkdtemp(join(work, 'no-archives-'))
    const r = await runIam(['install', '--from-source', 'keto', '--json'], {env: {IAM_HOME: join(work, 'empty-home'), IAM_ORY_SOURCE_ARCHIVES: empty}})
    expect(r.exitCode, r.output).toBe(3)
    expect(r.json).toMatchObject({error: {code: 'SOURCE_ARCHIVE_MISSING', exitCode: 3}})
    expect((r.json as {error: {message: string}}).error.message).toContain(`keto-${ORY_VERSION}.tar.gz`)
  })

  it('one archive file cannot build several servers: SOURCE_ARCHIVE_NEEDS_ONE_SERVER (exit 2)', async () => {
    const r = await runIam(['install', '--from-source', 'all', '--source-archives', sourceArchive('keto'), '--json'], {env: {IAM_HOME: join(work, 'file-home')}})
    expect(r.exitCode, r.output).toBe(2)
    expect(r.json).toMatchObject({error: {code: 'SOURCE_ARCHIVE_NEEDS_ONE_SERVER'}})
  })

  it('without go on PATH: exit 3, GO_TOOLCHAIN_MISSING, and the fix names both ways out', async () => {
    // A PATH that has node and nothing else.
    const bin = await mkdtemp(join(work, 'bin-'))
    await symlink(process.execPath, join(bin, 'node'))
    const r = await runIam(['install', '--from-source', 'kratos', '--json'], {env: {PATH: bin, IAM_HOME: join(work, 'no-go-home')}})
    expect(r.exitCode).toBe(3)
    expect(r.json).toMatchObject({error: {code: 'GO_TOOLCHAIN_MISSING', exitCode: 3}})
    const {suggestion} = (r.json as {error: {suggestion: string}}).error
    expect(suggestion).toContain('Go ≥1.26')
    expect(suggestion).toContain('without --from-source')
  })

  it('dependencies the module proxy cannot serve are MODULE_DOWNLOAD_FAILED (exit 3) naming GOPROXY', async () => {
    const home = join(work, 'offline-home')
    const env = {...process.env, IAM_HOME: home, GOPROXY: 'off', GOMODCACHE: join(work, 'empty-modcache'), IAM_ORY_SOURCE_ARCHIVES: sourceArchivesDir()}
    const error = await installFromSource('oathkeeper', {env}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(IamError)
    expect(error).toMatchObject({code: 'MODULE_DOWNLOAD_FAILED', exitCode: 3})
    expect((error as IamError).suggestion).toContain('GOPROXY')
    expect(installedBinary('oathkeeper', env)).toBeUndefined()
    await rm(join(work, 'empty-modcache'), {recursive: true, force: true}).catch(() => undefined)
  }, BUILD_TIMEOUT)

  it(
    'a failed build keeps its full log under <home>/logs/ and reports its path and last lines',
    async () => {
      const home = join(work, 'failing-home')
      const env = {...process.env, IAM_HOME: home, IAM_ORY_SOURCE_ARCHIVES: sourceArchivesDir()}
      // A malformed -X makes the linker fail right after the (cached) compile.
      const recipe = {...buildRecipe('oathkeeper'), ldflagsX: {'': 'broken'}}
      const error = (await installFromSource('oathkeeper', {env, recipe}).catch((e: unknown) => e)) as IamError
      expect(error).toBeInstanceOf(IamError)
      expect(error).toMatchObject({code: 'BUILD_FAILED', exitCode: 1})
      const log = (error.details as {log: string}).log
      expect(log.startsWith(join(home, 'logs'))).toBe(true)
      expect(error.message).toContain(log)
      expect(error.message).toContain('Last lines:')
      const text = await readFile(log, 'utf8')
      expect(text).toContain('$ go build')
      expect(text).toContain((error.details as {tail: string}).tail.split('\n').pop())
      expect(installedBinary('oathkeeper', env)).toBeUndefined()
    },
    BUILD_TIMEOUT,
  )
})
