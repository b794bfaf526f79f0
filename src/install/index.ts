/**
 * `iam install`: put the pinned Ory binaries into the per-user cache, verified, idempotently. The public API other
 * modules call is `ensureInstalled` and `installedBinary`; `installServers` is what the command runs.
 */
import {constants, accessSync, statSync} from 'node:fs'
import {readFile, stat} from 'node:fs/promises'
import {join} from 'node:path'

import {environmentError, isIamError, usageError} from '../errors.js'
import {ORY_SPECS, type OryServer} from '../ory/servers.js'
import type {Reporter} from '../ui/reporter.js'
import {readChecksumsFile} from './checksums.js'
import {findGoToolchain, installFromSource} from './go-build.js'
import {serverBinaryPath, serverInstallDir} from './paths.js'
import {installFromRelease, type ReleasePlatform} from './release.js'
import {METADATA_FILE, type InstallMetadata, type InstallSource} from './staging.js'
import {reportedVersion} from './verify.js'

export type {InstallSource} from './staging.js'

export interface InstallResult {
  server: OryServer
  version: string
  path: string
  /** Where the binary came from; `unknown` for a binary placed in the cache by hand. */
  source: InstallSource | 'unknown'
  action: 'installed' | 'already-installed'
  durationMs: number
}

export interface InstallOptions {
  /** Build with the local Go toolchain from the tags' source archives instead of downloading release archives. */
  fromSource?: boolean
  /** With fromSource: a directory holding the source archives, or one archive file (default: env, else GitHub). */
  sourceArchives?: string
  /** Reinstall even when the cached binary reports the pinned version. */
  force?: boolean
  reporter?: Reporter
  env?: NodeJS.ProcessEnv
  /** Release archives: URL template (default: IAM_INSTALL_URL_TEMPLATE, then Ory's GitHub release assets). */
  urlTemplate?: string
  /** Release archives: the expected SHA-256 (only with a single server). */
  sha256?: string
  /** Release archives: a goreleaser checksums.txt listing the expected SHA-256 of each archive. */
  checksumsFile?: string
  /** Release archives: override the detected platform (tests). */
  platform?: ReleasePlatform
  /** Release archives: whole-download timeout. */
  downloadTimeoutMs?: number
}

/**
 * The cached binary of a server's pinned version, if present and executable. Cheap and synchronous: it does not run
 * `<binary> version` (installServers/ensureInstalled do).
 */
export function installedBinary(server: OryServer, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const path = serverBinaryPath(server, ORY_SPECS[server].version, env)
  try {
    if (!statSync(path).isFile()) return undefined
    accessSync(path, constants.X_OK)
    return path
  } catch {
    return undefined
  }
}

/** Makes sure the pinned binary of `server` is installed and reports its version; returns its path. */
export async function ensureInstalled(server: OryServer, o: {fromSource?: boolean; reporter?: Reporter; env?: NodeJS.ProcessEnv} = {}): Promise<string> {
  const [result] = await installServers([server], o)
  return result!.path
}

/** Installs each server in turn (builds share 2 cores badly; sequential is faster overall and logs stay readable). */
export async function installServers(servers: OryServer[], o: InstallOptions = {}): Promise<InstallResult[]> {
  if (o.sha256 && servers.length !== 1) {
    throw usageError('SHA256_NEEDS_ONE_SERVER', '--sha256 checks one archive, so it needs exactly one server', {
      suggestion: 'Name the server (iam install kratos --sha256 …) or pass --checksums <checksums file> for several.',
    })
  }
  if (o.sourceArchives && servers.length !== 1 && (await stat(o.sourceArchives).catch(() => undefined))?.isFile()) {
    throw usageError('SOURCE_ARCHIVE_NEEDS_ONE_SERVER', `--source-archives ${o.sourceArchives} is one archive file, so it builds exactly one server`, {
      suggestion: 'Name the server (iam install kratos --from-source --source-archives kratos-v26.2.0.tar.gz), or pass the directory that holds all the archives.',
    })
  }
  const checksums = o.checksumsFile ? await readChecksumsFile(o.checksumsFile) : undefined
  const results: InstallResult[] = []
  for (const server of servers) results.push(await installServer(server, o, checksums))
  return results
}

async function installServer(server: OryServer, o: InstallOptions, checksums: Map<string, string> | undefined): Promise<InstallResult> {
  const env = o.env ?? process.env
  const version = ORY_SPECS[server].version
  const started = Date.now()
  const path = serverBinaryPath(server, version, env)

  if (!o.force) {
    const current = installedBinary(server, env)
    if (current) {
      const reported = await reportedVersion(current, env)
      if (reported.version === version) {
        o.reporter?.step(server, `${version} already installed at ${current}`)
        return {server, version, path: current, source: await recordedSource(server, env), action: 'already-installed', durationMs: Date.now() - started}
      }
      o.reporter?.warn(`${current} reports ${reported.version ?? 'no version'} instead of ${version}; reinstalling`)
    }
  }

  let source: InstallSource
  if (o.fromSource) {
    await installFromSource(server, {env, reporter: o.reporter, sourceArchives: o.sourceArchives})
    source = 'from-source'
  } else {
    try {
      await installFromRelease(server, {
        env,
        reporter: o.reporter,
        urlTemplate: o.urlTemplate,
        sha256: o.sha256,
        checksums,
        platform: o.platform,
        timeoutMs: o.downloadTimeoutMs,
      })
    } catch (error) {
      throw await explainOffline(error, env)
    }
    source = 'release-archive'
  }
  const durationMs = Date.now() - started
  o.reporter?.step(server, `${version} installed at ${path} (${source}, ${(durationMs / 1000).toFixed(1)}s)`)
  return {server, version, path, source, action: 'installed', durationMs}
}

/** A failed download on a machine that also has no Go toolchain: say both, and what to do. */
async function explainOffline(error: unknown, env: NodeJS.ProcessEnv): Promise<unknown> {
  if (!isIamError(error) || error.code !== 'DOWNLOAD_FAILED') return error
  try {
    await findGoToolchain(env)
    return error
  } catch (goError) {
    if (!isIamError(goError)) return error
    return environmentError('NO_NETWORK_NO_GO', `${error.message}; and building from source is not possible either: ${goError.message}`, {
      suggestion: 'Either restore network access to the release archives (or set IAM_INSTALL_URL_TEMPLATE to a reachable mirror), or install Go ≥1.26 (https://go.dev/dl/) and run iam install --from-source with the source archives (--source-archives <dir>).',
      details: {...error.details, go: goError.code},
      cause: error,
    })
  }
}

async function recordedSource(server: OryServer, env: NodeJS.ProcessEnv): Promise<InstallSource | 'unknown'> {
  try {
    const meta = JSON.parse(await readFile(join(serverInstallDir(server, ORY_SPECS[server].version, env), METADATA_FILE), 'utf8')) as Partial<InstallMetadata>
    return meta.source === 'from-source' || meta.source === 'release-archive' ? meta.source : 'unknown'
  } catch {
    return 'unknown'
  }
}
