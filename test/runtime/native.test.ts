/**
 * `iam up | status | logs | down` with the native runtime against the REAL Ory binaries (and the embedded servers),
 * through the built CLI as a user runs it. Every project gets its own free ports (test files run in parallel) and
 * every process a test started is killed in afterAll, even when a test fails.
 */
import {createServer} from 'node:http'
import {readFile, rm, writeFile, readdir, appendFile, stat} from 'node:fs/promises'
import {join} from 'node:path'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {PortsConfig} from '../../src/config/model.js'
import {renderProject} from '../../src/project/render.js'
import {isRecordAlive, readPidRecords} from '../../src/runtime/pidfile.js'
import type {StatusReport} from '../../src/runtime/types.js'
import {isPortFree} from '../../src/util/ports.js'
import {IAM_BIN, runIam} from '../helpers/cli.js'
import {nativeFixtures, PORT_NAMES} from './helpers.js'

type Ports = PortsConfig

const fixtures = nativeFixtures()
const {makeProject, startUpstream} = fixtures
afterAll(() => fixtures.cleanup(), 60_000)

const ALL = ['kratos', 'keto', 'batch-auth', 'role-webhook', 'mail', 'ui', 'oathkeeper']

describe('native runtime: up, status, proxy, crash, down (real servers)', () => {
  let dir: string
  let ports: Ports
  let upstreamPort: number

  beforeAll(async () => {
    upstreamPort = await startUpstream()
    ;({dir, ports} = await makeProject('stack', upstreamPort))
  })

  it('iam up renders the project, starts every service and returns once all are ready', async () => {
    const r = await runIam(['up', '--json'], {cwd: dir, timeoutMs: 180_000})
    expect(r.exitCode, r.stderr + r.stdout).toBe(0)
    const result = r.json as {runtime: string; alreadyRunning: boolean; status: StatusReport; endpoints: {env: string; url: string}[]; secretsFile: string}
    expect(result.runtime).toBe('native')
    expect(result.alreadyRunning).toBe(false)
    expect(result.status.healthy).toBe(true)
    expect(result.status.services.map((s) => [s.name, s.state])).toEqual(ALL.map((n) => [n, 'ready']))
    expect(result.endpoints).toContainEqual({env: 'JWKS_URL', label: 'JWKS', url: `http://127.0.0.1:${ports.oathkeeperApi}/.well-known/jwks.json`})
    expect(result.secretsFile).toBe('.env')
    // Progress: one JSON event per line on stderr, each service reaching ready.
    const events = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as {event: string; subject?: string; state?: string})
    for (const name of ALL) expect(events).toContainEqual(expect.objectContaining({event: 'service', subject: name, state: 'ready'}))
    expect(events).toContainEqual(expect.objectContaining({subject: 'kratos', state: 'migrating'}))
    // Secrets stay out of stdout and stderr.
    const secret = /KRATOS_SECRETS_COOKIE=(.+)/.exec(await readFile(join(dir, '.env'), 'utf8'))?.[1]
    expect(secret).toBeTruthy()
    expect(r.stdout + r.stderr).not.toContain(secret)
    // Logs, pid files and the databases (live sessions) are this user's alone: 0600 files in 0700 folders.
    for (const folder of ['.iam', '.iam/run', '.iam/logs', '.iam/data']) expect(((await stat(join(dir, folder))).mode & 0o777).toString(8), folder).toBe('700')
    for (const db of ['kratos.db', 'keto.db']) expect(((await stat(join(dir, '.iam/data', db))).mode & 0o777).toString(8), db).toBe('600')
  })

  it('iam status -o json reports every service healthy with pid, ports and version; -o env prints the endpoints', async () => {
    const r = await runIam(['status', '-o', 'json'], {cwd: dir})
    expect(r.exitCode, r.output).toBe(0)
    const report = r.json as StatusReport
    expect(report.healthy).toBe(true)
    const kratos = report.services.find((s) => s.name === 'kratos')
    expect(kratos).toMatchObject({state: 'ready', health: 'ready', version: 'v26.2.0', ports: {public: ports.kratosPublic, admin: ports.kratosAdmin}})
    expect(kratos?.pid).toBeGreaterThan(0)
    expect(report.services.find((s) => s.name === 'batch-auth')?.version).toMatch(/^iam \d+\.\d+\.\d+/)
    const env = await runIam(['status', '-o', 'env'], {cwd: dir})
    expect(env.exitCode).toBe(0)
    expect(env.stdout).toContain(`KRATOS_PUBLIC_URL=http://127.0.0.1:${ports.kratosPublic}\n`)
    expect(env.stdout).toContain(`KETO_WRITE_URL=http://127.0.0.1:${ports.ketoWrite}\n`)
    expect(env.stdout).toContain(`OATHKEEPER_PROXY_URL=http://127.0.0.1:${ports.oathkeeperProxy}\n`)
    const table = await runIam(['status'], {cwd: dir})
    // Every port a server opens is one of iam.yaml's, and status lists it.
    expect(table.stdout).toMatch(new RegExp(`^oathkeeper\\s+ready\\s+\\d+\\s+proxy:${ports.oathkeeperProxy} api:${ports.oathkeeperApi} metrics:${ports.oathkeeperMetrics}\\s+v26\\.2\\.0\\s+ready$`, 'm'))
    expect(table.stdout).toMatch(new RegExp(`^keto\\s+ready\\s+\\d+\\s+read:${ports.ketoRead} write:${ports.ketoWrite} opl:${ports.ketoOpl} metrics:${ports.ketoMetrics}\\s`, 'm'))
    expect(env.stdout).toContain(`GATEWAY_URL=http://127.0.0.1:${ports.oathkeeperProxy}\n`)
  })

  it('a request through the Oathkeeper proxy reaches the upstream with a minted id_token', async () => {
    const res = await fetch(`http://127.0.0.1:${ports.oathkeeperProxy}/public/hello?x=1`)
    expect(res.status).toBe(200)
    const body = (await res.json()) as {url: string; authorization: string | null}
    expect(body.url).toBe('/public/hello?x=1')
    expect(body.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/)
  })

  it('iam up again changes nothing and says so', async () => {
    const before = (await readPidRecords(join(dir, '.iam', 'run'))).map((r) => r.pid).sort()
    const r = await runIam(['up'], {cwd: dir})
    expect(r.exitCode, r.output).toBe(0)
    expect(r.stdout).toContain('already running')
    expect(r.stdout).toMatch(/^kratos\s+ready/m)
    expect((await readPidRecords(join(dir, '.iam', 'run'))).map((rec) => rec.pid).sort()).toEqual(before)
  })

  it('iam logs prints a service log; --tail limits it', async () => {
    const r = await runIam(['logs', 'keto', '--tail', '3'], {cwd: dir})
    expect(r.exitCode, r.output).toBe(0)
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(3)
    const all = await runIam(['logs', '--tail', '1'], {cwd: dir})
    expect(all.stdout).toMatch(/^kratos\s+\| /m)
    expect(all.stdout).toMatch(/^oathkeeper\s+\| /m)
    const unknown = await runIam(['logs', 'nope'], {cwd: dir})
    expect(unknown.exitCode).toBe(2)
  })

  it('a killed service is reported as crashed and status exits non-zero', async () => {
    const keto = (await readPidRecords(join(dir, '.iam', 'run'))).find((r) => r.service === 'keto')
    expect(keto).toBeDefined()
    process.kill(keto!.pid, 'SIGKILL')
    for (let i = 0; i < 50 && (await isRecordAlive(keto!)); i++) await new Promise((r) => setTimeout(r, 100))
    const r = await runIam(['status', '-o', 'json'], {cwd: dir})
    expect(r.exitCode).toBe(1)
    const report = r.json as StatusReport
    expect(report.healthy).toBe(false)
    expect(report.services.find((s) => s.name === 'keto')).toMatchObject({state: 'crashed', pid: keto!.pid})
    expect(report.services.find((s) => s.name === 'kratos')).toMatchObject({state: 'ready'})
    // `iam up` heals: only the crashed service is started again.
    const up = await runIam(['up', '--json'], {cwd: dir, timeoutMs: 180_000})
    expect(up.exitCode, up.output).toBe(0)
    expect(up.json).toMatchObject({alreadyRunning: false, started: ['keto'], status: {healthy: true}})
  })

  it('iam down stops everything: no process, no listening port, no pid file; data kept', async () => {
    const records = await readPidRecords(join(dir, '.iam', 'run'))
    expect(records.length).toBe(ALL.length)
    // Even with a broken iam.yaml the running stack stays stoppable (the pid files say what runs).
    const yaml = await readFile(join(dir, 'iam.yaml'), 'utf8')
    await writeFile(join(dir, 'iam.yaml'), `${yaml}\nruntmie: native\n`)
    const r = await runIam(['down'], {cwd: dir})
    await writeFile(join(dir, 'iam.yaml'), yaml)
    expect(r.exitCode, r.output).toBe(0)
    expect(r.stdout).toContain('Data kept')
    for (const record of records) expect(await isRecordAlive(record), record.service).toBe(false)
    for (const name of PORT_NAMES) expect(await isPortFree(ports[name]), name).toBe(true)
    expect(await readPidRecords(join(dir, '.iam', 'run'))).toEqual([])
    expect((await readdir(join(dir, '.iam', 'data'))).sort()).toEqual(['keto.db', 'kratos.db'])
    const status = await runIam(['status', '-o', 'json'], {cwd: dir})
    expect(status.exitCode).toBe(1)
    expect((status.json as StatusReport).services.every((s) => s.state === 'stopped')).toBe(true)
    const purge = await runIam(['down', '--volumes'], {cwd: dir})
    expect(purge.exitCode).toBe(2)
    expect(purge.stderr).toContain('--yes')
    const purged = await runIam(['down', '--volumes', '--yes'], {cwd: dir})
    expect(purged.exitCode).toBe(0)
    await expect(readdir(join(dir, '.iam', 'data'))).rejects.toThrow()
  })
})

describe('native runtime: --attach (real servers)', () => {
  it('stays in the foreground and stops everything on Ctrl-C (SIGINT)', async () => {
    const {dir, ports} = await makeProject('attach', await startUpstream())
    const child = execa('node', [IAM_BIN, 'up', '--attach'], {cwd: dir, reject: false, env: {NO_COLOR: '1'}, timeout: 180_000})
    let stderr = ''
    await new Promise<void>((resolve, reject) => {
      child.stderr?.on('data', (b: Buffer) => {
        stderr += b.toString()
        if (stderr.includes('attached: press Ctrl-C')) resolve()
      })
      void child.then(() => reject(new Error(`iam up --attach exited early:\n${stderr}`)))
    })
    const records = await readPidRecords(join(dir, '.iam', 'run'))
    expect(records.map((r) => r.service).sort()).toEqual([...ALL].sort())
    expect(child.exitCode).toBeNull()
    child.kill('SIGINT')
    const result = await child
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stderr).toContain('stopped 7 service(s)')
    for (const record of records) expect(await isRecordAlive(record), record.service).toBe(false)
    for (const name of ['kratosPublic', 'ketoRead', 'oathkeeperProxy', 'batchAuth', 'roleWebhook'] as const) expect(await isPortFree(ports[name]), name).toBe(true)
  })
})

describe('native runtime: failure paths (real servers)', () => {
  let upstreamPort: number
  beforeAll(async () => {
    upstreamPort = await startUpstream()
  })

  it('a config error: refused with its position before anything is rendered or started', async () => {
    const {dir} = await makeProject('badconfig', upstreamPort)
    await appendFile(join(dir, 'iam.yaml'), 'runtmie: native\n')
    await rm(join(dir, 'ory'), {recursive: true, force: true})
    const r = await runIam(['up'], {cwd: dir})
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain('error [CONFIG_INVALID]')
    expect(r.stderr).toContain('runtmie')
    await expect(readdir(join(dir, 'ory'))).rejects.toThrow()
    expect(await readPidRecords(join(dir, '.iam', 'run'))).toEqual([])
  })

  it('a port taken before up: clear error naming the port and its owner, nothing started', async () => {
    const {dir, ports} = await makeProject('taken', upstreamPort)
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(ports.ketoWrite, '127.0.0.1', resolve))
    try {
      const r = await runIam(['up'], {cwd: dir})
      expect(r.exitCode).toBe(3)
      expect(r.stderr).toContain('error [PORT_IN_USE]')
      expect(r.stderr).toContain(`port ${ports.ketoWrite} (keto write) is in use by pid ${process.pid}`)
      expect(r.stderr).toContain('Nothing was started')
      expect(await readPidRecords(join(dir, '.iam', 'run'))).toEqual([])
      for (const name of ['kratosPublic', 'oathkeeperApi', 'ketoRead'] as const) expect(await isPortFree(ports[name])).toBe(true)
    } finally {
      blocker.close()
    }
  })

  it('a service that cannot start: its name, the reason and its log tail; everything stopped', async () => {
    const {dir, ports} = await makeProject('broken', upstreamPort)
    await renderProject(dir)
    // A hand edit Kratos refuses: an unknown top-level key fails its config schema.
    await appendFile(join(dir, 'ory', 'kratos', 'kratos.yml'), '\nthis_is_not_a_kratos_key: true\n')
    const r = await runIam(['up', '--timeout', '60s'], {cwd: dir, timeoutMs: 180_000})
    expect(r.exitCode, r.output).toBe(1)
    expect(r.stderr).toContain('error [SERVICE_NOT_READY]: kratos did not become ready: the process exited with code 1')
    // The progress names the service that brought the run down before everything is stopped.
    expect(r.stderr).toMatch(/\[kratos\] crashed: the process exited with code 1 [^\n]*\n\[kratos\] stopped/)
    expect(r.stderr).toMatch(/--- last \d+ lines of \.iam\/logs\/kratos\.log ---/)
    expect(r.stderr).toContain('this_is_not_a_kratos_key')
    expect(await readPidRecords(join(dir, '.iam', 'run'))).toEqual([])
    for (const name of ['ketoRead', 'ketoWrite', 'oathkeeperProxy', 'oathkeeperApi', 'batchAuth', 'roleWebhook'] as const) {
      expect(await isPortFree(ports[name]), name).toBe(true)
    }
  })
})
