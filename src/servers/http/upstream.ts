import {Pool, request, type Dispatcher} from 'undici'

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

export interface JsonResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  /** The parsed JSON body; undefined for an empty body (or an unparseable one the caller did not accept). */
  body: unknown
}

export interface JsonRequest {
  method: Dispatcher.HttpMethod
  /** Path with the query, e.g. `/relation-tuples?namespace=Role`. */
  path: string
  /** The origin, when `target` is a dispatcher shared across origins (a Pool knows its own). */
  origin?: string
  body?: string
  headers?: Record<string, string>
  signal?: AbortSignal
  /** Deadline of the whole call (connect, headers, body), combined with `signal`. */
  timeoutMs?: number
  /** Names the upstream in errors, e.g. `Keto`. */
  what?: string
  /** Which statuses are answers the caller handles; the rest throw kind 'status'. Default: 2xx. */
  acceptStatus?: (status: number) => boolean
  /** Largest body read; a larger one is kind 'invalid_response'. Default 8 MiB. */
  maxBytes?: number
}

const DEFAULT_MAX_BYTES = 8 * 1024 * 1024

/**
 * The one outbound HTTP/JSON request of iam (all but the installer's downloads and jose's JWKS fetch): through a
 * keep-alive pool or dispatcher, or on a URL's origin with undici's global one; a deadline, a bounded body, JSON
 * parsed. Failures are UpstreamErrors with a kind — `unavailable`, `timeout`, `status` (an answer outside
 * `acceptStatus`, its message carrying Ory's error reason), `invalid_response` — which the Ory clients map to
 * IamErrors and the servers to 502/503/504.
 */
export async function requestJson(target: Dispatcher | string, o: JsonRequest): Promise<JsonResponse> {
  const what = o.what ?? 'upstream'
  const timeout = o.timeoutMs === undefined ? undefined : AbortSignal.timeout(o.timeoutMs)
  const signal = timeout && o.signal ? AbortSignal.any([timeout, o.signal]) : (timeout ?? o.signal)
  const headers = o.body === undefined ? {accept: 'application/json', ...o.headers} : {accept: 'application/json', 'content-type': 'application/json', ...o.headers}
  let status: number
  let responseHeaders: JsonResponse['headers']
  let text: string
  try {
    const res =
      typeof target === 'string'
        ? await request(new URL(o.path, target), {method: o.method, headers, body: o.body, signal})
        : await target.request({origin: o.origin, method: o.method, path: o.path, headers, body: o.body, signal})
    status = res.statusCode
    responseHeaders = res.headers
    text = await readBounded(res.body, o.maxBytes ?? DEFAULT_MAX_BYTES, what)
  } catch (error) {
    throw classifyUpstreamError(error, what)
  }
  let body: unknown
  let parsed = text.length === 0
  if (!parsed) {
    try {
      body = JSON.parse(text) as unknown
      parsed = true
    } catch {
      // decided below: only an accepted answer must be JSON
    }
  }
  const accepted = o.acceptStatus ? o.acceptStatus(status) : status >= 200 && status < 300
  if (!accepted) {
    const reason = parsed ? errorReason(body) : undefined
    throw new UpstreamError('status', `${what} answered HTTP ${status}${reason ? `: ${reason}` : ''}`, {status, upstreamBody: truncate(text)})
  }
  if (!parsed) throw new UpstreamError('invalid_response', `${what} answered HTTP ${status} with a body that is not JSON`, {status, upstreamBody: truncate(text)})
  return {status, headers: responseHeaders, body}
}

/** The text inside an Ory-style error body `{"error": {"message", "reason"}}`, if that is what it is. */
export function errorReason(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined
  const error = (body as {error?: unknown}).error
  if (!error || typeof error !== 'object') return undefined
  const e = error as {reason?: unknown; message?: unknown}
  const parts = [e.message, e.reason].filter((p): p is string => typeof p === 'string' && p.length > 0)
  return parts.length > 0 ? parts.join(': ') : undefined
}

async function readBounded(body: Dispatcher.ResponseData['body'], maxBytes: number, what: string): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    const buf = chunk as Buffer
    size += buf.length
    if (size > maxBytes) {
      body.destroy()
      throw new UpstreamError('invalid_response', `${what} answered more than ${maxBytes} bytes`)
    }
    chunks.push(buf)
  }
  return chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')
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
  let status: number
  let text: string
  try {
    const res = await requestJson(target, {method: 'GET', path, timeoutMs, ...(cancel ? {signal: cancel} : {}), acceptStatus: () => true, maxBytes: 64 * 1024})
    status = res.status
    text = res.body === undefined ? '' : JSON.stringify(res.body)
  } catch (error) {
    // A health answer need not be JSON: the status decides.
    if (error instanceof UpstreamError && error.kind === 'invalid_response' && error.status !== undefined) {
      status = error.status
      text = error.upstreamBody ?? ''
    } else return {ok: false, error: describeNetworkFailure(error)}
  }
  if (status >= 200 && status < 300) return {ok: true, status}
  const body = text.replaceAll(/\s+/g, ' ').trim().slice(0, 200)
  return {ok: false, status, error: `HTTP ${status}${body ? `: ${body}` : ''}`}
}

/**
 * The one description of a network failure, in a few words for a status line: `timed out`, `connection refused`,
 * `connection reset`, else the error code (`ENOTFOUND`, …) or message. `classifyUpstreamError` sorts the same
 * failures into kinds.
 */
export function describeNetworkFailure(error: unknown): string {
  if (error instanceof UpstreamError) {
    if (error.kind === 'timeout') return 'timed out'
    return error.cause === undefined ? error.message : describeNetworkFailure(error.cause)
  }
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
