/**
 * Shared HTTP infrastructure for iam's embedded servers (batch-auth, role-webhook). No framework: node:http + undici.
 *
 * Typical server:
 * ```ts
 * const logger = createLogger({base: {service: 'role-webhook'}})
 * const metrics = new MetricsRegistry()
 * const hooks = metrics.counter('role_webhook_requests_total', 'Requests by outcome.', ['outcome'])
 * const ok = hooks.labels('ok') // bind labels once, outside the handler
 * const kratos = createUpstreamPool('http://127.0.0.1:4434', {connectTimeoutMs: 500, requestTimeoutMs: 2000})
 * const kratosReady = cached(() => probeReady(kratos, '/health/ready', 500), 1000)
 * const running = await startHttpServer({
 *   name: 'role-webhook', host: '127.0.0.1', port: 4471, logger, metrics,
 *   ready: async () => { const k = await kratosReady(); return {ok: k.ok, checks: {kratos: k.error ?? 'ok'}} },
 *   routes: {'/hook': {async POST(req, res) {
 *     const body = await readJsonBody(req, {maxBytes: 64 * 1024}) // 415 / 413 / 400 as HttpError
 *     if (typeof body !== 'object' || body === null) throw badRequest('expected a JSON object', 'body')
 *     try { await requestJson(kratos, {method: 'GET', path: '/admin/identities/x', signal: AbortSignal.timeout(2000), what: 'Kratos'}) }
 *     catch (e) { const u = classifyUpstreamError(e, 'Kratos'); throw new HttpError(gatewayStatus(u.kind), 'UPSTREAM_' + u.kind.toUpperCase(), u.message) }
 *     ok.inc(); sendJson(res, 200, {ok: true})
 *   }}},
 * })
 * exitOnSignals(async () => { await running.close(); await kratos.close() }, {logger})
 * ```
 *
 * - Handlers throw `HttpError(status, code, message, {field, headers})` to answer `{"error": {code, message, field}}`;
 *   anything else thrown becomes a logged 500. Unknown path → 404, wrong method → 405 with `Allow`.
 * - Built in: GET /health/alive (always 200 while up), GET /health/ready (your `ready()`; 503 while shutting down),
 *   GET /metrics (Prometheus text of the registry you pass).
 * - Logs are JSON lines on stderr; credential-like field names (authorization, cookie, secret, token, password,
 *   api key) are redacted at any depth.
 * - `close()` stops accepting, finishes in-flight requests (with `connection: close`), cuts the rest after
 *   `shutdownTimeoutMs`. `exitOnSignals` wires SIGTERM/SIGINT to your shutdown and exits.
 * - Upstream failures: `classifyUpstreamError` → kind `unavailable` (503) | `timeout` (504) | `status` /
 *   `invalid_response` (502) via `gatewayStatus(kind)`: never a 2xx.
 */
export {HttpError, badRequest} from './errors.js'
export {isJsonContentType, parseByteSize, readJsonBody} from './body.js'
export {sendJson, sendText} from './respond.js'
export {createLogger, parseLogLevel, redact, REDACTED, type Logger} from './logger.js'
export {MetricsRegistry} from './metrics.js'
export {
  cached,
  classifyUpstreamError,
  describeNetworkFailure,
  createUpstreamPool,
  gatewayStatus,
  parseUpstreamUrl,
  probeReady,
  errorReason,
  requestJson,
  truncate,
  UpstreamError,
  type UpstreamErrorKind,
} from './upstream.js'
export {exitOnSignals, startHttpServer, type RunningServer} from './server.js'
