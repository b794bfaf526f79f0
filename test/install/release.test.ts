/**
 * The release-archive source against a local HTTP server on a loopback port, serving archives this test builds:
 * a tiny shell script named like the server that prints `Version: vX`, packed with the system tar.
 */
import {execa} from 'execa'
import {createHash} from 'node:crypto'
import {chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {IamError} from '../../src/errors.js'
import {installServers, type InstallOptions} from '../../src/install/index.js'
import {serverBinaryPath} from '../../src/install/paths.js'
import {ORY_SPECS} from '../../src/ory/servers.js'
import {runIam} from '../helpers/cli.js'

const VERSION = ORY_SPECS.oathkeeper.version
const ARCHIVE = `oathkeeper_${VERSION.slice(1)}-linux_64bit.tar.gz`
const platform = {os: 'linux', arch: '64bit'} as const

let work: string
let server: Server
let base: string
const archives: Record<string, Buffer> = {}
const requests: string[] = []

async function buildArchive(name: string, script: string): Promise<Buffer> {
  const dir = await mkdtemp(join(work, 'archive-'))
  await writeFile(join(dir, 'oathkeeper'), script)
  await chmod(join(dir, 'oathkeeper'), 0o755)
  await writeFile(join(dir, 'LICENSE'), 'Apache-2.0\n')
  const out = join(work, name)
  await execa('tar', ['-czf', out, '-C', dir, 'oathkeeper', 'LICENSE'])
  return readFile(out)
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex')

/** Every file and directory under `dir`, relative; [] when it does not exist. */
async function listAll(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, {recursive: true})).sort()
  } catch {
    return []
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'iam-install-release-'))
  archives.good = await buildArchive('good.tar.gz', `#!/bin/sh\nprintf 'Version:    ${VERSION}\\nGit Hash:   test\\n'\n`)
  archives.wrongVersion = await buildArchive('wrong.tar.gz', `#!/bin/sh\nprintf 'Version:    v0.0.1\\n'\n`)
  server = createServer((req, res) => {
    requests.push(req.url ?? '')
    const [, kind, file] = (req.url ?? '').split('/')
    const body = kind === 'wrong-version' ? archives.wrongVersion! : archives.good!
    if (file === 'checksums.txt' && kind !== 'missing') {
      // What goreleaser publishes beside the archives: `unlisted` names only another archive, `tampered` another hash.
      const listed = kind === 'unlisted' ? `${'00'.repeat(32)}  kratos_26.2.0-linux_sqlite_64bit.tar.gz\n` : `${kind === 'tampered' ? 'ab'.repeat(32) : sha256(body)}  ${ARCHIVE}\n`
      res.writeHead(200, {'content-type': 'text/plain'})
      res.end(listed)
    } else if (kind === 'good' || kind === 'wrong-version' || kind === 'unlisted' || kind === 'tampered') {
      res.writeHead(200, {'content-type': 'application/gzip', 'content-length': body.length})
      res.end(body)
    } else if (kind === 'redirect') {
      res.writeHead(302, {location: (req.url ?? '').replace('/redirect/', '/good/')})
      res.end()
    } else if (kind === 'truncated') {
      // Announce the full length, send half, then drop the connection.
      res.writeHead(200, {'content-type': 'application/gzip', 'content-length': body.length})
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy())
    } else if (kind === 'truncated-chunked') {
      res.writeHead(200, {'content-type': 'application/gzip'})
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy())
    } else {
      res.writeHead(404)
      res.end('not found')
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  await rm(work, {recursive: true, force: true})
})

let home: string
beforeEach(async () => {
  home = await mkdtemp(join(work, 'home-'))
  requests.length = 0
})

function options(kind: string, extra: Partial<InstallOptions> = {}): InstallOptions {
  return {
    env: {...process.env, IAM_HOME: home},
    urlTemplate: `${base}/${kind}/{server}_{semver}-{platform}.tar.gz`,
    platform,
    ...extra,
  }
}

async function failure(promise: Promise<unknown>): Promise<IamError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(IamError)
  return error as IamError
}

describe('install from release archives', () => {
  it('downloads, verifies the SHA-256 and `version`, installs; a second run does nothing', async () => {
    const [result] = await installServers(['oathkeeper'], options('good', {sha256: sha256(archives.good!)}))
    const path = serverBinaryPath('oathkeeper', VERSION, {IAM_HOME: home})
    expect(result).toMatchObject({server: 'oathkeeper', version: VERSION, path, source: 'release-archive', action: 'installed'})
    expect((await execa(path, ['version'])).stdout).toContain(`Version:    ${VERSION}`)
    expect(requests).toEqual([`/good/${ARCHIVE}`])
    // Only the binary and its metadata are left: no staging files.
    expect(await listAll(home)).toEqual(['bin', 'bin/oathkeeper', `bin/oathkeeper/${VERSION}`, `bin/oathkeeper/${VERSION}/install.json`, `bin/oathkeeper/${VERSION}/oathkeeper`])
    expect(JSON.parse(await readFile(join(home, 'bin/oathkeeper', VERSION, 'install.json'), 'utf8'))).toMatchObject({source: 'release-archive', sha256: sha256(archives.good!)})

    const [again] = await installServers(['oathkeeper'], options('good', {sha256: sha256(archives.good!)}))
    expect(again).toMatchObject({action: 'already-installed', source: 'release-archive', path})
    expect(requests).toHaveLength(1)

    const [forced] = await installServers(['oathkeeper'], options('good', {sha256: sha256(archives.good!), force: true}))
    expect(forced).toMatchObject({action: 'installed'})
    expect(requests).toHaveLength(2)
  })

  it('follows redirects (GitHub serves assets from another host) and accepts a --checksums file', async () => {
    const file = join(home, '..', `checksums-${Date.now()}.txt`)
    await writeFile(file, `${'00'.repeat(32)}  kratos_26.2.0-linux_sqlite_64bit.tar.gz\n${sha256(archives.good!)}  ${ARCHIVE}\n`)
    const [result] = await installServers(['oathkeeper'], options('redirect', {checksumsFile: file}))
    expect(result).toMatchObject({action: 'installed', source: 'release-archive'})
    expect(requests).toEqual([`/redirect/${ARCHIVE}`, `/good/${ARCHIVE}`])
  })

  it('refuses a wrong checksum with CHECKSUM_MISMATCH and leaves nothing in the cache', async () => {
    const error = await failure(installServers(['oathkeeper'], options('good', {sha256: 'ab'.repeat(32)})))
    expect(error).toMatchObject({code: 'CHECKSUM_MISMATCH', exitCode: 1})
    expect(error.message).toContain(sha256(archives.good!))
    expect(await listAll(home)).toEqual([])
  })

  it("without a given checksum, verifies against the release's own checksums.txt", async () => {
    const [result] = await installServers(['oathkeeper'], options('good'))
    expect(result).toMatchObject({action: 'installed', source: 'release-archive'})
    expect(requests).toEqual(['/good/checksums.txt', `/good/${ARCHIVE}`])
    expect(JSON.parse(await readFile(join(home, 'bin/oathkeeper', VERSION, 'install.json'), 'utf8'))).toMatchObject({sha256: sha256(archives.good!)})
  })

  it('fails closed when the release lists no checksum for the archive: CHECKSUM_UNKNOWN before the archive is fetched', async () => {
    const error = await failure(installServers(['oathkeeper'], options('unlisted')))
    expect(error).toMatchObject({code: 'CHECKSUM_UNKNOWN', exitCode: 1})
    expect(error.message).toContain(ARCHIVE)
    expect(error.suggestion).toContain('--sha256')
    expect(error.suggestion).toContain('--from-source')
    expect(requests).toEqual(['/unlisted/checksums.txt'])
    expect(await listAll(home)).toEqual([])
  })

  it("an archive that does not match the release's checksums.txt is refused (CHECKSUM_MISMATCH) and nothing is left", async () => {
    const error = await failure(installServers(['oathkeeper'], options('tampered')))
    expect(error).toMatchObject({code: 'CHECKSUM_MISMATCH', exitCode: 1})
    expect(error.message).toContain('/tampered/checksums.txt')
    expect(await listAll(home)).toEqual([])
  })

  it('an unreachable checksums.txt is DOWNLOAD_FAILED: no list, no install', async () => {
    const error = await failure(installServers(['oathkeeper'], options('missing')))
    expect(error).toMatchObject({code: 'DOWNLOAD_FAILED', exitCode: 3})
    expect(error.message).toContain('checksums.txt')
    expect(await listAll(home)).toEqual([])
  })

  it.each(['truncated', 'truncated-chunked'])('an interrupted download (%s) is an error and leaves nothing half-written', async (kind) => {
    const error = await failure(installServers(['oathkeeper'], options(kind, {sha256: sha256(archives.good!)})))
    expect(error).toMatchObject({code: 'DOWNLOAD_FAILED', exitCode: 3})
    expect(await listAll(home)).toEqual([])
  })

  it('HTTP errors are DOWNLOAD_FAILED; with no Go toolchain either, the error says both and what to do', async () => {
    const withGo = await failure(installServers(['oathkeeper'], options('missing', {sha256: sha256(archives.good!)})))
    expect(withGo).toMatchObject({code: 'DOWNLOAD_FAILED', exitCode: 3})
    expect(withGo.message).toContain('HTTP 404')
    const noGoEnv = {...process.env, IAM_HOME: home, PATH: '/usr/bin:/bin'}
    const withoutGo = await failure(installServers(['oathkeeper'], {...options('missing', {sha256: sha256(archives.good!)}), env: noGoEnv}))
    expect(withoutGo).toMatchObject({code: 'NO_NETWORK_NO_GO', exitCode: 3})
    expect(withoutGo.message).toContain('`go` is not on PATH')
    expect(withoutGo.suggestion).toMatch(/install Go ≥1\.26.*--from-source/)
    expect(await listAll(home)).toEqual([])
  })

  it('an archive whose binary reports another version is refused and not installed', async () => {
    const error = await failure(installServers(['oathkeeper'], options('wrong-version', {sha256: sha256(archives.wrongVersion!)})))
    expect(error).toMatchObject({code: 'VERIFY_FAILED'})
    expect(error.message).toContain('v0.0.1')
    expect(await listAll(home)).toEqual([])
  })

  it('--sha256 applies to exactly one server', async () => {
    const error = await failure(installServers(['oathkeeper', 'keto'], options('good', {sha256: sha256(archives.good!)})))
    expect(error).toMatchObject({code: 'SHA256_NEEDS_ONE_SERVER', exitCode: 2})
  })

  it('the CLI installs from a --url-template with --sha256 and reports JSON; a wrong checksum exits 1', async () => {
    await mkdir(home, {recursive: true})
    const template = `${base}/good/{server}_{semver}-{platform}.tar.gz`
    const bad = await runIam(['install', 'oathkeeper', '--url-template', template, '--sha256', 'ab'.repeat(32), '--json'], {env: {IAM_HOME: home}})
    expect(bad.exitCode).toBe(1)
    expect(bad.json).toMatchObject({error: {code: 'CHECKSUM_MISMATCH', exitCode: 1}})
    expect(await listAll(home)).toEqual([])

    const ok = await runIam(['install', 'oathkeeper', '--sha256', sha256(archives.good!), '--json'], {env: {IAM_HOME: home, IAM_INSTALL_URL_TEMPLATE: template}})
    expect(ok.exitCode).toBe(0)
    expect(ok.json).toMatchObject({servers: [{server: 'oathkeeper', version: VERSION, source: 'release-archive', action: 'installed', path: serverBinaryPath('oathkeeper', VERSION, {IAM_HOME: home})}]})
    // With --json, progress is one JSON event per line on stderr.
    expect(ok.stderr).toContain('"subject":"oathkeeper","message":"download http://127.0.0.1')

    const again = await runIam(['install', 'oathkeeper', '--sha256', sha256(archives.good!)], {env: {IAM_HOME: home, IAM_INSTALL_URL_TEMPLATE: template}})
    expect(again.exitCode).toBe(0)
    expect(again.stdout).toMatch(/oathkeeper\s+v26\.2\.0\s+already installed/)
    expect(again.stderr).toMatch(/^\[oathkeeper\] v26\.2\.0 already installed at /m)
  })
})
