import {describe, expect, it} from 'vitest'

import {DecisionCache, decide, type BatchCheck, type KetoResult, type Tuple} from '../../../src/servers/batch-auth/index.js'
import {UpstreamError} from '../../../src/servers/http/index.js'

// These tests drive our OR/batching logic through an in-process BatchCheck; Keto itself is exercised in keto.test.ts.
const tuple = (i: number): Tuple => ({namespace: 'Doc', object: `o${i}`, relation: 'view', subject_id: 'u'})
const tuples = (n: number): Tuple[] => Array.from({length: n}, (_, i) => tuple(i))
const signal = new AbortController().signal

function recorder(answer: (t: Tuple) => KetoResult | Error, delays: (batchIndex: number) => number = () => 0) {
  const batches: Tuple[][] = []
  const finished: number[] = []
  const check: BatchCheck = async (ts) => {
    const index = batches.length
    batches.push(ts)
    await new Promise((r) => setTimeout(r, delays(index)))
    finished.push(index)
    const answers = ts.map(answer)
    const failure = answers.find((a): a is Error => a instanceof Error)
    if (failure) throw failure
    return answers as KetoResult[]
  }
  return {batches, finished, check}
}

describe('decide', () => {
  it('splits into batches of maxBatch and keeps results in input order', async () => {
    const r = recorder(() => ({allowed: false}))
    const d = await decide(tuples(35), {maxBatch: 10, batchCheck: r.check, signal})
    expect(r.batches.map((b) => b.length)).toEqual([10, 10, 10, 5])
    expect(r.batches.flat().map((t) => t.object)).toEqual(tuples(35).map((t) => t.object))
    expect(d.allowed).toBe(false)
    expect(d.results).toHaveLength(35)
  })

  it('answers as soon as one batch allows, marking unfinished batches skipped', async () => {
    // Batch 3 (tuples 30..34) allows tuple 32 and answers first; the others are slow.
    const r = recorder((t) => ({allowed: t.object === 'o32'}), (b) => (b === 3 ? 0 : 200))
    const d = await decide(tuples(35), {maxBatch: 10, batchCheck: r.check, signal})
    // Answered when only the allowing batch had finished.
    expect(r.finished).toEqual([3])
    expect(d.allowed).toBe(true)
    expect(d.results[32]).toEqual({allowed: true})
    expect(d.results[0]).toEqual({allowed: false, skipped: true})
  })

  it('an allowed tuple wins over a failed batch; without one, the failure is thrown', async () => {
    const failing = (t: Tuple): KetoResult | Error => (t.object === 'o1' ? new UpstreamError('status', 'Keto answered HTTP 500') : {allowed: t.object === 'o12'})
    const r = recorder(failing)
    expect((await decide(tuples(15), {maxBatch: 10, batchCheck: r.check, signal})).allowed).toBe(true)
    const r2 = recorder((t) => (t.object === 'o1' ? new UpstreamError('status', 'boom') : {allowed: false}))
    await expect(decide(tuples(15), {maxBatch: 10, batchCheck: r2.check, signal})).rejects.toThrow('boom')
  })

  it('reports Keto per-tuple errors and treats them as not allowed', async () => {
    const r = recorder((t) => (t.object === 'o0' ? {allowed: false, error: 'namespace not found'} : {allowed: false}))
    const d = await decide(tuples(2), {maxBatch: 10, batchCheck: r.check, signal})
    expect(d).toEqual({allowed: false, results: [{allowed: false, error: 'namespace not found'}, {allowed: false}]})
  })

  it('with a cache, answers repeated tuples without Keto until the TTL passes', async () => {
    let now = 0
    const cache = new DecisionCache(1000, 100, () => now)
    const r = recorder((t) => ({allowed: t.object === 'o1'}))
    await decide(tuples(2), {maxBatch: 10, batchCheck: r.check, signal, cache})
    const again = await decide(tuples(2), {maxBatch: 10, batchCheck: r.check, signal, cache})
    expect(again.allowed).toBe(true)
    expect(r.batches).toHaveLength(1)
    // Denied-only hits still need no Keto call.
    const denied = await decide([tuple(0)], {maxBatch: 10, batchCheck: r.check, signal, cache})
    expect(denied.allowed).toBe(false)
    expect(r.batches).toHaveLength(1)
    now = 1000
    await decide(tuples(2), {maxBatch: 10, batchCheck: r.check, signal, cache})
    expect(r.batches).toHaveLength(2)
  })

  it('the cache is bounded and never stores errors', () => {
    const cache = new DecisionCache(1000, 2)
    cache.set('a', true)
    cache.set('b', false)
    cache.set('c', true)
    expect(cache.size).toBe(2)
    expect(cache.get('a')).toBeUndefined()
    expect(cache.get('c')).toBe(true)
  })
})
