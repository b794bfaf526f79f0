import {readFileSync} from 'node:fs'

import {request} from 'undici'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {
  coalesceBatchChecks,
  ketoBatchCheck,
  type BatchAuthServer,
  type BatchCheck,
  type KetoResult,
  type Tuple,
} from '../../../src/servers/batch-auth/index.js'
import {createUpstreamPool, UpstreamError} from '../../../src/servers/http/index.js'
import {startKeto} from '../../harness/index.js'
import {postJson, putTuples, rel, startTestBatchAuth, waitFor, type CheckResponse} from './helpers.js'

// ---------------------------------------------------------------- the coalescer, driven by a scripted BatchCheck
// These drive our queueing/routing logic; the same coalescer against the real Keto is further down.

interface ScriptedCall {
  tuples: Tuple[]
  answer(results?: KetoResult[]): void
  fail(error: unknown): void
}

/** A BatchCheck whose calls stay open until the test answers them; by default a tuple is allowed iff its object starts with "a". */
function scripted() {
  const calls: ScriptedCall[] = []
  const check: BatchCheck = (tuples) =>
    new Promise<KetoResult[]>((resolve, reject) => {
      calls.push({tuples: [...tuples], answer: (r) => resolve(r ?? tuples.map(byObject)), fail: reject})
    })
  return {calls, check}
}
const byObject = (t: Tuple): KetoResult => (t.object.startsWith('a') ? {allowed: true} : {allowed: false})
const t = (object: string, subject = 'u'): Tuple => ({namespace: 'Doc', object, relation: 'view', subject_id: subject})
const objects = (c: ScriptedCall): string[] => c.tuples.map((x) => x.object)
/** Lets promise callbacks run (the coalescer starts calls synchronously; answers arrive in microtasks). */
const flush = () => new Promise((r) => setImmediate(r))

/** Settles a promise into a plain value the test can compare. */
async function outcome(p: Promise<KetoResult[]>): Promise<{ok: KetoResult[]} | {error: unknown}> {
  try {
    return {ok: await p}
  } catch (error) {
    return {error}
  }
}

describe('coalesceBatchChecks (scripted BatchCheck)', () => {
  it('a lone check goes out at once, alone, and gets its answers', async () => {
    const k = scripted()
    const check = coalesceBatchChecks(k.check, {maxBatch: 10})
    const p = check([t('a1'), t('b1')])
    // Synchronously: no timer, no waiting for company.
    expect(k.calls).toHaveLength(1)
    expect(objects(k.calls[0]!)).toEqual(['a1', 'b1'])
    k.calls[0]!.answer()
    expect(await p).toEqual([{allowed: true}, {allowed: false}])
  })

  it('at most maxInFlight calls; checks that arrive meanwhile share the next call and each gets its own answers in order', async () => {
    const k = scripted()
    const check = coalesceBatchChecks(k.check, {maxBatch: 10, maxInFlight: 2})
    const p1 = check([t('a1')])
    const p2 = check([t('b2')])
    const p3 = check([t('b3'), t('a3')])
    const p4 = check([t('a4'), t('b4'), t('c4')])
    const p5 = check([t('b5')])
    expect(k.calls.map(objects)).toEqual([['a1'], ['b2']])
    // The second call answers first: one slot frees, and one call carries all three queued checks.
    k.calls[1]!.answer()
    expect(await p2).toEqual([{allowed: false}])
    expect(k.calls).toHaveLength(3)
    expect(objects(k.calls[2]!)).toEqual(['b3', 'a3', 'a4', 'b4', 'c4', 'b5'])
    // Answers that are not a function of the tuple show the routing: answer i goes to the tuple sent at i.
    k.calls[2]!.answer(k.calls[2]!.tuples.map((_, i) => ({allowed: i % 2 === 1, error: `#${i}`})))
    expect(await p3).toEqual([
      {allowed: false, error: '#0'},
      {allowed: true, error: '#1'},
    ])
    expect(await p4).toEqual([
      {allowed: false, error: '#2'},
      {allowed: true, error: '#3'},
      {allowed: false, error: '#4'},
    ])
    expect(await p5).toEqual([{allowed: true, error: '#5'}])
    k.calls[0]!.answer()
    expect(await p1).toEqual([{allowed: true}])
    expect(k.calls).toHaveLength(3)
  })

  it('maxInFlight 1 serialises the calls; with the slot free again the next check goes at once', async () => {
    const k = scripted()
    const check = coalesceBatchChecks(k.check, {maxBatch: 10, maxInFlight: 1})
    const p1 = check([t('a1')])
    const p2 = check([t('a2')])
    const p3 = check([t('b3')])
    expect(k.calls).toHaveLength(1)
    k.calls[0]!.answer()
    await flush()
    expect(k.calls.map(objects)).toEqual([['a1'], ['a2', 'b3']])
    k.calls[1]!.answer()
    expect([await p1, await p2, await p3]).toEqual([[{allowed: true}], [{allowed: true}], [{allowed: false}]])
    const p4 = check([t('b4')])
    expect(k.calls).toHaveLength(3)
    k.calls[2]!.answer()
    expect(await p4).toEqual([{allowed: false}])
  })

  it('identical tuples are asked once per call and the answer goes to every check that asked', async () => {
    const k = scripted()
    const check = coalesceBatchChecks(k.check, {maxBatch: 10, maxInFlight: 1})
    const blocker = check([t('x')])
    const set = (object: string): Tuple => ({namespace: 'Doc', object, relation: 'view', subject_set: {namespace: 'Role', object: 'admin', relation: 'member'}})
    const p1 = check([t('a1', 'alice'), t('b1', 'alice')])
    const p2 = check([t('b1', 'alice'), t('a1', 'alice'), t('a1', 'bob')])
    // Same strings in another field, and a subject set vs a subject id: different tuples.
    const p3 = check([set('a1'), t('a1', 'Role'), {namespace: 'Doc', object: 'a1', relation: 'edit', subject_id: 'alice'}, set('a1')])
    k.calls[0]!.answer()
    await flush()
    expect(k.calls).toHaveLength(2)
    const sent = k.calls[1]!.tuples
    expect(sent).toEqual([t('a1', 'alice'), t('b1', 'alice'), t('a1', 'bob'), set('a1'), t('a1', 'Role'), {namespace: 'Doc', object: 'a1', relation: 'edit', subject_id: 'alice'}])
    k.calls[1]!.answer(sent.map((_, i) => ({allowed: false, error: `#${i}`})))
    expect(await p1).toEqual([{allowed: false, error: '#0'}, {allowed: false, error: '#1'}])
    expect(await p2).toEqual([{allowed: false, error: '#1'}, {allowed: false, error: '#0'}, {allowed: false, error: '#2'}])
    expect(await p3).toEqual([{allowed: false, error: '#3'}, {allowed: false, error: '#4'}, {allowed: false, error: '#5'}, {allowed: false, error: '#3'}])
    await blocker
  })

  it('never more than maxBatch distinct tuples per call; a check stays whole unless it alone is larger than a call', async () => {
    const k = scripted()
    const check = coalesceBatchChecks(k.check, {maxBatch: 4, maxInFlight: 1})
    const blocker = check([t('x')])
    const p1 = check([t('a1'), t('b1')])
    const p2 = check([t('a2'), t('b2'), t('c2')]) // does not fit behind p1: leads the next call
    const p3 = check([t('a3')])
    const big = check(['b5', 'b6', 'b7', 'b8', 'b9', 'a10'].map((o) => t(o))) // 6 > 4: split over two calls
    const p4 = check([t('a1'), t('b2')]) // duplicates only: rides wherever they already are
    for (let i = 0; i < 6; i++) {
      k.calls[i]?.answer()
      await flush()
    }
    expect(k.calls.map(objects)).toEqual([['x'], ['a1', 'b1'], ['a2', 'b2', 'c2', 'a3'], ['b5', 'b6', 'b7', 'b8'], ['b9', 'a10', 'a1', 'b2']])
    expect(k.calls.every((c) => c.tuples.length <= 4)).toBe(true)
    expect(await p1).toEqual([{allowed: true}, {allowed: false}])
    expect(await p2).toEqual([{allowed: true}, {allowed: false}, {allowed: false}])
    expect(await p3).toEqual([{allowed: true}])
    expect(await big).toEqual([{allowed: false}, {allowed: false}, {allowed: false}, {allowed: false}, {allowed: false}, {allowed: true}])
    expect(await p4).toEqual([{allowed: true}, {allowed: false}])
    await blocker
  })

  it('a check whose signal aborts while queued rejects at once and its tuples are never sent', async () => {
    const k = scripted()
    const check = coalesceBatchChecks(k.check, {maxBatch: 10, maxInFlight: 1})
    const blocker = check([t('x')])
    const ac = new AbortController()
    const aborted = outcome(check([t('a-aborted')], ac.signal))
    const kept = check([t('a-kept')])
    ac.abort(new UpstreamError('timeout', 'deadline of this check'))
    expect(await aborted).toEqual({error: expect.objectContaining({kind: 'timeout', message: 'deadline of this check'})})
    k.calls[0]!.answer()
    await flush()
    expect(k.calls.map(objects)).toEqual([['x'], ['a-kept']])
    k.calls[1]!.answer()
    expect(await kept).toEqual([{allowed: true}])
    await blocker
    // Already aborted: rejected without a call.
    await expect(check([t('a')], AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone')
    expect(k.calls).toHaveLength(2)
  })

  it('a check whose signal aborts while its call runs rejects at once; the shared call runs on for the others', async () => {
    const k = scripted()
    const check = coalesceBatchChecks(k.check, {maxBatch: 10, maxInFlight: 1})
    const blocker = check([t('x')])
    const ac = new AbortController()
    const aborted = outcome(check([t('a1'), t('b1')], ac.signal))
    const other = check([t('b1'), t('a2')])
    k.calls[0]!.answer()
    await flush()
    expect(k.calls.map(objects)).toEqual([['x'], ['a1', 'b1', 'a2']])
    ac.abort()
    expect(await aborted).toEqual({error: expect.objectContaining({name: 'AbortError'})})
    // The signal was never handed to the wrapped check, so the shared call is intact.
    k.calls[1]!.answer()
    expect(await other).toEqual([{allowed: false}, {allowed: true}])
    await blocker
  })

  it('timeoutMs: a check past its deadline rejects with timeoutError, is dropped from the queue, and nobody else is hurt', async () => {
    const k = scripted()
    const timeoutError = new UpstreamError('timeout', 'Keto did not answer within 30 ms')
    const check = coalesceBatchChecks(k.check, {maxBatch: 10, maxInFlight: 1, timeoutMs: 30, timeoutError})
    const first = outcome(check([t('a0')]))
    const queued = outcome(check([t('a1')]))
    // Both pass their deadline while the first call hangs.
    expect(await first).toEqual({error: timeoutError})
    expect(await queued).toEqual({error: timeoutError})
    k.calls[0]!.answer()
    await flush()
    // The hung call finished: the expired a1 is not sent, and the free slot takes the next check at once.
    expect(k.calls).toHaveLength(1)
    const late = check([t('a2')])
    expect(k.calls.map(objects)).toEqual([['a0'], ['a2']])
    k.calls[1]!.answer()
    expect(await late).toEqual([{allowed: true}])
  })

  it('a failing call fails exactly the checks it carried; per-tuple errors reach only the checks that asked', async () => {
    const k = scripted()
    const check = coalesceBatchChecks(k.check, {maxBatch: 10, maxInFlight: 2})
    const alone = outcome(check([t('a0')]))
    const busy = check([t('b')])
    const q1 = outcome(check([t('a1'), t('b1')]))
    const q2 = outcome(check([t('a2')]))
    const failure = new UpstreamError('status', 'Keto answered HTTP 500')
    k.calls[0]!.fail(failure) // a0's call, alone
    expect(await alone).toEqual({error: failure})
    await flush()
    expect(k.calls.map(objects)).toEqual([['a0'], ['b'], ['a1', 'b1', 'a2']])
    const q3 = outcome(check([t('a3'), t('ns-missing')]))
    const q4 = outcome(check([t('b4'), t('a1')]))
    // A shared call fails: both of its checks, and only they, get the failure (never an answer).
    const unreachable = new UpstreamError('unavailable', 'Keto is unreachable (ECONNREFUSED)')
    k.calls[2]!.fail(unreachable)
    expect(await q1).toEqual({error: unreachable})
    expect(await q2).toEqual({error: unreachable})
    await flush()
    expect(k.calls.map(objects)).toEqual([['a0'], ['b'], ['a1', 'b1', 'a2'], ['a3', 'ns-missing', 'b4', 'a1']])
    k.calls[3]!.answer([{allowed: true}, {allowed: false, error: 'namespace not found'}, {allowed: false}, {allowed: true}])
    expect(await q3).toEqual({ok: [{allowed: true}, {allowed: false, error: 'namespace not found'}]})
    expect(await q4).toEqual({ok: [{allowed: false}, {allowed: true}]})
    k.calls[1]!.answer()
    expect(await busy).toEqual([{allowed: false}])
  })

  it('a call answering the wrong number of results, or throwing synchronously, fails only its checks', async () => {
    let mode: 'short' | 'throw' | 'ok' = 'short'
    const inner: BatchCheck = (tuples) => {
      if (mode === 'throw') throw new Error('sync boom')
      return Promise.resolve(mode === 'short' ? tuples.slice(1).map(byObject) : tuples.map(byObject))
    }
    const check = coalesceBatchChecks(inner, {maxBatch: 10})
    await expect(check([t('a'), t('b')])).rejects.toMatchObject({kind: 'invalid_response'})
    mode = 'throw'
    await expect(check([t('a')])).rejects.toThrow('sync boom')
    mode = 'ok'
    // The failures freed their slots.
    expect(await Promise.all([check([t('a')]), check([t('b')]), check([t('c')])])).toEqual([[{allowed: true}], [{allowed: false}], [{allowed: false}]])
  })
})

// ---------------------------------------------------------------- against the REAL Keto v26.2.0

/** mulberry32: the same "random" requests on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const adminRole = {namespace: 'Role', object: 'admin', relation: 'member'}
const USERS = 20
const TENANTS = 8
let keto: Awaited<ReturnType<typeof startKeto>>
const KETO_MAX_BATCH = 10

/** Keto's answer per tuple, asked one request (of at most Keto's batch size) at a time. */
async function oneByOne(tuples: Tuple[]): Promise<KetoResult[]> {
  const out: KetoResult[] = []
  for (let i = 0; i < tuples.length; i += KETO_MAX_BATCH) {
    const r = await postJson(`${keto.urls.read}/relation-tuples/batch/check`, {tuples: tuples.slice(i, i + KETO_MAX_BATCH)})
    expect(r.status).toBe(200)
    out.push(...((r.body as {results: KetoResult[]}).results))
  }
  return out
}

function randomRequests(seed: number, n: number): Tuple[][] {
  const rnd = prng(seed)
  const pick = (k: number) => Math.floor(rnd() * k)
  const tuple = (): Tuple => {
    const u = `u${pick(USERS)}`
    const x = rnd()
    if (x < 0.3) return rel('Role', 'admin', 'member', u)
    if (x < 0.75) return rel('Tenant', `t${pick(TENANTS)}`, 'member', u)
    if (x < 0.85) return rel('Tenant', `t${pick(TENANTS)}`, 'member', adminRole)
    // Unknown namespace: Keto reports it inside this tuple's result.
    return rel(`Nope${pick(3)}`, 'x', 'member', u)
  }
  return Array.from({length: n}, () => {
    // Mostly 1-4 tuples; now and then more than one Keto batch (decide splits it, the coalescer carries the parts).
    const size = rnd() < 0.1 ? 11 + pick(10) : 1 + pick(4)
    return Array.from({length: size}, tuple)
  })
}

/** What batch-auth must answer for `tuples`, given Keto's per-tuple answers. */
function expectAnswer(r: CheckResponse, expected: KetoResult[]): void {
  const allowed = expected.some((x) => x.allowed)
  expect(r.status).toBe(allowed ? 200 : 403)
  expect(r.body.authorized).toBe(allowed)
  const results = r.body.results!
  expect(results).toHaveLength(expected.length)
  for (let i = 0; i < expected.length; i++) {
    const want = expected[i]!.error ? {allowed: expected[i]!.allowed, error: expected[i]!.error} : {allowed: expected[i]!.allowed}
    // A batch that had not answered when another allowed is reported skipped (see README); only then.
    if (allowed && results[i]!.skipped === true) expect(results[i]).toEqual({allowed: false, skipped: true})
    else expect(results[i]).toEqual(want)
  }
}

const metricValue = (text: string, name: string): number =>
  Number(new RegExp(`^${name.replace(/[{}"=]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)

/**
 * SIGSTOP, then wait (synchronously) until the kernel reports the process stopped, so that nothing written to Keto
 * after this returns can be answered before SIGCONT.
 */
function freeze(pid: number): void {
  process.kill(pid, 'SIGSTOP')
  const until = Date.now() + 5000
  while (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'T') {
    if (Date.now() > until) throw new Error(`keto (pid ${pid}) did not stop`)
  }
}

describe('coalescing against the real Keto', () => {
  let server: BatchAuthServer
  const TIMEOUT_MS = 1500

  beforeAll(async () => {
    keto = await startKeto({config: {limit: {max_batch_check_size: KETO_MAX_BATCH}}})
    const seeded: Tuple[] = [rel('Role', 'admin', 'member', 'u0'), rel('Role', 'admin', 'member', 'u1'), rel('Role', 'admin', 'member', 'u2')]
    for (let j = 0; j < TENANTS; j++) seeded.push(rel('Tenant', `t${j}`, 'member', `u${(j * 3) % USERS}`), rel('Tenant', `t${j}`, 'member', `u${(j * 3 + 7) % USERS}`))
    // Admins are members of t5 through a subject set.
    seeded.push(rel('Tenant', 't5', 'member', adminRole))
    await putTuples(keto.urls.write, seeded)
    server = await startTestBatchAuth(keto.urls.read, {timeoutMs: TIMEOUT_MS, maxBatch: KETO_MAX_BATCH, maxInFlight: 2})
  })

  afterAll(async () => {
    await server?.close()
  })

  it('concurrent random checks through batch-auth answer exactly what Keto answers one request at a time', async () => {
    const requests = randomRequests(42, 300)
    const expected: KetoResult[][] = []
    for (const tuples of requests) expected.push(await oneByOne(tuples))
    // The mix really has all three kinds of answers.
    const flat = expected.flat()
    expect(flat.some((x) => x.allowed)).toBe(true)
    expect(flat.some((x) => !x.allowed && !x.error)).toBe(true)
    expect(flat.some((x) => x.error !== undefined && /could not be found/.test(x.error))).toBe(true)
    expect(expected.some((e) => e.some((x) => x.allowed))).toBe(true)
    expect(expected.some((e) => !e.some((x) => x.allowed) && e.some((x) => x.error))).toBe(true)

    const before = await (await request(server.url + '/metrics')).body.text()
    const answers = await Promise.all(requests.map((tuples) => postJson(server.url + '/', {tuples})))
    for (let i = 0; i < requests.length; i++) expectAnswer(answers[i]!, expected[i]!)

    // The answers came from shared Keto calls: fewer Keto requests than checks, some carrying several checks.
    const after = await (await request(server.url + '/metrics')).body.text()
    const calls = metricValue(after, 'batch_auth_keto_batch_checks_count') - (metricValue(before, 'batch_auth_keto_batch_checks_count') || 0)
    const checks = metricValue(after, 'batch_auth_keto_batch_checks_sum') - (metricValue(before, 'batch_auth_keto_batch_checks_sum') || 0)
    expect(checks).toBeGreaterThanOrEqual(requests.length)
    expect(calls).toBeLessThan(checks)
    expect(metricValue(after, 'batch_auth_keto_batch_tuples_bucket{le="10"}')).toBe(metricValue(after, 'batch_auth_keto_batch_tuples_count'))
  })

  it('Keto frozen (SIGSTOP): every check answers 504 KETO_TIMEOUT, never an allow; after SIGCONT the answers are right again', async () => {
    const pid = keto.pid
    expect(pid).toBeTypeOf('number')
    const requests = randomRequests(7, 40)
    const expected: KetoResult[][] = []
    for (const tuples of requests) expected.push(await oneByOne(tuples))
    freeze(pid!)
    let frozen: CheckResponse[]
    try {
      frozen = await Promise.all(requests.map((tuples) => postJson(server.url + '/', {tuples})))
    } finally {
      process.kill(pid!, 'SIGCONT')
    }
    for (const r of frozen) {
      expect(r.status).toBe(504)
      expect(r.body.error?.code).toBe('KETO_TIMEOUT')
    }
    await waitFor('answers again', async () => (await postJson(server.url + '/', {tuples: [rel('Role', 'admin', 'member', 'u0')]})).status === 200)
    const answers = await Promise.all(requests.map((tuples) => postJson(server.url + '/', {tuples})))
    for (let i = 0; i < requests.length; i++) expectAnswer(answers[i]!, expected[i]!)
  })

  it("the coalescer over the real Keto adapter: a check whose deadline passes inside a frozen shared call rejects, the call's other check gets Keto's answer", async () => {
    const pool = createUpstreamPool(new URL(keto.urls.read).origin, {connections: 2, requestTimeoutMs: 30_000})
    const pid = keto.pid!
    const sizes: number[] = []
    let freezeNext = false
    const check = coalesceBatchChecks(
      ketoBatchCheck(pool, '', () => {}),
      {
        maxBatch: KETO_MAX_BATCH,
        maxInFlight: 1,
        onCall(tuples) {
          sizes.push(tuples)
          // Freeze Keto before this call's request is written: the call is guaranteed to hang until SIGCONT.
          if (freezeNext) freeze(pid)
        },
      },
    )
    try {
      const shared = [rel('Role', 'admin', 'member', 'u1'), rel('Tenant', 't3', 'member', 'u1')]
      const expectedOther = await oneByOne([rel('Tenant', 't0', 'member', 'u0'), ...shared, rel('Nope0', 'x', 'member', 'u1')])
      // What the aborted check would have been told: an allow, which it must not get after its deadline.
      expect(await oneByOne(shared)).toEqual([{allowed: true}, {allowed: false}])

      freezeNext = true
      const blocker = check([rel('Role', 'admin', 'member', 'u9')]) // alone, in flight, Keto frozen
      freezeNext = false
      const queuedAbort = new AbortController()
      const dropped = outcome(check([rel('Tenant', 't7', 'member', 'u7')], queuedAbort.signal))
      queuedAbort.abort()
      expect(await dropped).toEqual({error: expect.objectContaining({name: 'AbortError'})})
      process.kill(pid, 'SIGCONT')
      expect(await blocker).toEqual([{allowed: false}])

      // Two checks share one call (the slot is taken by a frozen call while they queue), and one of them gives up.
      freezeNext = true
      const holder = check([rel('Role', 'admin', 'member', 'u8')])
      freezeNext = false
      const ac = new AbortController()
      const aborted = outcome(check(shared, ac.signal))
      const other = check([rel('Tenant', 't0', 'member', 'u0'), ...shared, rel('Nope0', 'x', 'member', 'u1')])
      // Let the frozen holder's call end (Keto resumes), then freeze again as the shared call starts.
      freezeNext = true
      process.kill(pid, 'SIGCONT')
      await holder
      freezeNext = false
      ac.abort(new UpstreamError('timeout', "this check's own deadline"))
      expect(await aborted).toEqual({error: expect.objectContaining({kind: 'timeout'})})
      process.kill(pid, 'SIGCONT')
      expect(await other).toEqual(expectedOther)
      // The expired queued check was never sent; the shared call carried the 4 distinct tuples of both checks once.
      expect(sizes).toEqual([1, 1, 4])
    } finally {
      process.kill(pid, 'SIGCONT')
      await pool.close()
    }
  })
})
