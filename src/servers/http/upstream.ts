import {Pool, request} from 'undici'

/**
 * Keep-alive connection pools to upstream APIs (Keto, Kratos) and the classification of what went wrong, so every
 * server maps an upstream failure to the same gateway status: refused/reset → 503, timeout → 504, a non-2xx answer
 * or an unreadable one → 502. None of them is ever a 2xx (fail closed).
 */

export interface UpstreamPoolOptions {
  /** Max sockets kept to the upstream (default 32). */
  connections?: number
  /** TCP connect timeout (default 1 s). Keep it below the whole-request timeout. */
  connectTimeoutMs?: number
  /** Time to the response headers and between body chunks (default 5 s). A caller's AbortSignal can cut it shorter. */
  requestTimeoutMs?: number
  /** Idle keep-alive sockets are closed after this (default 30 s; an upstream's shorter hint wins). */
  keepAliveTimeoutMs?: number
}

/** A base URL split into the Pool's origin and the path prefix every request must carry. */
export interface UpstreamTarget {
  origin: string
  basePath: string
}

export function parseUpstreamUrl(url: string): UpstreamTarget {
  const u = new URL(url)
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`unsupported protocol in ${url}: use http or https`)
  return {origin: u.origin, basePath: u.pathname.replace(/\/+$/, '')}
}

export function createUpstreamPool(origin: string, o: UpstreamPoolOptions = {}): Pool {
  const requestTimeout = o.requestTimeoutMs ?? 5000
  return new Pool(origin, {
    connections: o.connections ?? 32,
    connect: {timeout: o.connectTimeoutMs ?? 1000},
    headersTimeout: requestTimeout,
    bodyTimeout: requestTimeout,
    keepAliveTimeout: o.keepAliveTimeoutMs ?? 30_000,
    keepAliveMaxTimeout: Math.max(o.keepAliveTimeoutMs ?? 30_000, 30_000),
  })
}

export type UpstreamErrorKind = 'unavailable' | 'timeout' | 'status' | 'invalid_response'

export class UpstreamError extends Error {
  readonly kind: UpstreamErrorKind
  /** The upstream's HTTP status for kind 'status'. */
  readonly status?: number
  /** The start of the upstream's answer (for logs; bounded). */
  readonly upstreamBody?: string

  constructor(kind: UpstreamErrorKind, message: string, o: {status?: number; upstreamBody?: string; cause?: unknown} = {}) {
    super(message, o.cause === undefined ? undefined : {cause: o.cause})
    this.name = 'UpstreamError'
    this.kind = kind
    this.status = o.status
    this.upstreamBody = o.upstreamBody
  }
}

/** The status a gateway answers for an upstream failure. */
export function gatewayStatus(kind: UpstreamErrorKind): 502 | 503 | 504 {
  return kind === 'unavailable' ? 503 : kind === 'timeout' ? 504 : 502
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT', 'ABORT_ERR'])
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
])

/** Maps anything a pool request can throw to an UpstreamError (an UpstreamError passes through). */
export function classifyUpstreamError(error: unknown, what = 'upstream'): UpstreamError {
  if (error instanceof UpstreamError) return error
  const e = error as {code?: string; name?: string; message?: string; cause?: {code?: string}} | undefined
  const code = e?.code ?? e?.cause?.code ?? ''
  const message = e?.message ?? String(error)
  if (TIMEOUT_CODES.has(code) || e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return new UpstreamError('timeout', `${what} did not answer in time (${code || e?.name}): ${message}`, {cause: error})
  }
  if (UNAVAILABLE_CODES.has(code)) return new UpstreamError('unavailable', `${what} is unreachable (${code}): ${message}`, {cause: error})
  return new UpstreamError('unavailable', `${what} request failed${code ? ` (${code})` : ''}: ${message}`, {cause: error})
}

/** The first `max` characters of a body for a log line. */
export function truncate(text: string, max = 500): string {
  return text.length <= max ? text : text.slice(0, max) + '…'
}

export interface UpstreamJsonResponse {
  status: number
  body: unknown
}

/**
 * One JSON request through a pool. Non-2xx answers throw UpstreamError kind 'status' (with the body in
 * `upstreamBody`) unless `acceptStatus` says otherwise; unparseable bodies throw 'invalid_response'.
 */
export async function requestJson(
  pool: Pool,
  o: {
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
    path: string
    body?: string
    headers?: Record<string, string>
    signal?: AbortSignal
    what?: string
    acceptStatus?: (status: number) => boolean
  },
): Promise<UpstreamJsonResponse> {
  const what = o.what ?? 'upstream'
  let status: number
  let text: string
  try {
    const res = await pool.request({
      method: o.method,
      path: o.path,
      headers: o.body === undefined ? {accept: 'application/json', ...o.headers} : {accept: 'application/json', 'content-type': 'application/json', ...o.headers},
      body: o.body,
      signal: o.signal,
    })
    status = res.statusCode
    text = await res.body.text()
  } catch (error) {
    throw classifyUpstreamError(error, what)
  }
  const ok = o.acceptStatus ? o.acceptStatus(status) : status >= 200 && status < 300
  if (!ok) throw new UpstreamError('status', `${what} answered HTTP ${status}`, {status, upstreamBody: truncate(text)})
  if (text.length === 0) return {status, body: undefined}
  try {
    return {status, body: JSON.parse(text) as unknown}
  } catch {
    throw new UpstreamError('invalid_response', `${what} answered HTTP ${status} with a body that is not JSON`, {status, upstreamBody: truncate(text)})
  }
}

export interface ReadyProbe {
  ok: boolean
  /** The HTTP status, when the server answered. */
  status?: number
  /** Why it is not ready: `HTTP 503: <start of the body>`, or the network failure in `describeNetworkFailure`'s words. */
  error?: string
}

/**
 * The one readiness probe: `GET <path>` (e.g. `/health/ready`) through a keep-alive pool (the servers' hot path) or
 * on a URL's origin (the CLI: status, up, doctor), ready on 2xx, within `timeoutMs`. Never throws.
 */
export async function probeReady(target: Pool | string, path: string, timeoutMs: number, cancel?: AbortSignal): Promise<ReadyProbe> {
  try {
    const signal = cancel ? AbortSignal.any([AbortSignal.timeout(timeoutMs), cancel]) : AbortSignal.timeout(timeoutMs)
    const options = {method: 'GET' as const, signal, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, headers: {accept: 'application/json'}}
    const res = typeof target === 'string' ? await request(new URL(path, target), options) : await target.request({...options, path})
    if (res.statusCode >= 200 && res.statusCode < 300) {
      await res.body.dump()
      return {ok: true, status: res.statusCode}
    }
    const body = (await res.body.text().catch(() => '')).replaceAll(/\s+/g, ' ').trim().slice(0, 200)
    return {ok: false, status: res.statusCode, error: `HTTP ${res.statusCode}${body ? `: ${body}` : ''}`}
  } catch (error) {
    return {ok: false, error: describeNetworkFailure(error)}
  }
}

/**
 * The one description of a network failure, in a few words for a status line: `timed out`, `connection refused`,
 * `connection reset`, else the error code (`ENOTFOUND`, …) or message. `classifyUpstreamError` sorts the same
 * failures into kinds.
 */
export function describeNetworkFailure(error: unknown): string {
  const classified = classifyUpstreamError(error)
  if (classified.kind === 'timeout') return 'timed out'
  const e = error as {code?: string; cause?: {code?: string; message?: string}; message?: string} | undefined
  const code = e?.code && e.code !== 'UND_ERR' ? e.code : e?.cause?.code
  if (code === 'ECONNREFUSED') return 'connection refused'
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection reset'
  return code ?? e?.cause?.message ?? e?.message ?? String(error)
}

/** Wraps an async check so that concurrent and repeated calls within `ttlMs` share one result. */
export function cached<T>(fn: () => Promise<T>, ttlMs: number, now: () => number = Date.now): () => Promise<T> {
  let value: Promise<T> | undefined
  let at = 0
  return () => {
    const t = now()
    if (value === undefined || t - at >= ttlMs) {
      at = t
      value = fn()
    }
    return value
  }
}
