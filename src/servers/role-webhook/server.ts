import type {IncomingMessage, ServerResponse} from 'node:http'

import {KetoClient} from '../../ory/keto-client.js'
import {KRATOS_ADMIN_READY_PATH, KratosAdminClient} from '../../ory/kratos-client.js'
import {DEFAULT_ROLE_SHAPE, RoleSyncError, syncIdentityRoles, type RoleTupleShape} from '../../roles/sync.js'
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
import {presentedSecret, secretDigest, secretMatches} from '../http/webhook-secret.js'

export const HOOK_PATH = '/hooks/kratos'
/** The environment variable holding the key Kratos presents. */
export const WEBHOOK_SECRET_ENV = 'ROLE_WEBHOOK_SECRET'
/** Compatibility with the public role webhook teams already run: same path and body. */
export const INJECT_ROLES_PATH = '/inject-roles'

/** Status of a strict-mode interruption: a 4xx, which Kratos' retrying client does not retry (it retries 5xx). */
export const INTERRUPT_STATUS = 424
/** Id of the UI message (Kratos shows `text`; UIs may translate by id). Outside the ids Kratos itself uses. */
export const INTERRUPT_MESSAGE_ID = 4_100_001
export const INTERRUPT_MESSAGE = 'Your roles could not be loaded right now. Please try again in a moment.'

const MAX_BODY_BYTES = 16 * 1024
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export interface RoleWebhookOptions {
  host: string
  port: number
  secret: string
  kratosAdminUrl: string
  ketoReadUrl: string
  shape?: RoleTupleShape
  /** Interrupt the Kratos flow when roles cannot be synced (default: let the login proceed, roles unchanged). */
  strict?: boolean
  /** Deadline of each call to Keto or Kratos (default 2 s). */
  timeoutMs?: number
  /** Keto page size when listing a user's roles (default: Keto's 100). */
  pageSize?: number
  logger?: Logger
  shutdownTimeoutMs?: number
}

export interface RoleWebhook extends RunningServer {
  metrics: MetricsRegistry
}

/** The body Kratos parses when a hook with `can_interrupt: true` (or `response.parse: true`) answers 4xx. */
export function interruptBody(text = INTERRUPT_MESSAGE): {messages: {instance_ptr: string; messages: {id: number; text: string; type: 'error'}[]}[]} {
  return {messages: [{instance_ptr: '#/', messages: [{id: INTERRUPT_MESSAGE_ID, text, type: 'error'}]}]}
}

interface HookRequest {
  identityId: string
  subject?: string
}

function parseHookBody(body: unknown, compat: boolean): HookRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Expected a JSON object {"identity_id": "..."}.', 'body')
  const b = body as Record<string, unknown>
  if (typeof b.identity_id !== 'string' || !UUID_RE.test(b.identity_id)) throw badRequest('"identity_id" must be a Kratos identity id (UUID).', 'identity_id')
  if (!compat || b.user_subject === undefined || b.user_subject === null || b.user_subject === '') return {identityId: b.identity_id}
  if (typeof b.user_subject !== 'string') throw badRequest('"user_subject" must be a string.', 'user_subject')
  return {identityId: b.identity_id, subject: b.user_subject}
}

/**
 * The role webhook: Kratos calls it after login/registration; it copies the identity's roles from Keto into
 * `metadata_public.roles` (see syncIdentityRoles). Authenticated by a shared secret header, compared in constant time.
 */
export async function startRoleWebhook(o: RoleWebhookOptions): Promise<RoleWebhook> {
  const logger = o.logger ?? createLogger({base: {service: 'role-webhook'}})
  const shape = o.shape ?? DEFAULT_ROLE_SHAPE
  const timeoutMs = o.timeoutMs ?? 2000
  const strict = o.strict ?? false
  const expected = secretDigest(o.secret)

  const kratosTarget = parseUpstreamUrl(o.kratosAdminUrl)
  const ketoTarget = parseUpstreamUrl(o.ketoReadUrl)
  const poolOptions = {connectTimeoutMs: Math.min(1000, timeoutMs), requestTimeoutMs: timeoutMs}
  const kratosPool = createUpstreamPool(kratosTarget.origin, poolOptions)
  const ketoPool = createUpstreamPool(ketoTarget.origin, poolOptions)
  const kratos = new KratosAdminClient({adminUrl: o.kratosAdminUrl, timeoutMs, dispatcher: kratosPool})
  const keto = new KetoClient({readUrl: o.ketoReadUrl, timeoutMs, readDispatcher: ketoPool})

  const metrics = new MetricsRegistry()
  const requests = metrics.counter('role_webhook_requests_total', 'Webhook calls by route and outcome.', ['route', 'outcome'])
  const failures = metrics.counter('role_webhook_upstream_failures_total', 'Role syncs that failed, by the server that failed.', ['upstream'])
  const duration = metrics.histogram('role_webhook_request_duration_seconds', 'Time to answer a webhook call.', {labelNames: ['route']})
  const outcomes = ['updated', 'unchanged', 'degraded', 'interrupted', 'unauthorized', 'bad_request'] as const
  type Outcome = (typeof outcomes)[number]
  const routes = [HOOK_PATH, INJECT_ROLES_PATH]
  const counters = new Map<string, ReturnType<typeof requests.labels>>()
  for (const route of routes) for (const outcome of outcomes) counters.set(`${route} ${outcome}`, requests.labels(route, outcome))
  const failureCounters = {keto: failures.labels('keto'), kratos: failures.labels('kratos')}
  const timers = new Map(routes.map((r) => [r, duration.labels(r)] as const))
  const count = (route: string, outcome: Outcome): void => counters.get(`${route} ${outcome}`)!.inc()

  const probeMs = Math.min(1000, timeoutMs)
  const ketoReady = cached(() => probeReady(ketoPool, `${ketoTarget.basePath}/health/ready`, probeMs), 1000)
  const kratosReady = cached(() => probeReady(kratosPool, `${kratosTarget.basePath}${KRATOS_ADMIN_READY_PATH}`, probeMs), 1000)

  const handler = (route: string, compat: boolean) =>
    async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const started = process.hrtime.bigint()
      try {
        // Authenticate before reading the body: an unauthenticated caller learns nothing and touches nothing.
        if (!secretMatches(expected, presentedSecret(req.headers.authorization))) {
          count(route, 'unauthorized')
          logger.warn('rejected webhook call without a valid secret', {route, remote: req.socket.remoteAddress})
          throw new HttpError(401, 'UNAUTHORIZED', 'Missing or wrong Authorization: Bearer <webhook secret> header.', {headers: {connection: 'close'}})
        }
        let hook: HookRequest
        try {
          hook = parseHookBody(await readJsonBody(req, {maxBytes: MAX_BODY_BYTES}), compat)
        } catch (error) {
          count(route, 'bad_request')
          throw error
        }
        try {
          const result = await syncIdentityRoles({keto, kratos}, {identityId: hook.identityId, subject: hook.subject, shape, pageSize: o.pageSize})
          count(route, result.changed ? 'updated' : 'unchanged')
          logger.info('roles synced', {route, identity_id: hook.identityId, roles: result.roles.length, changed: result.changed})
          sendJson(res, 200, {identity_id: hook.identityId, roles: result.roles, changed: result.changed})
        } catch (error) {
          if (!(error instanceof RoleSyncError)) throw error
          failureCounters[error.stage].inc()
          const fields = {route, identity_id: hook.identityId, upstream: error.stage, code: error.code, error: error.message, strict}
          if (strict) {
            count(route, 'interrupted')
            logger.error('role sync failed: interrupting the flow (--strict)', fields)
            sendJson(res, INTERRUPT_STATUS, interruptBody())
          } else {
            count(route, 'degraded')
            logger.error('role sync failed: letting the flow proceed with roles unchanged', fields)
            sendJson(res, 200, {identity_id: hook.identityId, status: 'degraded', changed: false, error: {upstream: error.stage, code: error.code}})
          }
        }
      } finally {
        timers.get(route)!.observe(Number(process.hrtime.bigint() - started) / 1e9)
      }
    }

  let running: RunningServer
  try {
    running = await startHttpServer({
      name: 'role-webhook',
      host: o.host,
      port: o.port,
      logger,
      metrics,
      shutdownTimeoutMs: o.shutdownTimeoutMs,
      routes: {
        [HOOK_PATH]: {POST: handler(HOOK_PATH, false)},
        [INJECT_ROLES_PATH]: {POST: handler(INJECT_ROLES_PATH, true)},
      },
      // Lenient mode can answer every call (degraded when an upstream is down), so it stays ready and only reports
      // the upstreams; strict mode cannot let anyone log in without them, so it is ready only when both are.
      async ready() {
        const [k, r] = await Promise.all([ketoReady(), kratosReady()])
        return {ok: strict ? k.ok && r.ok : true, checks: {keto: k.ok ? 'ok' : (k.error ?? 'unavailable'), kratos: r.ok ? 'ok' : (r.error ?? 'unavailable')}}
      },
    })
  } catch (error) {
    await Promise.all([kratosPool.close(), ketoPool.close()])
    throw error
  }
  logger.info('role webhook ready', {url: running.url, strict, keto: ketoTarget.origin, kratos: kratosTarget.origin, namespace: shape.namespace, relation: shape.relation})

  return {
    server: running.server,
    host: running.host,
    port: running.port,
    url: running.url,
    metrics,
    async close() {
      await running.close()
      await Promise.all([kratosPool.close(), ketoPool.close()])
    },
  }
}
