/**
 * What the Ory binaries on this machine are: the one each runtime would start (iam cache, else PATH) and the
 * version it reports when asked, next to the version iam pins. `iam version`, `iam doctor` and the native runtime
 * show this, so a binary that is not the pinned one is seen rather than assumed.
 */
import {resolveOryBinary} from '../ory/launch.js'
import {ORY_SERVERS, ORY_SPECS, type OryServer} from '../ory/servers.js'
import {reportedVersion} from './verify.js'

export interface BinaryVersion {
  pinned: string
  /** `missing`: no binary found; `mismatch`: it reports another version (or none). */
  status: 'ok' | 'mismatch' | 'missing'
  path?: string
  /** Where it was found: an explicit path, the iam cache or PATH. */
  source?: 'explicit' | 'cache' | 'path'
  /** What `<binary> version` says; absent when it says nothing or does not run. */
  reported?: string
}

export async function binaryVersion(server: OryServer, o: {env?: NodeJS.ProcessEnv; explicitPath?: string} = {}): Promise<BinaryVersion> {
  const pinned = ORY_SPECS[server].version
  let found
  try {
    found = await resolveOryBinary(server, o)
  } catch {
    return {pinned, status: 'missing'}
  }
  const {version} = await reportedVersion(found.path, o.env)
  return {pinned, status: version === pinned ? 'ok' : 'mismatch', path: found.path, source: found.source, ...(version ? {reported: version} : {})}
}

/** Every server's binary, asked in parallel. */
export async function installedVersions(env: NodeJS.ProcessEnv = process.env): Promise<Record<OryServer, BinaryVersion>> {
  const entries = await Promise.all(ORY_SERVERS.map(async (server) => [server, await binaryVersion(server, {env})] as const))
  return Object.fromEntries(entries) as Record<OryServer, BinaryVersion>
}

/** One phrase for a table cell: `v26.2.0`, or `v0.40.9 (iam pins v26.2.0)`. */
export function describeReported(v: Pick<BinaryVersion, 'pinned' | 'reported' | 'status'>): string {
  if (v.status === 'missing') return 'not installed'
  const reported = v.reported ?? 'no version'
  return v.status === 'ok' ? reported : `${reported} (iam pins ${v.pinned})`
}
