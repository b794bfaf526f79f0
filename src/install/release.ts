/**
 * Source 2: Ory's release archives. Download from a URL template with timeouts, stream to a staging file while
 * hashing, refuse anything whose SHA-256 is not known and equal, extract with the system `tar`, verify
 * `<binary> version`, rename into the cache. Nothing half-written ever reaches the cache.
 */
import {execa} from 'execa'
import {createHash} from 'node:crypto'
import {createWriteStream} from 'node:fs'
import {chmod, mkdir, stat} from 'node:fs/promises'
import {join} from 'node:path'
import {Transform} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {Agent, interceptors, request} from 'undici'

import {environmentError, ExitCode, IamError, usageError} from '../errors.js'
import {ORY_SPECS, type OryServer} from '../ory/servers.js'
import type {Reporter} from '../ui/reporter.js'
import {normalizeSha256, PINNED_SHA256, pinnedKey} from './checksums.js'
import {iamHome} from './paths.js'
import {createStaging, placeBinary, removeStaging} from './staging.js'
import {reportedVersion} from './verify.js'

/**
 * Ory's GitHub release asset naming (goreleaser, ory/xgoreleaser): `<server>_<semver>-<os>_[sqlite_]<arch>.tar.gz`
 * with os `linux` | `macOS` and arch `64bit` | `arm64`. Kratos and Keto need the `sqlite_` (cgo) build: their plain
 * archives refuse sqlite DSNs.
 */
export const DEFAULT_URL_TEMPLATE = 'https://github.com/ory/{server}/releases/download/{version}/{server}_{semver}-{platform}.tar.gz'

export const URL_TEMPLATE_ENV = 'IAM_INSTALL_URL_TEMPLATE'

/** Ory's names for this machine in release asset names. */
export interface ReleasePlatform {
  os: 'linux' | 'macOS'
  arch: '64bit' | 'arm64'
}

export function releasePlatform(platform: NodeJS.Platform = process.platform, arch: string = process.arch): ReleasePlatform {
  const os = platform === 'linux' ? 'linux' : platform === 'darwin' ? 'macOS' : undefined
  const a = arch === 'x64' ? '64bit' : arch === 'arm64' ? 'arm64' : undefined
  if (!os || !a) {
    throw environmentError('PLATFORM_UNSUPPORTED', `Ory publishes no release archive iam knows for ${platform}/${arch}`, {
      suggestion: 'Build from source instead: iam install --from-source (needs Go ≥1.22).',
    })
  }
  return {os, arch: a}
}

/** The values the URL template can use: {server} {version} {semver} {os} {arch} {sqlite} {platform}. */
export function templateValues(server: OryServer, version: string, platform: ReleasePlatform): Record<string, string> {
  const sqlite = ORY_SPECS[server].buildTags.includes('sqlite') ? 'sqlite_' : ''
  return {
    server,
    version,
    semver: version.replace(/^v/, ''),
    os: platform.os,
    arch: platform.arch,
    sqlite,
    platform: `${platform.os}_${sqlite}${platform.arch}`,
  }
}

export function renderUrlTemplate(template: string, values: Record<string, string>): string {
  const url = template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = values[name]
    if (value === undefined) {
      throw usageError('URL_TEMPLATE_INVALID', `unknown placeholder ${whole} in the URL template "${template}"`, {
        suggestion: `Use only ${Object.keys(values).map((k) => `{${k}}`).join(' ')}.`,
      })
    }
    return value
  })
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw usageError('URL_TEMPLATE_INVALID', `the URL template "${template}" does not give a URL: "${url}"`, {
      suggestion: 'Pass an absolute http(s) URL template, e.g. the default ' + DEFAULT_URL_TEMPLATE,
    })
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw usageError('URL_TEMPLATE_INVALID', `the URL template must give an http(s) URL, got ${parsed.protocol}`, {
      suggestion: 'Use an https:// URL template.',
    })
  }
  return url
}

/** The archive's file name: the last path segment of its URL (what checksums.txt lists). */
export function archiveName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '')
}

export interface ChecksumSources {
  /** --sha256 for this server. */
  sha256?: string
  /** Parsed --checksums file: archive file name → sha256. */
  checksums?: Map<string, string>
  pinned?: Readonly<Record<string, string>>
}

/** The SHA-256 the archive must have, or a refusal: an archive of unknown checksum is never installed. */
export function expectedSha256(server: OryServer, version: string, name: string, sources: ChecksumSources): {sha256: string; from: string} {
  if (sources.sha256) return {sha256: normalizeSha256(sources.sha256, '--sha256'), from: '--sha256'}
  const listed = sources.checksums?.get(name)
  if (listed) return {sha256: listed, from: '--checksums'}
  const pinned = (sources.pinned ?? PINNED_SHA256)[pinnedKey(server, version, name)]
  if (pinned) return {sha256: pinned, from: 'pinned checksums'}
  throw usageError('CHECKSUM_UNKNOWN', `no pinned SHA-256 for ${name} (${server} ${version}); refusing to install an unverified archive`, {
    suggestion: `Pass --sha256 <hex> (one server) or --checksums <checksums.txt from https://github.com/ory/${server}/releases/tag/${version}>, or build with --from-source.`,
    details: {server, version, archive: name},
  })
}

export interface ReleaseInstallOptions extends ChecksumSources {
  env?: NodeJS.ProcessEnv
  reporter?: Reporter
  urlTemplate?: string
  platform?: ReleasePlatform
  /** Whole-download limit. Default 10 minutes. */
  timeoutMs?: number
  /** Idle limit between body chunks and for the response headers. Default 60 s. */
  idleTimeoutMs?: number
}

const MAX_ARCHIVE_BYTES = 512 * 1024 * 1024

/** Downloads, verifies and installs one server's release archive. Returns the installed binary's path. */
export async function installFromRelease(server: OryServer, o: ReleaseInstallOptions = {}): Promise<{path: string; sha256: string; url: string}> {
  const env = o.env ?? process.env
  const step = (message: string): void => o.reporter?.step(server, message)
  const version = ORY_SPECS[server].version
  const template = o.urlTemplate || env[URL_TEMPLATE_ENV] || DEFAULT_URL_TEMPLATE
  const url = renderUrlTemplate(template, templateValues(server, version, o.platform ?? releasePlatform()))
  const name = archiveName(url)
  // Refuse before touching the network or the cache.
  const expected = expectedSha256(server, version, name, o)

  const home = iamHome(env)
  const staging = await createStaging(home, server)
  try {
    step(`download ${url}`)
    const archive = join(staging, name || 'archive.tar.gz')
    const actual = await download(url, archive, {timeoutMs: o.timeoutMs ?? 600_000, idleTimeoutMs: o.idleTimeoutMs ?? 60_000})

    step(`verify: sha256 against ${expected.from}`)
    if (actual !== expected.sha256) {
      throw new IamError('CHECKSUM_MISMATCH', `${name} has SHA-256 ${actual}, expected ${expected.sha256} (${expected.from}); refused, nothing installed`, {
        exitCode: ExitCode.Failure,
        suggestion: 'The download is corrupt or not the archive you expect: check the URL template and the checksum, or use --from-source.',
        details: {server, version, url, expected: expected.sha256, actual},
      })
    }

    step('extract')
    const extracted = join(staging, 'extract')
    await mkdir(extracted)
    const tar = await execa('tar', ['-xzf', archive, '-C', extracted, '--no-same-owner'], {reject: false, all: true, stdin: 'ignore', timeout: 120_000})
    if (tar.failed) {
      throw new IamError('ARCHIVE_INVALID', `cannot extract ${name}: ${String(tar.all || tar.message).trim()}`, {
        exitCode: ExitCode.Failure,
        suggestion: 'Check that the URL template points at a .tar.gz release archive.',
        details: {server, url},
      })
    }
    const binary = join(extracted, server)
    const info = await stat(binary).catch(() => undefined)
    if (!info?.isFile()) {
      throw new IamError('ARCHIVE_INVALID', `${name} holds no file named ${server} at its root`, {
        exitCode: ExitCode.Failure,
        suggestion: 'Check that the URL template points at the Ory release archive of this server.',
        details: {server, url},
      })
    }

    step(`verify: ${server} version`)
    await chmod(binary, 0o755)
    const reported = await reportedVersion(binary, env)
    if (reported.version !== version) {
      throw new IamError('VERIFY_FAILED', `the archive's ${server} reports version ${reported.version ?? '(none)'}, expected ${version}`, {
        exitCode: ExitCode.Failure,
        suggestion: reported.version ? 'The URL template points at another version.' : `It does not run here: ${reported.output.trim().slice(0, 200)}`,
        details: {server, expected: version, reported: reported.version, url},
      })
    }
    const path = await placeBinary(binary, {server, version, source: 'release-archive', sha256: actual, installedAt: new Date().toISOString()}, env)
    return {path, sha256: actual, url}
  } finally {
    await removeStaging(home, staging)
  }
}

/** Streams `url` into `file` (created exclusively), returning its SHA-256. Any short or broken body is an error. */
async function download(url: string, file: string, o: {timeoutMs: number; idleTimeoutMs: number}): Promise<string> {
  const agent = new Agent({connectTimeout: o.idleTimeoutMs, headersTimeout: o.idleTimeoutMs, bodyTimeout: o.idleTimeoutMs})
  const dispatcher = agent.compose(interceptors.redirect({maxRedirections: 5}))
  const failed = (why: string, cause?: unknown): IamError =>
    environmentError('DOWNLOAD_FAILED', `download of ${url} failed: ${why}`, {
      suggestion: `Check the network (or set ${URL_TEMPLATE_ENV} / --url-template to a reachable mirror); offline, build with --from-source (needs Go ≥1.22 and a reachable GOPROXY or filled module cache).`,
      details: {url},
      cause,
    })
  try {
    let response
    try {
      response = await request(url, {dispatcher, signal: AbortSignal.timeout(o.timeoutMs), headers: {'user-agent': 'iam-install'}})
    } catch (error) {
      throw failed((error as Error).message, error)
    }
    if (response.statusCode !== 200) {
      await response.body.dump().catch(() => undefined)
      throw failed(`HTTP ${response.statusCode}`)
    }
    const declared = Number(response.headers['content-length'] ?? Number.NaN)
    if (declared > MAX_ARCHIVE_BYTES) {
      await response.body.dump().catch(() => undefined)
      throw failed(`the archive is ${declared} bytes, more than the ${MAX_ARCHIVE_BYTES} iam accepts`)
    }
    const hash = createHash('sha256')
    let received = 0
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length
        if (received > MAX_ARCHIVE_BYTES) {
          callback(new Error(`the archive exceeds ${MAX_ARCHIVE_BYTES} bytes`))
          return
        }
        hash.update(chunk)
        callback(null, chunk)
      },
    })
    try {
      await pipeline(response.body, meter, createWriteStream(file, {flags: 'wx', mode: 0o600}))
    } catch (error) {
      throw failed(`the transfer broke off after ${received} bytes (${(error as Error).message})`, error)
    }
    if (Number.isFinite(declared) && received !== declared) {
      throw failed(`received ${received} of ${declared} bytes`)
    }
    return hash.digest('hex')
  } finally {
    await agent.close().catch(() => undefined)
  }
}
