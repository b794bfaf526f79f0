/**
 * `iam up` on a running native stack converges it to iam.yaml (real servers, through the built CLI): with nothing
 * changed nothing restarts; edited routes are in force through the real gateway when `iam up` returns, with every
 * pid unchanged (Oathkeeper reloads its rules); a change to a file a server reads at start restarts exactly that
 * server, named with the reason; a service iam.yaml no longer needs is stopped.
 */
import {createServer, type Server} from 'node:http'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseDocument} from 'yaml'

import {readPidRecords} from '../../src/runtime/pidfile.js'
import type {UpResult} from '../../src/stack/up.js'
import {getFreePort} from '../harness/ports.js'
import {runIam} from '../helpers/cli.js'
import {nativeFixtures} from '../runtime/helpers.js'

const fixtures = nativeFixtures()
let second: Server
afterAll(async () => {
  await fixtures.cleanup()
  second?.close()
}, 60_000)

async function pids(dir: string): Promise<Record<string, number>> {
  return Object.fromEntries((await readPidRecords(join(dir, '.iam', 'run'))).map((r) => [r.service, r.pid]))
}

async function editYaml(dir: string, edit: (doc: ReturnType<typeof parseDocument>) => void): Promise<void> {
  const doc = parseDocument(await readFile(join(dir, 'iam.yaml'), 'utf8'))
  edit(doc)
  await writeFile(join(dir, 'iam.yaml'), doc.toString())
}

async function up(dir: string): Promise<UpResult> {
  const r = await runIam(['up', '--json'], {cwd: dir, timeoutMs: 180_000})
  expect(r.exitCode, r.output).toBe(0)
  return r.json as UpResult
}

describe('iam up converges a running stack (real servers)', () => {
  let dir: string
  let proxy: string
  let secondPort: number

  beforeAll(async () => {
    const upstream = await fixtures.startUpstream()
    secondPort = await getFreePort()
    second = createServer((req, res) => res.end(JSON.stringify({second: true, method: req.method, url: req.url})))
    await new Promise<void>((r) => second.listen(secondPort, '127.0.0.1', r))
    const project = await fixtures.makeProject('converge', upstream)
    dir = project.dir
    proxy = `http://127.0.0.1:${project.ports.oathkeeperProxy}`
    await up(dir)
  }, 240_000)

  it('nothing changed: nothing restarts, every pid stays', async () => {
    const before = await pids(dir)
    const again = await up(dir)
    expect(again).toMatchObject({alreadyRunning: true, started: [], restarted: [], stopped: []})
    expect(await pids(dir)).toEqual(before)
  })

  it('edited routes (methods, upstream, authorization) are in force through the gateway when iam up returns; no pid changes', async () => {
    const before = await pids(dir)
    expect((await fetch(`${proxy}/public/x`, {method: 'POST'})).status).toBe(404)
    expect((await fetch(`${proxy}/admin/x`)).status).toBe(401)
    await editYaml(dir, (doc) => {
      doc.setIn(['routes', 0, 'methods'], ['GET', 'HEAD', 'POST'])
      doc.setIn(['routes', 0, 'upstream'], `http://127.0.0.1:${secondPort}`)
      doc.setIn(['routes', 1, 'auth'], 'anonymous')
      doc.deleteIn(['routes', 1, 'authorization'])
    })
    const result = await up(dir)
    expect(result.restarted).toEqual([])
    expect(result.rendered.map((f) => f.path)).toContain('ory/oathkeeper/rules.json')
    const posted = await fetch(`${proxy}/public/x`, {method: 'POST'})
    expect(posted.status).toBe(200)
    expect(await posted.json()).toMatchObject({second: true, method: 'POST'})
    expect((await fetch(`${proxy}/admin/x`)).status).toBe(200)
    expect(await pids(dir)).toEqual(before)
  })

  it('a change to a file a server reads at start restarts exactly that server, named with the reason', async () => {
    const before = await pids(dir)
    await editYaml(dir, (doc) => doc.setIn(['kratos', 'methods', 'code'], true))
    const result = await up(dir)
    // Code login changes kratos.yml, the identity schema (the code identifier) and the hook sections of its env.
    expect(result.restarted).toEqual([{service: 'kratos', reasons: ['environment changed', 'ory/kratos/identity.schema.json changed', 'ory/kratos/kratos.yml changed']}])
    expect(result.status.healthy).toBe(true)
    const after = await pids(dir)
    expect(after.kratos).not.toBe(before.kratos)
    expect({...after, kratos: 0}).toEqual({...before, kratos: 0})
  })

  it('a service iam.yaml no longer needs is stopped; what depends on the change restarts', async () => {
    const before = await pids(dir)
    expect(before['role-webhook']).toBeDefined()
    await editYaml(dir, (doc) => {
      doc.setIn(['roles', 'enabled'], false)
      // Without roles in sessions the admin route (anonymous now) is unaffected; nothing else uses roles.
    })
    const result = await up(dir)
    expect(result.stopped).toEqual(['role-webhook'])
    // Kratos' hooks and Oathkeeper's claims template (no roles claim) changed with it.
    expect(result.restarted.map((r) => r.service).sort()).toEqual(['kratos', 'oathkeeper'])
    const after = await pids(dir)
    expect(after['role-webhook']).toBeUndefined()
    expect(after.keto).toBe(before.keto)
    expect(after['batch-auth']).toBe(before['batch-auth'])
    expect(result.status.healthy).toBe(true)
  })

  it('a service that cannot start with the new configuration: the error names it, status is not healthy, the rest keep running; fixing it converges again', async () => {
    const before = await pids(dir)
    const kratosYml = join(dir, 'ory/kratos/kratos.yml')
    await writeFile(kratosYml, `${await readFile(kratosYml, 'utf8')}\nserve: {public: {port: not-a-port}}\n`)
    const failed = await runIam(['up'], {cwd: dir, timeoutMs: 180_000})
    expect(failed.exitCode).toBe(1)
    expect(failed.output).toContain('kratos did not become ready')
    const status = await runIam(['status', '--json'], {cwd: dir})
    expect(status.exitCode).toBe(1)
    const report = status.json as {healthy: boolean; services: {name: string; state: string}[]}
    expect(report.healthy).toBe(false)
    expect(report.services.find((s) => s.name === 'kratos')?.state).toBe('stopped')
    expect((await pids(dir)).keto).toBe(before.keto)
    expect((await runIam(['render', '--force'], {cwd: dir})).exitCode).toBe(0)
    const fixed = await up(dir)
    expect(fixed.started).toEqual(['kratos'])
    expect(fixed.status.healthy).toBe(true)
  })
})
