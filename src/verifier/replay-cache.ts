/**
 * Remembers token ids (`jti`) until their token expires, so a token presented twice is rejected.
 * Implement this over Redis (e.g. `SET jti 1 NX PXAT expiresAt`, true when the SET happened) for services running as
 * several instances.
 */
export interface ReplayCache {
  /**
   * Records `jti` until `expiresAt` (epoch ms) and returns true when it had not been seen, false for a replay.
   * Must be atomic: of two concurrent calls with the same jti exactly one returns true.
   */
  checkAndStore(jti: string, expiresAt: number): Promise<boolean>
}

export interface MemoryReplayCacheOptions {
  /** Most ids kept (default 100 000, about 10 MB). When full, the oldest entry is evicted. */
  maxEntries?: number
  now?: () => number
}

/**
 * Bounded in-memory replay cache. Entries live until their token's expiry. The Map keeps insertion order, which with a
 * fixed token TTL is also expiry order: every 256 inserts (and whenever the bound is reached) a sweep removes expired
 * entries from the front, and when the cache is full of live entries the oldest (the one expiring soonest) is evicted.
 * The common path is one Map lookup and one insert: this runs once per verified token. (With mixed token TTLs an
 * entry expiring late can hold expired ones behind it until the bound evicts it; the bound always holds.)
 */
export class MemoryReplayCache implements ReplayCache {
  readonly maxEntries: number
  private readonly entries = new Map<string, number>()
  private readonly now: () => number
  private sinceSweep = 0

  constructor(options: MemoryReplayCacheOptions = {}) {
    const max = options.maxEntries ?? 100_000
    if (!Number.isInteger(max) || max < 1) throw new TypeError('maxEntries must be a positive integer')
    this.maxEntries = max
    this.now = options.now ?? Date.now
  }

  get size(): number {
    return this.entries.size
  }

  async checkAndStore(jti: string, expiresAt: number): Promise<boolean> {
    return this.checkAndStoreSync(jti, expiresAt)
  }

  /** Synchronous form (the verifier uses it to skip a promise per token). */
  checkAndStoreSync(jti: string, expiresAt: number): boolean {
    const seen = this.entries.get(jti)
    if (seen !== undefined) {
      if (seen > this.now()) return false
      // Seen, but so long ago that its token has expired: store it again, at the back.
      this.entries.delete(jti)
    }
    if (++this.sinceSweep >= 256 || this.entries.size >= this.maxEntries) this.sweep(this.now())
    this.entries.set(jti, expiresAt)
    return true
  }

  private sweep(now: number): void {
    this.sinceSweep = 0
    for (const [jti, expiresAt] of this.entries) {
      if (expiresAt > now && this.entries.size < this.maxEntries) break
      this.entries.delete(jti)
    }
  }
}
