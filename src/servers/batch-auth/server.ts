import type {IncomingMessage, ServerResponse} from 'node:http'

import {
  cached,
  classifyUpstreamError,
  createLogger,
  createUpstreamPool,
  gatewayStatus,
  HttpError,
  MetricsRegistry,
  parseUpstreamUrl,
  probeReady,
  readJsonBody,
  sendJson,
  startHttpServer,
  UpstreamError,
  type Logger,
  type RunningServer,
  type UpstreamErrorKind,
} from '../http/index.js'
import {DecisionCache} from './cache.js'
import {coalesceBatchChecks, DEFAULT_MAX_IN_FLIGHT} from './coalesce.js'
import {decide, type BatchCheck} from './decide.js'
import {ketoBatchCheck} from './keto.js'
import {parseCheckRequest} from './validate.js'

export interface BatchAuthOptions {
  host: string
  port: number
  /** Keto's read API base URL, e.g. http://127.0.0.1:4466 */
  ketoReadUrl: string
  /** Deadline for a whole check, all batches included. */
  timeoutMs: number
  /** TCP connect timeout to Keto (default: a quarter of timeoutMs, at most 1 s). */
  connectTimeoutMs?: number
  maxBodyBytes: number
  maxTuples: number
  /** Tuples per Keto request: Keto's `limit.max_batch_check_size`. */
  maxBatch: number
  /** 0 disables the decision cache. */
  cacheTtlMs: number
  cacheSize: number
  /** Sockets kept open to Keto. */
  connections: number
  /**
   * Share Keto calls between concurrent checks (default true): while `maxInFlight` calls run, checks queue and the
   * next call carries them all (up to `maxBatch` distinct tuples). false: one Keto call per check (and per batch).
   */
  coalesce?: boolean
  /** With `coalesce`: most Keto calls running at once (default 2). */
  maxInFlight?: number
  logger?: Logger
  /** How long /health/ready reuses one Keto probe. */
  readyCacheMs?: number
  shutdownTimeoutMs?: number
}

export const BATCH_AUTH_DEFAULTS = {
  host: '127.0.0.1',
  port: 4470,
  ketoReadUrl: 'http://127.0.0.1:4466',
  timeoutMs: 2000,
  maxBodyBytes: 64 * 1024,
  maxTuples: 100,
  maxBatch: 10,
  cacheTtlMs: 0,
  cacheSize: 10_000,
  connections: 64,
  coalesce: true,
  maxInFlight: DEFAULT_MAX_IN_FLIGHT,
} as const satisfies Omit<BatchAuthOptions, 'logger'>

export interface BatchAuthServer {
  readonly url: string
  readonly port: number
  readonly metrics: MetricsRegistry
  /** Graceful: stop accepting, finish in-flight checks, close the Keto pool. */
  close(): Promise<void>
}

// Tuples / checks per Keto request.
const SIZE_BUCKETS = [1, 2, 5, 10, 20, 50, 100]

const ERROR_CODES: Record<UpstreamErrorKind, string> = {
  unavailable: 'KETO_UNAVAILABLE',
  timeout: 'KETO_TIMEOUT',
  status: 'KETO_ERROR',
  invalid_response: 'KETO_INVALID_RESPONSE',
}

export async function startBatchAuth(o: BatchAuthOptions): Promise<BatchAuthServer> {
  const logger = o.logger ?? createLogger({base: {service: 'batch-auth'}})
  const keto = parseUpstreamUrl(o.ketoReadUrl)
  const connectTimeoutMs = o.connectTimeoutMs ?? Math.max(50, Math.min(1000, Math.floor(o.timeoutMs / 4)))
  const pool = createUpstreamPool(keto.origin, {connections: o.connections, connectTimeoutMs, requestTimeoutMs: o.timeoutMs})

  const metrics = new MetricsRegistry()
  const decisions = metrics.counter('batch_auth_decisions_total', 'Authorization decisions by outcome.', ['outcome'])
  const allowedCount = decisions.labels('allowed')
  const deniedCount = decisions.labels('denied')
  const errorCount = decisions.labels('error')
  const invalidCount = decisions.labels('invalid')
  const errors = metrics.counter('batch_auth_errors_total', 'Errors by kind.', ['kind'])
  const errorByKind: Record<string, {inc(): void}> = {}
  for (const kind of ['keto_unavailable', 'keto_timeout', 'keto_status', 'keto_invalid_response', 'bad_request', 'body_too_large', 'unsupported_media_type']) {
    errorByKind[kind] = errors.labels(kind)
  }
  const ketoLatency = metrics.histogram('batch_auth_keto_request_duration_seconds', 'Latency of Keto batch check requests.').labels()
  const checkLatency = metrics.histogram('batch_auth_check_duration_seconds', 'Latency of whole checks (all batches), Keto errors included.')
  const cache = o.cacheTtlMs > 0 ? new DecisionCache(o.cacheTtlMs, o.cacheSize) : undefined

  const timeoutError = new UpstreamError('timeout', `Keto did not answer within ${o.timeoutMs} ms`)
  const coalesce = o.coalesce ?? true
  const maxInFlight = o.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT
  const askKeto = ketoBatchCheck(pool, keto.basePath, (s) => ketoLatency.observe(s))
  // After a check timed out Keto is frozen or overloaded: for a short window, checks that need Keto fail at once
  // (cached decisions still answer). Oathkeeper retries a 5xx four times, so without this a frozen Keto cost every
  // gateway request five deadlines (10 s); now it costs one. Fail closed either way.
  const failFastMs = Math.min(1000, o.timeoutMs)
  let ketoTimedOutAt = -Infinity
  const ketoCheck: BatchCheck = (tuples, signal) => {
    const since = performance.now() - ketoTimedOutAt
    if (since < failFastMs) {
      return Promise.reject(new UpstreamError('timeout', `Keto did not answer within ${o.timeoutMs} ms ${Math.round(since)} ms ago; failing fast for ${failFastMs} ms after a timeout`))
    }
    return askKeto(tuples, signal)
  }
  let batchCheck: BatchCheck = ketoCheck
  if (coalesce) {
    const batchTuples = metrics.histogram('batch_auth_keto_batch_tuples', 'Distinct tuples per Keto batch check request.', {buckets: SIZE_BUCKETS}).labels()
    const batchChecks = metrics.histogram('batch_auth_keto_batch_checks', 'Checks (requests, or batches of one) answered per Keto request.', {buckets: SIZE_BUCKETS}).labels()
    // The coalescer owns each check's deadline (a timer per check, as before): no AbortController on the hot path.
    batchCheck = coalesceBatchChecks(ketoCheck, {
      maxBatch: o.maxBatch,
      maxInFlight,
      timeoutMs: o.timeoutMs,
      timeoutError,
      onCall(tuples, checks) {
        batchTuples.observe(tuples)
        batchChecks.observe(checks)
      },
    })
  }

  // Keto failures come in bursts (Keto down under load): log the first, then at most one line per second with a count.
  let lastErrorLog = 0
  let suppressed = 0
  const logKetoError = (u: UpstreamError): void => {
    const now = Date.now()
    if (now - lastErrorLog < 1000) {
      suppressed++
      return
    }
    logger.warn('keto check failed: answering with a gateway error (Oathkeeper denies)', {
      kind: u.kind,
      reason: u.message,
      ...(u.status === undefined ? {} : {ketoStatus: u.status}),
      ...(u.upstreamBody === undefined ? {} : {ketoBody: u.upstreamBody}),
      ...(suppressed > 0 ? {suppressedSinceLast: suppressed} : {}),
    })
    lastErrorLog = now
    suppressed = 0
  }

  const check = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now()
    let tuples
    try {
      tuples = parseCheckRequest(await readJsonBody(req, {maxBytes: o.maxBodyBytes}), {maxTuples: o.maxTuples})
    } catch (error) {
      invalidCount.inc()
      if (error instanceof HttpError) {
        errorByKind[error.status === 413 ? 'body_too_large' : error.status === 415 ? 'unsupported_media_type' : 'bad_request']!.inc()
        if (logger.enabled('debug')) logger.debug('rejected request', {status: error.status, code: error.code, field: error.field})
      }
      throw error
    }
    // The whole-check deadline: the coalescer's per-check timer, or (without it) a race against the decision. The Keto
    // requests themselves are bounded by the pool's headers/body timeouts (the same value), so no AbortController or
    // signal is needed on the hot path.
    let timer: NodeJS.Timeout | undefined
    let decision
    try {
      const decided = decide(tuples, {maxBatch: o.maxBatch, batchCheck, cache})
      decision = coalesce
        ? await decided
        : await Promise.race([
            decided,
            new Promise<never>((_resolve, reject) => {
              timer = setTimeout(reject, o.timeoutMs, timeoutError)
            }),
          ])
    } catch (error) {
      const u = classifyUpstreamError(error, 'Keto')
      if (error === timeoutError) ketoTimedOutAt = performance.now()
      errorCount.inc()
      errorByKind[`keto_${u.kind}`]!.inc()
      logKetoError(u)
      throw new HttpError(gatewayStatus(u.kind), ERROR_CODES[u.kind], u.message, {
        details: u.status === undefined ? undefined : {keto_status: u.status},
      })
    } finally {
      clearTimeout(timer)
      checkLatency.observe((performance.now() - started) / 1000)
    }
    if (decision.allowed) {
      allowedCount.inc()
      sendJson(res, 200, JSON.stringify({authorized: true, results: decision.results}))
    } else {
      deniedCount.inc()
      if (logger.enabled('debug')) logger.debug('denied', {tuples: tuples.length})
      sendJson(res, 403, JSON.stringify({authorized: false, results: decision.results}))
    }
  }

  const readyTimeout = Math.min(1000, o.timeoutMs)
  const ketoReady = cached(() => probeReady(pool, `${keto.basePath}/health/ready`, readyTimeout), o.readyCacheMs ?? 1000)
  let running: RunningServer
  try {
    running = await startHttpServer({
      name: 'batch-auth',
      host: o.host,
      port: o.port,
      logger,
      metrics,
      shutdownTimeoutMs: o.shutdownTimeoutMs,
      routes: {'/': {POST: check}, '/check': {POST: check}},
      async ready() {
        const k = await ketoReady()
        return {ok: k.ok, checks: {keto: k.ok ? 'ok' : (k.error ?? 'not ready')}}
      },
    })
  } catch (error) {
    await pool.close()
    throw error
  }
  logger.info('batch-auth ready to serve', {
    keto: o.ketoReadUrl,
    timeoutMs: o.timeoutMs,
    connectTimeoutMs,
    maxBodyBytes: o.maxBodyBytes,
    maxTuples: o.maxTuples,
    maxBatch: o.maxBatch,
    coalesce: coalesce ? {maxInFlight} : 'off',
    cache: cache ? {ttlMs: o.cacheTtlMs, size: o.cacheSize} : 'off',
  })

  let closed: Promise<void> | undefined
  return {
    url: running.url,
    port: running.port,
    metrics,
    close: () =>
      (closed ??= (async () => {
        await running.close()
        await pool.close()
      })()),
  }
}
