import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

import {HttpError} from './errors.js'
import type {Logger} from './logger.js'
import {METRICS_CONTENT_TYPE, type MetricsRegistry} from './metrics.js'
import {sendError, sendJson, sendText} from './respond.js'

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>
/** Exact paths (no query string) → handlers by method. Unknown path → 404, known path with another method → 405 + Allow. */
export type Routes = Record<string, Partial<Record<HttpMethod, Handler>>>

export interface ReadyState {
  ok: boolean
  /** Per dependency: "ok" or why not (no secrets). */
  checks?: Record<string, string>
}

export interface HttpServerOptions {
  /** Service name for logs. */
  name: string
  host: string
  /** 0 picks a free port (see RunningServer.port). */
  port: number
  logger: Logger
  /** Served at GET /metrics. */
  metrics: MetricsRegistry
  routes: Routes
  /** GET /health/ready: 200 when ok, else 503. Cache it yourself (see `cached`) when it calls the network. Default: ready. */
  ready?: () => Promise<ReadyState>
  /** How long close() lets in-flight requests finish before cutting connections (default 10 s). */
  shutdownTimeoutMs?: number
  /** Idle keep-alive timeout for client connections (default 65 s, above Go's and undici's client idle timeouts). */
  keepAliveTimeoutMs?: number
  /** A client must send its request headers within this (default 10 s): slow-header clients are cut (408). */
  headersTimeoutMs?: number
  /** A client must send its whole request within this (default 30 s). */
  requestTimeoutMs?: number
  /**
   * Host names (from the Host header, without port) this server answers; others get 421. For servers a browser on
   * this machine can reach: a page on another origin resolving its name to 127.0.0.1 (DNS rebinding) is refused.
   */
  allowedHosts?: readonly string[]
  /** Refuse state changes (any method but GET/HEAD) from a browser page on another origin (Origin, Sec-Fetch-Site). */
  sameOriginWrites?: boolean
}

/** Request headers larger than this are refused with 431 (Node's default maximum). */
export const MAX_HEADER_BYTES = 16 * 1024

export interface RunningServer {
  readonly server: Server
  readonly host: string
  readonly port: number
  /** `http://host:port` */
  readonly url: string
  /** Stops accepting, lets in-flight requests finish (answered with `connection: close`), then cuts what is left at the deadline. Idempotent. */
  close(): Promise<void>
}

const NOT_FOUND = new HttpError(404, 'NOT_FOUND', 'No such endpoint.')
const WRONG_HOST = new HttpError(421, 'MISDIRECTED_REQUEST', 'This server does not answer for that Host name; use 127.0.0.1 or localhost.')
const CROSS_SITE = new HttpError(403, 'CROSS_SITE_REQUEST', 'State changes are refused from pages of another origin.')

/** The host name of a Host header (`[::1]:80` → `[::1]`, `Localhost:4436` → `localhost`). */
function hostName(header: string | undefined): string {
  const host = (header ?? '').trim().toLowerCase()
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1)
  const colon = host.indexOf(':')
  return colon === -1 ? host : host.slice(0, colon)
}

/** True when a browser says the request comes from a page of another origin than the request's own. */
function isCrossSite(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true
  const origin = req.headers.origin
  if (origin === undefined) return false
  try {
    return new URL(origin).host !== (req.headers.host ?? '').toLowerCase()
  } catch {
    return true
  }
}

const rawError = (status: string, code: string, message: string): string => {
  const body = JSON.stringify({error: {code, message}})
  return `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
}

/** Starts an HTTP server with the routes plus GET /health/alive, /health/ready and /metrics. */
export async function startHttpServer(o: HttpServerOptions): Promise<RunningServer> {
  const table = new Map<string, {handlers: Partial<Record<HttpMethod, Handler>>; notAllowed: HttpError}>()
  const add = (path: string, handlers: Partial<Record<HttpMethod, Handler>>): void => {
    const allow = Object.keys(handlers).join(', ')
    table.set(path, {
      handlers,
      notAllowed: new HttpError(405, 'METHOD_NOT_ALLOWED', `Use ${allow} on ${path}.`, {headers: {allow}}),
    })
  }
  let closing = false
  add('/health/alive', {GET: (_req, res) => sendJson(res, 200, '{"status":"ok"}')})
  add('/health/ready', {
    async GET(_req, res) {
      if (closing) return sendJson(res, 503, {status: 'shutting_down'})
      const state = o.ready ? await o.ready() : {ok: true}
      sendJson(res, state.ok ? 200 : 503, {status: state.ok ? 'ok' : 'unavailable', ...(state.checks ? {checks: state.checks} : {})})
    },
  })
  add('/metrics', {GET: (_req, res) => sendText(res, 200, o.metrics.render(), METRICS_CONTENT_TYPE)})
  for (const [path, handlers] of Object.entries(o.routes)) add(path, handlers)

  const fail = (res: ServerResponse, error: unknown, req: IncomingMessage): void => {
    if (!(error instanceof HttpError)) {
      o.logger.error('unhandled error in handler', {method: req.method, path: req.url, error})
      error = new HttpError(500, 'INTERNAL', 'Internal server error.')
    }
    if (res.headersSent) {
      res.destroy()
      return
    }
    sendError(res, error as HttpError)
  }

  const allowedHosts = o.allowedHosts && new Set(o.allowedHosts.map((h) => h.toLowerCase()))
  const dispatch = (req: IncomingMessage, res: ServerResponse): void => {
    // While shutting down, finish this request but do not keep its connection.
    if (closing) res.shouldKeepAlive = false
    if (allowedHosts && !allowedHosts.has(hostName(req.headers.host))) return fail(res, WRONG_HOST, req)
    if (o.sameOriginWrites && req.method !== 'GET' && req.method !== 'HEAD' && isCrossSite(req)) return fail(res, CROSS_SITE, req)
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const entry = table.get(q === -1 ? url : url.slice(0, q))
    if (entry === undefined) return fail(res, NOT_FOUND, req)
    const handler = entry.handlers[req.method as HttpMethod]
    if (handler === undefined) return fail(res, entry.notAllowed, req)
    try {
      const r = handler(req, res)
      if (r !== undefined) r.catch((error: unknown) => fail(res, error, req))
    } catch (error) {
      fail(res, error, req)
    }
  }

  const server = createServer(
    {
      keepAliveTimeout: o.keepAliveTimeoutMs ?? 65_000,
      headersTimeout: o.headersTimeoutMs ?? 10_000,
      requestTimeout: o.requestTimeoutMs ?? 30_000,
      maxHeaderSize: MAX_HEADER_BYTES,
      // How often Node looks for connections past those timeouts (default 30 s would let a slow client stay that long).
      connectionsCheckingInterval: 1000,
    },
    dispatch,
  )
  server.on('clientError', (error: Error & {code?: string}, socket) => {
    // Malformed, oversized or too slow HTTP: answer if the socket still can, never crash.
    if (!socket.writable || error.code === 'ECONNRESET') return void socket.destroy()
    if (error.code === 'HPE_HEADER_OVERFLOW') socket.end(rawError('431 Request Header Fields Too Large', 'HEADERS_TOO_LARGE', `Request headers are limited to ${MAX_HEADER_BYTES} bytes.`))
    else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') socket.end(rawError('408 Request Timeout', 'REQUEST_TIMEOUT', 'The request took too long to arrive.'))
    else socket.end(rawError('400 Bad Request', 'BAD_HTTP', 'Malformed HTTP request.'))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(o.port, o.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const hostForUrl = o.host.includes(':') ? `[${o.host}]` : o.host
  o.logger.info('listening', {service: o.name, url: `http://${hostForUrl}:${port}`})

  let closed: Promise<void> | undefined
  const close = (): Promise<void> =>
    (closed ??= new Promise<void>((resolve) => {
      closing = true
      const deadline = setTimeout(() => {
        o.logger.warn('shutdown deadline reached: closing remaining connections', {service: o.name})
        server.closeAllConnections()
      }, o.shutdownTimeoutMs ?? 10_000)
      deadline.unref()
      // Connections whose in-flight request started before close() stay keep-alive; sweep them as they go idle.
      const sweep = setInterval(() => server.closeIdleConnections(), 25)
      sweep.unref()
      server.close(() => {
        clearTimeout(deadline)
        clearInterval(sweep)
        resolve()
      })
      server.closeIdleConnections()
    }))

  return {server, host: o.host, port, url: `http://${hostForUrl}:${port}`, close}
}

/**
 * On SIGTERM/SIGINT: log, run `shutdown` (which should close the server, then pools), and exit 0 (1 if shutdown
 * throws). A second signal exits at once. Returns a function that removes the handlers.
 */
export function exitOnSignals(shutdown: () => Promise<void>, o: {logger: Logger; signals?: NodeJS.Signals[]; exit?: (code: number) => void}): () => void {
  const signals = o.signals ?? ['SIGTERM', 'SIGINT']
  const exit = o.exit ?? ((code: number) => process.exit(code))
  let started = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (started) {
      o.logger.warn('second signal: exiting now', {signal})
      exit(1)
      return
    }
    started = true
    o.logger.info('shutting down', {signal})
    shutdown().then(
      () => {
        o.logger.info('stopped')
        exit(0)
      },
      (error: unknown) => {
        o.logger.error('shutdown failed', {error})
        exit(1)
      },
    )
  }
  for (const s of signals) process.on(s, onSignal)
  return () => {
    for (const s of signals) process.off(s, onSignal)
  }
}
