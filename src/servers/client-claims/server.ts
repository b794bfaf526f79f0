/**
 * Hydra's token hook for machine clients: when Hydra issues a token with the client-credentials grant it asks this
 * server for the token's extra claims; the answer is the client's `metadata` (read from Hydra's admin API at that
 * moment), which Hydra stores with the token and returns in introspection (`ext`), where the gateway reads it into
 * the id_token it mints. Every other grant is left as it is (204).
 *
 * Fail closed: a call without the shared key is 401 and touches nothing; when the client cannot be read the answer
 * is 503 and Hydra refuses the token (server_error) instead of issuing one without its claims.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'

import {HydraAdminClient} from '../../ory/hydra-client.js'
import {CLIENT_CLAIMS_PATH} from './protocol.js'
import {presentedSecret, secretDigest, secretMatches} from '../http/webhook-secret.js'
import {
  badRequest,
  cached,
  createLogger,
  createUpstreamPool,
  HttpError,
  MetricsRegistry,
  parseUpstreamUrl,
  probeReady,
  readJsonBody,
  sendJson,
  startHttpServer,
  type Logger,
  type RunningServer,
} from '../http/index.js'

const MAX_BODY_BYTES = 64 * 1024

export interface ClientClaimsOptions {
  host: string
  port: number
  /** The shared key of Hydra's `oauth2.token_hook.auth`. */
  secret: string
  hydraAdminUrl: string
  /** Deadline of the call to Hydra's admin API (default 2 s). */
  timeoutMs?: number
  logger?: Logger
  shutdownTimeoutMs?: number
}

interface HookCall {
  clientId: string
  clientCredentials: boolean
}

function parseCall(body: unknown): HookCall {
  const request = (body as {request?: {client_id?: unknown; grant_types?: unknown}} | null)?.request
  if (!request || typeof request.client_id !== 'string' || request.client_id === '') throw badRequest('Expected Hydra\'s token hook body {"request": {"client_id": …}}.', 'request.client_id')
  const grants = Array.isArray(request.grant_types) ? request.grant_types : []
  return {clientId: request.client_id, clientCredentials: grants.length === 1 && grants[0] === 'client_credentials'}
}

export async function startClientClaims(o: ClientClaimsOptions): Promise<RunningServer & {metrics: MetricsRegistry}> {
  const logger = o.logger ?? createLogger({base: {service: 'client-claims'}})
  const timeoutMs = o.timeoutMs ?? 2000
  const expected = secretDigest(o.secret)
  const target = parseUpstreamUrl(o.hydraAdminUrl)
  const pool = createUpstreamPool(target.origin, {connectTimeoutMs: Math.min(1000, timeoutMs), requestTimeoutMs: timeoutMs})
  const hydra = new HydraAdminClient({adminUrl: o.hydraAdminUrl, timeoutMs, dispatcher: pool})
  const metrics = new MetricsRegistry()
  const calls = metrics.counter('client_claims_requests_total', 'Token hook calls by outcome.', ['outcome'])
  const hydraReady = cached(() => probeReady(pool, `${target.basePath}/health/ready`, Math.min(1000, timeoutMs)), 1000)

  async function hook(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!secretMatches(expected, presentedSecret(req.headers.authorization))) {
      calls.labels('unauthorized').inc()
      logger.warn('rejected token hook call without a valid key', {remote: req.socket.remoteAddress})
      throw new HttpError(401, 'UNAUTHORIZED', 'Missing or wrong Authorization: Bearer <key> header.', {headers: {connection: 'close'}})
    }
    const call = parseCall(await readJsonBody(req, {maxBytes: MAX_BODY_BYTES}))
    if (!call.clientCredentials) {
      calls.labels('skipped').inc()
      res.writeHead(204).end()
      return
    }
    let client
    try {
      client = await hydra.getClient(call.clientId)
    } catch (error) {
      calls.labels('failed').inc()
      logger.error('cannot read the client from Hydra: refusing the token', {client_id: call.clientId, error: (error as Error).message})
      throw new HttpError(503, 'HYDRA_UNAVAILABLE', "Hydra's admin API did not answer.")
    }
    if (!client) {
      calls.labels('unknown_client').inc()
      throw new HttpError(403, 'CLIENT_NOT_FOUND', 'No such client.')
    }
    const metadata = client.metadata && typeof client.metadata === 'object' ? client.metadata : {}
    calls.labels('claims').inc()
    logger.info('claims added to a client token', {client_id: call.clientId, metadata_keys: Object.keys(metadata).length})
    sendJson(res, 200, {session: {access_token: {metadata}, id_token: {}}})
  }

  let running: RunningServer
  try {
    running = await startHttpServer({
      name: 'client-claims',
      host: o.host,
      port: o.port,
      logger,
      metrics,
      shutdownTimeoutMs: o.shutdownTimeoutMs,
      routes: {[CLIENT_CLAIMS_PATH]: {POST: hook}},
      async ready() {
        const h = await hydraReady()
        return {ok: h.ok, checks: {hydra: h.ok ? 'ok' : (h.error ?? 'unavailable')}}
      },
    })
  } catch (error) {
    await pool.close()
    throw error
  }
  logger.info('client-claims ready', {url: running.url, hydra: target.origin})
  return {
    ...running,
    metrics,
    async close() {
      await running.close()
      await pool.close()
    },
  }
}
