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
  /** What the service was started with, as hashes (`iam up` restarts it when this differs; see fingerprint.ts). */
  fingerprint?: Record<string, string>
  urls: Record<string, string>
  healthUrls: string[]
  version?: string
  /** The signal that stops it cleanly (default SIGTERM; PostgreSQL: SIGINT, its fast shutdown). */
  stopSignal?: NodeJS.Signals
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

/** State and start time from /proc/<pid>/stat; 'gone' when the process does not exist, 'unknown' without /proc. */
async function readProcStat(pid: number): Promise<{state: string; startTime: string} | 'gone' | 'unknown'> {
  let stat: string
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  } catch {
    // On Linux a missing entry means the process is gone (it may have been reaped since the signal check).
    return process.platform === 'linux' ? 'gone' : 'unknown'
  }
  // The command name (field 2) may contain spaces and parentheses: fields after the last ')' are fixed.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
  return {state: rest[0] ?? '', startTime: rest[19] ?? ''}
}

/** Start time of a live process, or undefined when it does not exist (or /proc is not available). */
export async function processStartTime(pid: number): Promise<string | undefined> {
  const stat = await readProcStat(pid)
  return typeof stat === 'string' ? undefined : stat.startTime
}

function signalZero(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    // ESRCH: gone. EPERM: it exists but belongs to someone else, so it is certainly not ours.
    return false
  }
}

/**
 * True when the process recorded is still alive and is the same process (not a recycled pid). Zombies (exited, not
 * yet reaped) count as dead.
 */
export async function isRecordAlive(record: PidRecord): Promise<boolean> {
  if (!signalZero(record.pid)) return false
  const stat = await readProcStat(record.pid)
  if (stat === 'gone') return false
  // No /proc (non-Linux): the signal check alone.
  if (stat === 'unknown') return true
  // Z: a zombie not yet reaped; X/x: dead, being reaped right now. Sampled after SIGKILL on this machine the states
  // run R → Z → X → gone: reading X as alive made a record that was dead (Z) alive once more.
  if (stat.state === 'Z' || stat.state === 'X' || stat.state === 'x') return false
  return record.startTime === undefined || stat.startTime === record.startTime
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
  send(record.stopSignal ?? 'SIGTERM')
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
