/**
 * What a service was started with, as hashes: its command line, its environment, its binary and every file it reads
 * at start. `iam up` on a running stack compares the recorded fingerprint with the one it would start now and
 * restarts exactly the services that differ. Hashes only: the environment holds secrets.
 */
import {createHash} from 'node:crypto'
import {readdir, readFile, stat} from 'node:fs/promises'
import {join, relative} from 'node:path'

/** Part name (`command`, `environment`, `binary`, `file:ory/kratos/kratos.yml`, …) → short sha256. */
export type Fingerprint = Record<string, string>

const hash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 24)

export interface FingerprintInput {
  command: string
  args: string[]
  cwd: string
  env: Record<string, string>
  /** Files the service reads once at start (relative paths in the fingerprint are from `projectDir`). */
  files: string[]
  projectDir: string
  /** Extra parts, e.g. the iam version of an embedded server. */
  extra?: Record<string, string>
}

export async function fingerprintOf(i: FingerprintInput): Promise<Fingerprint> {
  const parts: Fingerprint = {
    command: hash(JSON.stringify([i.command, ...i.args, i.cwd])),
    environment: hash(JSON.stringify(Object.entries(i.env).sort(([a], [b]) => a.localeCompare(b)))),
  }
  try {
    const s = await stat(i.command)
    parts.binary = hash(`${s.size}:${s.mtimeMs}:${s.ino}`)
  } catch {
    parts.binary = hash(i.command)
  }
  for (const [k, v] of Object.entries(i.extra ?? {})) parts[k] = hash(v)
  for (const file of [...i.files].sort()) {
    const content = await readFile(file).catch(() => undefined)
    parts[`file:${relative(i.projectDir, file)}`] = content === undefined ? 'missing' : hash(content.toString('base64'))
  }
  return parts
}

/** Why a service must restart (empty: it runs with what it would start with now). */
export function fingerprintChanges(recorded: Fingerprint | undefined, now: Fingerprint): string[] {
  if (recorded === undefined) return ['started without a recorded configuration (an older iam)']
  const reasons: string[] = []
  for (const key of [...new Set([...Object.keys(recorded), ...Object.keys(now)])].sort()) {
    if (recorded[key] === now[key]) continue
    if (key.startsWith('file:')) reasons.push(`${key.slice(5)} ${now[key] === undefined ? 'no longer read' : recorded[key] === undefined ? 'added' : 'changed'}`)
    else if (key === 'command') reasons.push('command line changed')
    else if (key === 'environment') reasons.push('environment changed')
    else if (key === 'binary') reasons.push('binary changed')
    else reasons.push(`${key} changed`)
  }
  return reasons
}

/**
 * The files of a server's config folder it reads at start: everything but the compose variants and what the server
 * reloads by itself (`hotReloaded`, e.g. Oathkeeper's rules and key set).
 */
export async function startFiles(dir: string, hotReloaded: readonly string[] = []): Promise<string[]> {
  const out: string[] = []
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, {withFileTypes: true}).catch(() => [])) {
      const path = join(d, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (entry.isFile() && !entry.name.includes('.compose.') && !entry.name.startsWith('.') && !hotReloaded.includes(entry.name)) out.push(path)
    }
  }
  await walk(dir)
  return out
}
