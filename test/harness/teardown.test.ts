import {spawn} from 'node:child_process'
import {readFile, rm} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'

import {tempDir} from './index.js'
import {processExists} from './process.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const FIXTURE_CONFIG = fileURLToPath(new URL('fixtures/vitest.fixture.config.ts', import.meta.url))
const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs')

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

/** Runs one fixture file in a nested vitest; the environment of this worker's vitest is not passed on. */
function runFixture(fixture: string, pidFile: string) {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('VITEST') && key !== 'NODE_ENV') env[key] = value
  const child = spawn(process.execPath, [VITEST, 'run', '--config', FIXTURE_CONFIG], {
    cwd: ROOT,
    env: {...env, IAM_FIXTURE: fixture, IAM_FIXTURE_PID_FILE: pidFile, NO_COLOR: '1'},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d))
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  return {child, exited, output: () => output}
}

const readPid = (file: string) => async () => {
  const text = await readFile(file, 'utf8').catch(() => '')
  return text ? Number(text) : undefined
}

describe('harness teardown', () => {
  it('prints the server logs when a test fails and stops the server after the file, even after a timed-out test', async () => {
    const pidFile = join(await tempDir('teardown'), 'pid')
    const run = runFixture('failing', pidFile)
    const code = await run.exited
    const output = run.output()
    expect(code, output).toBe(1)
    expect(output).toContain('test failed: fails on purpose: logs of keto')
    expect(output).toContain('test failed: times out on purpose: logs of keto')
    expect(output).toMatch(/keto serve -c .*keto\.yml/) // the log itself, not only its heading
    const logFile = /full log: (\S+\.log)/.exec(output)?.[1]
    expect(await readFile(logFile!, 'utf8')).toMatch(/keto migrate up/)
    const pid = await readPid(pidFile)()
    expect(pid).toBeTypeOf('number')
    expect(processExists(pid!)).toBe(false)
    // The fixture's failures kept its server dirs for inspection; they have served their purpose here.
    const kept = /kept server dirs for inspection: (.*)/.exec(output)?.[1]?.split(' ') ?? []
    expect(kept.length).toBeGreaterThan(0)
    await Promise.all(kept.map((dir) => rm(dir, {recursive: true, force: true})))
  })

  it('kills the servers of a test worker that is itself killed with SIGKILL (no orphans)', async () => {
    const pidFile = join(await tempDir('teardown'), 'pid')
    const run = runFixture('hanging', pidFile)
    try {
      const ketoPid = await waitFor('the fixture to start keto', readPid(pidFile), 40_000)
      expect(processExists(ketoPid)).toBe(true)
      // The worker is keto's parent: field 4 of /proc/<pid>/stat.
      const stat = await readFile(`/proc/${ketoPid}/stat`, 'utf8')
      const workerPid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      expect(workerPid).not.toBe(run.child.pid)
      const args = (await readFile(`/proc/${ketoPid}/cmdline`, 'utf8')).split('\0')
      const serverDir = dirname(args[args.indexOf('-c') + 1]!)
      process.kill(workerPid, 'SIGKILL')
      await waitFor('keto to be killed by the watchdog', () => (processExists(ketoPid) ? undefined : true), 15_000)
      await rm(serverDir, {recursive: true, force: true}) // the killed worker could not clean up
    } finally {
      run.child.kill('SIGTERM')
      await run.exited
    }
  })
})
