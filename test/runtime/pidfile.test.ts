import {spawn} from 'node:child_process'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {isRecordAlive, processStartTime, readPidRecords, removePidRecord, terminate, writePidRecord, type PidRecord} from '../../src/runtime/pidfile.js'

const dirs: string[] = []
const pids: number[] = []
afterAll(async () => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone
    }
  }
  for (const d of dirs) await rm(d, {recursive: true, force: true})
})

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'iam-pid-'))
  dirs.push(d)
  return d
}

function record(pid: number, startTime?: string): PidRecord {
  return {service: 'svc', pid, ...(startTime ? {startTime} : {}), command: ['x'], cwd: '/', logFile: '/dev/null', startedAt: new Date().toISOString(), ports: {}, urls: {}, healthUrls: []}
}

/** A detached process that ignores SIGTERM unless told otherwise. */
function sleeper(ignoreTerm: boolean): number {
  const code = ignoreTerm ? "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)" : 'setInterval(() => {}, 1000)'
  const child = spawn(process.execPath, ['-e', code], {detached: true, stdio: 'ignore'})
  child.unref()
  pids.push(child.pid!)
  return child.pid!
}

describe('pid records', () => {
  it('round-trips through the run directory and ignores torn files', async () => {
    const dir = await tempDir()
    await writePidRecord(dir, record(process.pid, await processStartTime(process.pid)))
    const records = await readPidRecords(dir)
    expect(records).toHaveLength(1)
    expect(records[0]).toMatchObject({service: 'svc', pid: process.pid})
    expect(JSON.parse(await readFile(join(dir, 'svc.pid'), 'utf8')).pid).toBe(process.pid)
    await removePidRecord(dir, 'svc')
    expect(await readPidRecords(dir)).toEqual([])
    expect(await readPidRecords(join(dir, 'missing'))).toEqual([])
  })

  it('a live pid with a different start time is a recycled pid, not ours', async () => {
    const start = await processStartTime(process.pid)
    expect(start).toMatch(/^\d+$/)
    expect(await isRecordAlive(record(process.pid, start))).toBe(true)
    expect(await isRecordAlive(record(process.pid, String(Number(start) + 1)))).toBe(false)
    expect(await isRecordAlive(record(2 ** 22 + 12345))).toBe(false)
  })

  it('terminate: SIGTERM when it is honoured, SIGKILL after the grace period when not', async () => {
    const polite = sleeper(false)
    await new Promise((r) => setTimeout(r, 200))
    expect(await terminate(record(polite, await processStartTime(polite)), 5000)).toBe('terminated')
    const stubborn = sleeper(true)
    await new Promise((r) => setTimeout(r, 300))
    const rec = record(stubborn, await processStartTime(stubborn))
    expect(await terminate(rec, 300)).toBe('killed')
    expect(await isRecordAlive(rec)).toBe(false)
    expect(await terminate(rec, 300)).toBe('not-running')
  })

  it('once dead, never alive again: a process reaped between the signal check and the /proc read is dead', async () => {
    // The parent (this worker) reaps its killed children while isRecordAlive awaits its /proc reads; reading a
    // missing /proc entry as "no /proc here, trust the signal" made about 1 in 10 dead records alive again.
    let flips = 0
    for (let n = 0; n < 30; n++) {
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {detached: true, stdio: 'ignore'})
      pids.push(child.pid!)
      await new Promise((r) => setTimeout(r, 100))
      const rec = record(child.pid!, await processStartTime(child.pid!))
      process.kill(child.pid!, 'SIGKILL')
      // However long a loaded machine takes to deliver the kill, it is seen dead...
      const deadline = Date.now() + 15_000
      while (await isRecordAlive(rec)) {
        if (Date.now() > deadline) throw new Error(`pid ${child.pid} still alive 15 s after SIGKILL`)
        await new Promise((r) => setTimeout(r, 5))
      }
      // ...and stays dead through the reaping that follows.
      for (let i = 0; i < 200; i++) {
        if (await isRecordAlive(rec)) {
          flips++
          break
        }
      }
    }
    expect(flips).toBe(0)
  })
})
