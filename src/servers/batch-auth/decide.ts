import {DecisionCache} from './cache.js'
import type {Tuple} from './validate.js'

/** What Keto answers per tuple (`checkPermissionResultWithError`). */
export interface KetoResult {
  allowed: boolean
  error?: string
}

/** Per input tuple in the response: Keto's answer, or `skipped` when another tuple was allowed first. */
export type TupleResult = KetoResult | {allowed: false; skipped: true}

export interface Decision {
  allowed: boolean
  results: TupleResult[]
}

/** Checks one batch (at most Keto's maximum); resolves with one result per tuple, in order, or throws. */
export type BatchCheck = (tuples: Tuple[], signal?: AbortSignal) => Promise<KetoResult[]>

// Shared immutable results: no allocation per tuple for the common answers.
const ALLOWED: TupleResult = Object.freeze({allowed: true})
const DENIED: TupleResult = Object.freeze({allowed: false})
const SKIPPED: TupleResult = Object.freeze({allowed: false, skipped: true} as const)

function toResult(r: KetoResult): TupleResult {
  if (r.error !== undefined && r.error !== '') return {allowed: r.allowed, error: r.error}
  return r.allowed ? ALLOWED : DENIED
}

/**
 * OR over the tuples: allowed as soon as any tuple is allowed. Tuples are split into batches of `maxBatch`, all sent
 * at once; the first batch with an allowed tuple settles the answer (the other batches are left to finish in the
 * background so their keep-alive connections survive, and their results are reported as `skipped`).
 * When no tuple is allowed and any batch failed, the failure is thrown: a failed batch might have allowed, so the
 * answer is neither allow nor deny.
 */
export function decide(
  tuples: Tuple[],
  o: {maxBatch: number; batchCheck: BatchCheck; signal?: AbortSignal; cache?: DecisionCache},
): Promise<Decision> {
  const n = tuples.length
  const cache = o.cache
  // The common case (no cache, one batch): one Keto call, no bookkeeping closures.
  if (cache === undefined && n <= o.maxBatch) {
    return o.batchCheck(tuples, o.signal).then((answers) => {
      const out = new Array<TupleResult>(answers.length)
      let allowed = false
      for (let i = 0; i < answers.length; i++) {
        const a = answers[i]!
        out[i] = toResult(a)
        if (a.allowed) allowed = true
      }
      return {allowed, results: out}
    })
  }
  const results = new Array<TupleResult | undefined>(n)
  let keys: string[] | undefined
  let pending: number[] | undefined // indices still to ask Keto about; undefined means all
  if (cache !== undefined) {
    keys = new Array<string>(n)
    pending = []
    for (let i = 0; i < n; i++) {
      const key = DecisionCache.key(tuples[i]!)
      keys[i] = key
      const hit = cache.get(key)
      if (hit === undefined) pending.push(i)
      else if (hit) {
        results[i] = ALLOWED
        return Promise.resolve({allowed: true, results: fill(results)})
      } else results[i] = DENIED
    }
    if (pending.length === 0) return Promise.resolve({allowed: false, results: results as TupleResult[]})
  }

  const count = pending === undefined ? n : pending.length
  const batchOf = (start: number): {tuples: Tuple[]; index: (j: number) => number} => {
    const end = Math.min(start + o.maxBatch, count)
    if (pending === undefined) {
      return {tuples: start === 0 && end === n ? tuples : tuples.slice(start, end), index: (j) => start + j}
    }
    const idx = pending.slice(start, end)
    return {tuples: idx.map((i) => tuples[i]!), index: (j) => idx[j]!}
  }
  // Writes a batch's answers into `results`; returns whether one was allowed.
  const apply = (batch: {tuples: Tuple[]; index: (j: number) => number}, answers: KetoResult[]): boolean => {
    let allowed = false
    for (let j = 0; j < answers.length; j++) {
      const a = answers[j]!
      const i = batch.index(j)
      results[i] = toResult(a)
      if (a.allowed) allowed = true
      if (cache !== undefined && (a.error === undefined || a.error === '')) cache.set(keys![i]!, a.allowed)
    }
    return allowed
  }

  if (count <= o.maxBatch) {
    const batch = batchOf(0)
    return o.batchCheck(batch.tuples, o.signal).then((answers) => {
      const allowed = apply(batch, answers)
      return {allowed, results: results as TupleResult[]}
    })
  }

  return new Promise<Decision>((resolve, reject) => {
    let remaining = Math.ceil(count / o.maxBatch)
    let settled = false
    let failure: unknown
    const finish = (): void => {
      settled = true
      if (failure !== undefined) reject(failure)
      else resolve({allowed: false, results: results as TupleResult[]})
    }
    for (let start = 0; start < count; start += o.maxBatch) {
      const batch = batchOf(start)
      o.batchCheck(batch.tuples, o.signal).then(
        (answers) => {
          if (settled) return
          if (apply(batch, answers)) {
            settled = true
            resolve({allowed: true, results: fill(results)})
          } else if (--remaining === 0) finish()
        },
        (error: unknown) => {
          if (settled) return
          failure ??= error
          if (--remaining === 0) finish()
        },
      )
    }
  })
}

function fill(results: (TupleResult | undefined)[]): TupleResult[] {
  for (let i = 0; i < results.length; i++) if (results[i] === undefined) results[i] = SKIPPED
  return results as TupleResult[]
}
