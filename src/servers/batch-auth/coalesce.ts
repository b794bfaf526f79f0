import {UpstreamError} from '../http/index.js'
import type {BatchCheck, KetoResult} from './decide.js'
import type {Tuple} from './validate.js'

export interface CoalesceOptions {
  /** Most distinct tuples in one call of the wrapped check: Keto's `limit.max_batch_check_size`. */
  maxBatch: number
  /** Most calls of the wrapped check running at once (default 2); later checks queue and ride the next call. */
  maxInFlight?: number
  /**
   * Deadline of each check, counted from when it is handed over (0 or absent: none besides its signal). At the
   * deadline the check rejects with `timeoutError` and its tuples are dropped from the queue; a call already
   * carrying them runs on for the others. Cheaper than an AbortSignal per check (an AbortController costs ~7 µs).
   */
  timeoutMs?: number
  timeoutError?: Error
  /** Called when a call of the wrapped check starts: its distinct tuples and the checks it answers. */
  onCall?: (tuples: number, checks: number) => void
}

export const DEFAULT_MAX_IN_FLIGHT = 2

// A call carrying one check whole needs no routing tables; solo calls share these (never written).
const NO_OWNERS: Waiter[] = []
const NO_INDICES: number[] = []

/**
 * Wraps a batch check (Keto's) so that concurrent checks share calls: while `maxInFlight` calls are running, checks
 * queue; when a call ends, the next one carries the queued tuples in arrival order, up to `maxBatch` distinct ones
 * (identical tuples are asked once and the answer goes to every check that asked). No timer: with a call slot free
 * a check goes out at once, alone. Each check keeps its own deadline (`timeoutMs`, its AbortSignal) and its own
 * outcome: a call that fails fails exactly the checks it carried; a check that gives up never cancels the shared call.
 * The AbortSignal is honoured here and never handed to the wrapped check, since aborting the shared request would
 * fail the others (and cost the keep-alive socket).
 */
export function coalesceBatchChecks(inner: BatchCheck, o: CoalesceOptions): BatchCheck {
  const c = new Coalescer(inner, o)
  return (tuples, signal) => c.check(tuples, signal)
}

/** One check waiting for its answers; its tuples may ride one call or, when larger than a call, several. */
class Waiter {
  /** Index of the first tuple not yet placed in a call. */
  next = 0
  remaining: number
  /** One answer per tuple; unused when a call carries this check alone (that call's answers are the answer). */
  results: KetoResult[] | undefined
  done = false
  timer: NodeJS.Timeout | undefined

  constructor(
    readonly tuples: Tuple[],
    readonly signal: AbortSignal | undefined,
    private readonly resolve: (answers: KetoResult[]) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.remaining = tuples.length
  }

  succeed(answers: KetoResult[]): void {
    if (this.done) return
    this.settle()
    this.resolve(answers)
  }

  fail(error: unknown): void {
    if (this.done) return
    this.settle()
    this.reject(error)
  }

  private settle(): void {
    this.done = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    // The listener object is the waiter itself: no closure per check.
    if (this.signal !== undefined) this.signal.removeEventListener('abort', this)
  }

  /** The signal's abort listener. */
  handleEvent(): void {
    this.fail(this.signal!.reason)
  }
}

function expire(w: Waiter, error: Error): void {
  w.timer = undefined
  w.fail(error)
}

function sameTuple(a: Tuple, b: Tuple): boolean {
  if (a.object !== b.object || a.relation !== b.relation || a.namespace !== b.namespace) return false
  const sa = a.subject_set
  const sb = b.subject_set
  if (sa === undefined || sb === undefined) return sa === sb && a.subject_id === b.subject_id
  return sa.object === sb.object && sa.relation === sb.relation && sa.namespace === sb.namespace
}

/** What one call carries: its distinct tuples and, per (check, tuple) it answers, which of them is the answer. */
interface Call {
  tuples: Tuple[]
  /** A check carried whole and alone: the call's answers are its answers, no routing. */
  solo: Waiter | undefined
  owners: Waiter[]
  /** Index of the tuple in its owner's request. */
  at: number[]
  /** Index of the tuple in `tuples`. */
  slot: number[]
}

class Coalescer {
  private readonly maxBatch: number
  private readonly maxInFlight: number
  private readonly timeoutMs: number
  private readonly timeoutError: Error
  private inFlight = 0
  /** FIFO of checks with tuples not yet sent, from `head` on (dead ones are skipped when reached). */
  private queue: Waiter[] = []
  private head = 0

  constructor(
    private readonly inner: BatchCheck,
    private readonly o: CoalesceOptions,
  ) {
    if (!(o.maxBatch >= 1)) throw new RangeError(`maxBatch must be at least 1, got ${o.maxBatch}`)
    this.maxBatch = o.maxBatch
    this.maxInFlight = o.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT
    if (!(this.maxInFlight >= 1)) throw new RangeError(`maxInFlight must be at least 1, got ${this.maxInFlight}`)
    this.timeoutMs = o.timeoutMs ?? 0
    this.timeoutError = o.timeoutError ?? new UpstreamError('timeout', `Keto did not answer within ${this.timeoutMs} ms`)
  }

  check(tuples: Tuple[], signal?: AbortSignal): Promise<KetoResult[]> {
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (tuples.length === 0) return Promise.resolve([])
    let w!: Waiter
    const promise = new Promise<KetoResult[]>((resolve, reject) => {
      w = new Waiter(tuples, signal, resolve, reject)
    })
    if (this.timeoutMs > 0) w.timer = setTimeout(expire, this.timeoutMs, w, this.timeoutError)
    if (signal !== undefined) signal.addEventListener('abort', w)
    // Invariant: the queue holds live checks only while every call slot is taken, so a free slot means nobody waits.
    if (this.inFlight < this.maxInFlight && tuples.length <= this.maxBatch) {
      w.next = tuples.length
      this.start({tuples, solo: w, owners: NO_OWNERS, at: NO_INDICES, slot: NO_INDICES})
    } else {
      this.queue.push(w)
      this.pump()
    }
    return promise
  }

  /** Starts calls while a slot is free and live checks wait. */
  private pump(): void {
    while (this.inFlight < this.maxInFlight) {
      const call = this.take()
      if (call === undefined) return
      this.start(call)
    }
  }

  /** The next call's load from the queue's front, or undefined when no live check waits. */
  private take(): Call | undefined {
    const q = this.queue
    while (this.head < q.length && q[this.head]!.done) this.head++
    if (this.head === q.length) {
      q.length = 0
      this.head = 0
      return undefined
    }
    const max = this.maxBatch
    const first = q[this.head]!
    // One live check whose remaining tuples fit: it rides alone unless others wait behind it.
    if (first.next === 0 && first.tuples.length <= max && !this.anyLiveAfter(this.head + 1)) {
      this.head++
      first.next = first.tuples.length
      return {tuples: first.tuples, solo: first, owners: NO_OWNERS, at: NO_INDICES, slot: NO_INDICES}
    }
    const call: Call = {tuples: [], solo: undefined, owners: [], at: [], slot: []}
    const {tuples, owners, at, slot} = call
    while (this.head < q.length) {
      const w = q[this.head]!
      if (w.done) {
        this.head++
        continue
      }
      w.results ??= new Array<KetoResult>(w.tuples.length)
      // A check goes whole into one call when it can; it is split only when it is larger than a call on its own.
      const empty = tuples.length === 0
      const mark = owners.length
      const distinct = tuples.length
      const from = w.next
      for (let i = from; i < w.tuples.length; i++) {
        const t = w.tuples[i]!
        let s = 0
        while (s < tuples.length && !sameTuple(tuples[s]!, t)) s++
        if (s === tuples.length) {
          if (s === max) break
          tuples.push(t)
        }
        owners.push(w)
        at.push(i)
        slot.push(s)
        w.next = i + 1
      }
      if (w.next === w.tuples.length) {
        this.head++
        continue
      }
      if (!empty) {
        // Does not fit behind the others: undo, it leads the next call.
        tuples.length = distinct
        owners.length = mark
        at.length = mark
        slot.length = mark
        w.next = from
      }
      break
    }
    if (this.head === q.length) {
      q.length = 0
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head)
      this.head = 0
    }
    return call
  }

  private anyLiveAfter(i: number): boolean {
    const q = this.queue
    for (; i < q.length; i++) if (!q[i]!.done) return true
    return false
  }

  private start(call: Call): void {
    this.inFlight++
    this.o.onCall?.(call.tuples.length, call.solo === undefined ? countChecks(call.owners) : 1)
    let pending: Promise<KetoResult[]>
    try {
      pending = this.inner(call.tuples)
    } catch (error) {
      pending = Promise.reject(error)
    }
    pending.then(
      (answers) => {
        this.inFlight--
        this.pump()
        if (answers.length !== call.tuples.length) {
          fail(call, new UpstreamError('invalid_response', `Keto answered ${answers.length} results for ${call.tuples.length} tuples`))
        } else if (call.solo !== undefined) call.solo.succeed(answers)
        else route(call, answers)
      },
      (error: unknown) => {
        this.inFlight--
        this.pump()
        fail(call, error)
      },
    )
  }
}

function route(call: Call, answers: KetoResult[]): void {
  const {owners, at, slot} = call
  for (let k = 0; k < owners.length; k++) {
    const w = owners[k]!
    if (w.done) continue
    w.results![at[k]!] = answers[slot[k]!]!
    if (--w.remaining === 0) w.succeed(w.results!)
  }
}

function fail(call: Call, error: unknown): void {
  if (call.solo !== undefined) call.solo.fail(error)
  else for (const w of call.owners) w.fail(error)
}

function countChecks(owners: Waiter[]): number {
  let n = 0
  for (let k = 0; k < owners.length; k++) if (k === 0 || owners[k] !== owners[k - 1]) n++
  return n
}
