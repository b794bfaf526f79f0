/**
 * Pid files of the native runtime: `.iam/run/<service>.pid`, JSON with the pid, the process start time and the
 * command line, so a pid the kernel has since recycled for an unrelated process is never mistaken for ours (and
 * never signalled).
 */
import {readFile, readdir, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {writeFileAtomic} from '../util/atomic-write.js'

export interface PidRecord {
  service: string
  pid: number
  /** Kernel start time of the process (Linux: field 22 of /proc/<pid>/stat, clock ticks since boot). */
  startTime?: string
  /** argv of the process as spawned. */
  command: string[]
  cwd: string
  logFile: string
  startedAt: string
  ports: Record<string, number>
  urls: Record<string, string>
  healthUrls: string[]
  version?: string
}

export function pidFilePath(runDir: string, service: string): string {
  return join(runDir, `${service}.pid`)
}

export async function writePidRecord(runDir: string, record: PidRecord): Promise<void> {
  await writeFileAtomic(pidFilePath(runDir, record.service), JSON.stringify(record, null, 2) + '\n')
}

export async function readPidRecords(runDir: string): Promise<PidRecord[]> {
  let names: string[]
  try {
    names = await readdir(runDir)
  } catch {
    return []
  }
  const records: PidRecord[] = []
  for (const name of names.filter((n) => n.endsWith('.pid')).sort()) {
    try {
      const parsed = JSON.parse(await readFile(join(runDir, name), 'utf8')) as PidRecord
      if (typeof parsed.pid === 'number' && typeof parsed.service === 'string') records.push(parsed)
    } catch {
      // A torn or foreign file: ignore it rather than signal a pid we cannot vouch for.
    }
  }
  return records
}

export async function removePidRecord(runDir: string, service: string): Promise<void> {
  await rm(pidFilePath(runDir, service), {force: true})
}

/** Start time of a live process, or undefined when it does not exist (or /proc is not available). */
export async function processStartTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may contain spaces and parentheses: fields after the last ')' are fixed.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
    return rest[19]
  } catch {
    return undefined
  }
}

/** Zombies (exited, not yet reaped) count as dead. */
async function isZombie(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
  } catch {
    return false
  }
}

function signalZero(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but belongs to someone else, so it is certainly not ours.
    return false
  }
}

/** True when the process recorded is still alive and is the same process (not a recycled pid). */
export async function isRecordAlive(record: PidRecord): Promise<boolean> {
  if (!signalZero(record.pid)) return false
  if (await isZombie(record.pid)) return false
  if (record.startTime === undefined) return true
  const now = await processStartTime(record.pid)
  // No /proc (non-Linux): fall back to the signal check alone.
  return now === undefined || now === record.startTime
}

const KILL_WAIT_MS = 15_000

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * SIGTERM, wait up to graceMs, then SIGKILL. Signals the process group when the process leads one (detached
 * children do), so helpers a server forked go too. Resolves once the process is gone.
 */
export async function terminate(record: PidRecord, graceMs: number): Promise<'not-running' | 'terminated' | 'killed'> {
  if (!(await isRecordAlive(record))) return 'not-running'
  const send = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-record.pid, signal)
    } catch {
      try {
        process.kill(record.pid, signal)
      } catch {
        // Already gone.
      }
    }
  }
  send('SIGTERM')
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline) {
    if (!(await isRecordAlive(record))) return 'terminated'
    await sleep(50)
  }
  send('SIGKILL')
  // SIGKILL cannot be ignored, but the process must still be scheduled to exit: on a loaded machine that can take
  // seconds, and callers (stop, then start on the same ports) rely on it being gone when this resolves.
  const killDeadline = Date.now() + KILL_WAIT_MS
  while (Date.now() < killDeadline && (await isRecordAlive(record))) await sleep(20)
  return 'killed'
}
