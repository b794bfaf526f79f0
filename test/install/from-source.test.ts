/**
 * The from-source path for real: `go build` of Oathkeeper into a temp IAM_HOME (seconds with a warm Go build cache,
 * ~2 minutes cold), idempotency, the default cache the suite's Ory binaries live in, and the failure paths.
 */
import {execa} from 'execa'
import {mkdtemp, readFile, rm, stat, symlink} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {IamError} from '../../src/errors.js'
import {installFromSource} from '../../src/install/go-build.js'
import {ensureInstalled, installedBinary} from '../../src/install/index.js'
import {serverBinaryPath} from '../../src/install/paths.js'
import {buildRecipe} from '../../src/install/recipe.js'
import {ORY_SERVERS, ORY_SPECS} from '../../src/ory/servers.js'
import {runIam} from '../helpers/cli.js'

const BUILD_TIMEOUT = 20 * 60_000

let work: string
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'iam-install-source-'))
})
afterAll(async () => {
  await rm(work, {recursive: true, force: true})
})

describe('iam install --from-source', () => {
  it(
    'builds oathkeeper into an empty IAM_HOME; a second run is a no-op; --force rebuilds',
    async () => {
      const home = join(work, 'home')
      const env = {IAM_HOME: home}
      const first = await runIam(['install', '--from-source', 'oathkeeper', '--json'], {env, timeoutMs: BUILD_TIMEOUT})
      expect(first.exitCode, first.output).toBe(0)
      const path = serverBinaryPath('oathkeeper', 'v0.40.9', env)
      expect(first.json).toMatchObject({servers: [{server: 'oathkeeper', version: 'v0.40.9', path, source: 'from-source', action: 'installed'}]})
      // Progress names the binary and each step, on stderr (one JSON event per line with --json).
      for (const step of ['download', 'copy', 'build', 'verify']) expect(first.stderr).toMatch(new RegExp(`"subject":"oathkeeper","message":"${step}`))
      expect((await execa(path, ['version'])).stdout).toMatch(/^Version:\s+v0\.40\.9$/m)
      expect(installedBinary('oathkeeper', env)).toBe(path)
      const builtAt = (await stat(path)).mtimeMs

      const second = await runIam(['install', '--from-source', 'oathkeeper'], {env})
      expect(second.exitCode, second.output).toBe(0)
      expect(second.stdout).toMatch(/oathkeeper\s+v0\.40\.9\s+already installed/)
      expect(second.stderr).toContain('already installed')
      expect((await stat(path)).mtimeMs).toBe(builtAt)

      const forced = await runIam(['install', '--from-source', 'oathkeeper', '--force', '--json'], {env, timeoutMs: BUILD_TIMEOUT})
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
        version: ORY_SPECS[server].version,
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

  it('without go on PATH: exit 3, GO_TOOLCHAIN_MISSING, and the fix names both ways out', async () => {
    // A PATH that has node and nothing else.
    const bin = await mkdtemp(join(work, 'bin-'))
    await symlink(process.execPath, join(bin, 'node'))
    const r = await runIam(['install', '--from-source', 'kratos', '--json'], {env: {PATH: bin, IAM_HOME: join(work, 'no-go-home')}})
    expect(r.exitCode).toBe(3)
    expect(r.json).toMatchObject({error: {code: 'GO_TOOLCHAIN_MISSING', exitCode: 3}})
    const {suggestion} = (r.json as {error: {suggestion: string}}).error
    expect(suggestion).toContain('Go ≥1.22')
    expect(suggestion).toContain('without --from-source')
  })

  it('a module download failure is MODULE_DOWNLOAD_FAILED (exit 3) naming GOPROXY', async () => {
    const home = join(work, 'offline-home')
    const env = {...process.env, IAM_HOME: home, GOPROXY: 'off', GOMODCACHE: join(work, 'empty-modcache')}
    const error = await installFromSource('oathkeeper', {env}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(IamError)
    expect(error).toMatchObject({code: 'MODULE_DOWNLOAD_FAILED', exitCode: 3})
    expect((error as IamError).suggestion).toContain('GOPROXY')
    expect(installedBinary('oathkeeper', env)).toBeUndefined()
  })

  it(
    'a failed build keeps its full log under <home>/logs/ and reports its path and last lines',
    async () => {
      const home = join(work, 'failing-home')
      const env = {...process.env, IAM_HOME: home}
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
