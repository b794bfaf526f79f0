/**
 * Every install writes into a private staging dir under `<home>/tmp/` (same filesystem as the cache, so the final
 * rename is atomic) and only renames a verified binary into `<home>/bin/<server>/<version>/`. A failure or a crash
 * at any point leaves the cache as it was.
 */
import {chmod, mkdir, mkdtemp, rename, rm, rmdir} from 'node:fs/promises'
import {join} from 'node:path'

import {serverBinaryPath, serverInstallDir} from './paths.js'
import {writeFileAtomic} from '../util/atomic-write.js'
import type {OryServer} from '../ory/servers.js'

export type InstallSource = 'from-source' | 'release-archive'

/** Written next to the binary so later runs can say where it came from. */
export interface InstallMetadata {
  server: OryServer
  version: string
  source: InstallSource
  installedAt: string
  /** SHA-256 of a release archive. */
  sha256?: string
  /** Tree hash of the verified source a binary was built from. */
  sourceTreeSha256?: string
}

export const METADATA_FILE = 'install.json'

export async function createStaging(home: string, server: OryServer): Promise<string> {
  await mkdir(join(home, 'tmp'), {recursive: true})
  return mkdtemp(join(home, 'tmp', `${server}-`))
}

export async function removeStaging(home: string, dir: string): Promise<void> {
  await rm(dir, {recursive: true, force: true})
  // Leave no empty tmp/ behind; another install may still be using it, which rmdir refuses.
  await rmdir(join(home, 'tmp')).catch(() => undefined)
}

/** Moves a verified binary into the cache atomically and records its metadata. */
export async function placeBinary(staged: string, meta: InstallMetadata, env: NodeJS.ProcessEnv): Promise<string> {
  const target = serverBinaryPath(meta.server, meta.version, env)
  await chmod(staged, 0o755)
  await mkdir(serverInstallDir(meta.server, meta.version, env), {recursive: true})
  await rename(staged, target)
  await writeFileAtomic(join(serverInstallDir(meta.server, meta.version, env), METADATA_FILE), JSON.stringify(meta, null, 2) + '\n')
  return target
}
