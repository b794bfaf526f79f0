/**
 * Source 2: Ory's release archives. Download from a URL template with timeouts, stream to a staging file while
 * hashing, refuse anything whose SHA-256 is not known and equal — pinned, given by the user, or listed in the
 * `checksums.txt` the release publishes beside its archives —, extract with the system `tar`, verify
 * `<binary> version`, rename into the cache. Nothing half-written ever reaches the cache.
 */
import {execa} from 'execa'
import {chmod, mkdir, readFile, stat} from 'node:fs/promises'
import {join} from 'node:path'

import {environmentError, ExitCode, IamError, usageError} from '../errors.js'
import {ORY_SPECS, type OryServer} from '../ory/servers.js'
import type {Reporter} from '../ui/reporter.js'
import {normalizeSha256, parseChecksumsFile, PINNED_SHA256, pinnedKey} from './checksums.js'
import {download} from './download.js'
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

const OFFLINE_FIX = `Check the network (or set ${URL_TEMPLATE_ENV} / --url-template to a reachable mirror); offline, build with --from-source --source-archives <dir> (needs Go and the Go module proxy or a filled module cache).`

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
      suggestion: 'Build from source instead: iam install --from-source (needs Go ≥1.26).',
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

/** The SHA-256 the user or iam already knows for the archive, without the network; undefined when none. */
export function knownSha256(server: OryServer, version: string, name: string, sources: ChecksumSources): {sha256: string; from: string} | undefined {
  if (sources.sha256) return {sha256: normalizeSha256(sources.sha256, '--sha256'), from: '--sha256'}
  const listed = sources.checksums?.get(name)
  if (listed) return {sha256: listed, from: '--checksums'}
  const pinned = (sources.pinned ?? PINNED_SHA256)[pinnedKey(server, version, name)]
  if (pinned) return {sha256: pinned, from: 'pinned checksums'}
  return undefined
}

/** goreleaser publishes `checksums.txt` in the same folder as the archives. */
export function releaseChecksumsUrl(archiveUrl: string): string {
  return new URL('checksums.txt', archiveUrl).toString()
}

const MAX_CHECKSUMS_BYTES = 1024 * 1024

/** The release's published checksum of `name`; refuses (fail closed) when the list cannot be read or lacks it. */
async function publishedSha256(server: OryServer, version: string, archiveUrl: string, staging: string, o: {timeoutMs: number; idleTimeoutMs: number}): Promise<{sha256: string; from: string}> {
  const url = releaseChecksumsUrl(archiveUrl)
  const name = archiveName(archiveUrl)
  const file = join(staging, 'checksums.txt')
  await download(url, file, {...o, maxBytes: MAX_CHECKSUMS_BYTES, suggestion: OFFLINE_FIX})
  const listed = parseChecksumsFile(await readFile(file, 'utf8'), url).get(name)
  if (!listed) {
    throw new IamError('CHECKSUM_UNKNOWN', `the release's ${url} does not list ${name} (${server} ${version}); refusing to install an unverified archive`, {
      exitCode: ExitCode.Failure,
      suggestion: `Check the URL template (the archive name must be one the release publishes), pass --sha256 <hex> or --checksums <file>, or build with --from-source.`,
      details: {server, version, archive: name, checksums: url},
    })
  }
  return {sha256: listed, from: url}
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
  const limits = {timeoutMs: o.timeoutMs ?? 600_000, idleTimeoutMs: o.idleTimeoutMs ?? 60_000}
  const known = knownSha256(server, version, name, o)

  const home = iamHome(env)
  const staging = await createStaging(home, server)
  try {
    if (!known) step(`checksums: ${releaseChecksumsUrl(url)}`)
    const expected = known ?? (await publishedSha256(server, version, url, staging, limits))
    step(`download ${url}`)
    const archive = join(staging, name || 'archive.tar.gz')
    const actual = await download(url, archive, {...limits, maxBytes: MAX_ARCHIVE_BYTES, suggestion: OFFLINE_FIX})

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
