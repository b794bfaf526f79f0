import type {Tuple} from './validate.js'

/**
 * Optional per-tuple decision cache (off by default). Bounded (oldest entry evicted first) with a short TTL.
 * Trade-off: a permission revoked in Keto keeps being allowed from the cache for up to the TTL (and a new grant
 * keeps being denied for as long). Only definite answers are cached, never errors.
 */
export class DecisionCache {
  private readonly entries = new Map<string, {allowed: boolean; expires: number}>()

  constructor(
    readonly ttlMs: number,
    readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  static key(t: Tuple): string {
    const s = t.subject_set
    return JSON.stringify(
      s === undefined ? [t.namespace, t.object, t.relation, t.subject_id] : [t.namespace, t.object, t.relation, s.namespace, s.object, s.relation],
    )
  }

  get(key: string): boolean | undefined {
    const e = this.entries.get(key)
    if (e === undefined) return undefined
    if (e.expires <= this.now()) {
      this.entries.delete(key)
      return undefined
    }
    return e.allowed
  }

  set(key: string, allowed: boolean): void {
    this.entries.delete(key)
    this.entries.set(key, {allowed, expires: this.now() + this.ttlMs})
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next()
      if (!oldest.done) this.entries.delete(oldest.value)
    }
  }

  get size(): number {
    return this.entries.size
  }
}
