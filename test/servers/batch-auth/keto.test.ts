import {request} from 'undici'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {BatchAuthServer} from '../../../src/servers/batch-auth/index.js'
import {startKeto} from '../../harness/index.js'
import {postJson, putTuples, rel, startTestBatchAuth, waitFor} from './helpers.js'

// Against the REAL Keto v26.2.0 with its batch limit at 10.
let keto: Awaited<ReturnType<typeof startKeto>>
let server: BatchAuthServer
const TIMEOUT_MS = 1500
// A check that ignored the deadline would hang (Keto stopped or frozen); the slack only absorbs a loaded CI machine.
const SLACK_MS = 3000
const logs: string[] = []

const adminRole = {namespace: 'Role', object: 'admin', relation: 'member'}

beforeAll(async () => {
  keto = await startKeto({config: {limit: {max_batch_check_size: 10}}})
  await putTuples(keto.urls.write, [
    rel('Role', 'admin', 'member', 'alice'),
    rel('Tenant', 't1', 'member', 'bob'),
    // Every admin is a member of t3 through a subject set.
    rel('Tenant', 't3', 'member', adminRole),
  ])
  server = await startTestBatchAuth(keto.urls.read, {timeoutMs: TIMEOUT_MS, maxBatch: 10, logs})
})

afterAll(async () => {
  await server?.close()
})

const check = (tuples: unknown) => postJson(server.url + '/', {tuples})

describe('batch-auth against real Keto', () => {
  it('allowed-any: 200 when one of the tuples is allowed, results in input order', async () => {
    const r = await check([rel('Role', 'admin', 'member', 'bob'), rel('Tenant', 't1', 'member', 'bob')])
    expect(r.status).toBe(200)
    expect(r.body).toEqual({authorized: true, results: [{allowed: false}, {allowed: true}]})
  })

  it('allowed-none: 403 when no tuple is allowed', async () => {
    const r = await check([rel('Role', 'admin', 'member', 'carol'), rel('Tenant', 't1', 'member', 'carol')])
    expect(r.status).toBe(403)
    expect(r.body).toEqual({authorized: false, results: [{allowed: false}, {allowed: false}]})
  })

  it('mixed: both allowed, and /check is the same endpoint', async () => {
    const r = await postJson(server.url + '/check', {tuples: [rel('Role', 'admin', 'member', 'alice'), rel('Tenant', 't2', 'member', 'alice'), rel('Tenant', 't3', 'member', 'alice')]})
    expect(r.status).toBe(200)
    expect(r.body.results).toEqual([{allowed: true}, {allowed: false}, {allowed: true}])
  })

  it('a subject set: directly as the subject, and expanded for its members', async () => {
    const direct = await check([{namespace: 'Tenant', object: 't3', relation: 'member', subject_set: adminRole}])
    expect(direct.status).toBe(200)
    const other = await check([{namespace: 'Tenant', object: 't1', relation: 'member', subject_set: adminRole}])
    expect(other.status).toBe(403)
    expect((await check([rel('Tenant', 't3', 'member', 'alice')])).status).toBe(200)
    expect((await check([rel('Tenant', 't3', 'member', 'bob')])).status).toBe(403)
  })

  it('reports the error Keto gives for one tuple (unknown namespace) inside results', async () => {
    const r = await check([rel('NoSuchNamespace', 'x', 'member', 'alice'), rel('Tenant', 't2', 'member', 'alice')])
    expect(r.status).toBe(403)
    expect(r.body.results?.[0]?.allowed).toBe(false)
    // Keto (v0.14.0 and v26.2.0) words an unknown namespace as a missing resource.
    expect(r.body.results?.[0]?.error).toMatch(/could not be found/)
    expect(r.body.results?.[1]).toEqual({allowed: false})
  })

  it("more tuples than Keto's batch maximum: Keto itself refuses 11, batch-auth splits 35", async () => {
    const denied = Array.from({length: 35}, (_, i) => rel('Tenant', `x${i}`, 'member', 'bob'))
    const direct = await postJson(`${keto.urls.read}/relation-tuples/batch/check`, {tuples: denied.slice(0, 11)})
    expect(direct.status).toBe(400)

    const none = await check(denied)
    expect(none.status).toBe(403)
    expect(none.body.results).toHaveLength(35)
    expect(none.body.results?.every((x) => x.allowed === false && x.error === undefined)).toBe(true)

    const last = [...denied.slice(0, 34), rel('Tenant', 't1', 'member', 'bob')]
    const r = await check(last)
    expect(r.status).toBe(200)
    expect(r.body.results?.[34]).toEqual({allowed: true})
    expect(r.body.results).toHaveLength(35)
    const metrics = await (await request(server.url + '/metrics')).body.text()
    // 4 Keto requests per 35-tuple check.
    expect(Number(/batch_auth_keto_request_duration_seconds_count (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(8)
  })

  it('is ready while Keto is; Keto stopped → 5xx within the timeout and not ready; Keto back → correct answers, same process', async () => {
    expect((await request(server.url + '/health/ready')).statusCode).toBe(200)
    const allowed = [rel('Role', 'admin', 'member', 'alice')]
    expect((await check(allowed)).status).toBe(200)

    await keto.stop()
    for (let i = 0; i < 3; i++) {
      const started = Date.now()
      const r = await check(allowed)
      const elapsed = Date.now() - started
      expect([502, 503, 504]).toContain(r.status)
      expect(r.body.error?.code).toMatch(/^KETO_/)
      // The functional deadline (not a performance threshold): a check never outlives --timeout by much.
      expect(elapsed).toBeLessThan(TIMEOUT_MS + SLACK_MS)
    }
    expect((await request(server.url + '/health/ready')).statusCode).toBe(503)
    expect(logs.some((l) => l.includes('keto check failed'))).toBe(true)

    await keto.start()
    await waitFor('batch-auth ready again', async () => (await request(server.url + '/health/ready')).statusCode === 200)
    expect((await check(allowed)).status).toBe(200)
    expect((await check([rel('Role', 'admin', 'member', 'carol')])).status).toBe(403)
  })

  it('Keto frozen (SIGSTOP): 504 KETO_TIMEOUT at the deadline, then correct answers after SIGCONT', async () => {
    const allowed = [rel('Role', 'admin', 'member', 'alice')]
    expect((await check(allowed)).status).toBe(200)
    const pid = (keto as unknown as {pid?: number}).pid
    expect(pid).toBeTypeOf('number')
    process.kill(pid!, 'SIGSTOP')
    try {
      const started = Date.now()
      const r = await check(allowed)
      expect(r.status).toBe(504)
      expect(r.body.error?.code).toBe('KETO_TIMEOUT')
      expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 50)
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + SLACK_MS)
    } finally {
      process.kill(pid!, 'SIGCONT')
    }
    await waitFor('answers again', async () => (await check(allowed)).status === 200)
    expect((await check([rel('Role', 'admin', 'member', 'carol')])).status).toBe(403)
  })
})
