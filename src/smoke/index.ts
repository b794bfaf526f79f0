/**
 * `iam smoke`: proves a running stack does what iam.yaml says, end to end through the real servers, and leaves
 * nothing behind. A throwaway identity logs in through Kratos (running the login hooks); every route is asked through
 * Oathkeeper's decision API (the same rules as the proxy, without calling the upstream, so no route's service sees a
 * test request): 401 without a session, 403 without the role or the tuple, 200 with them, and each minted id_token
 * verifies against the published JWKS with the route's audience. The identity, its roles and tuples are removed after.
 */
import {randomBytes} from 'node:crypto'

import {loadConfig} from '../config/load.js'
import {exampleUrl, exampleUrlBelow} from '../config/match.js'
import type {IamConfig, RouteConfig} from '../config/model.js'
import {isIamError} from '../errors.js'
import type {RelationTuple} from '../ory/tuple-text.js'
import {OryHttp} from '../ory/request.js'
import {errorReason} from '../servers/http/index.js'
import {projectEnv, resolveRenderRefs} from '../project/render.js'
import {openRuntime} from '../runtime/open.js'
import {contextFromConfig, createClients, type OryClients} from '../admin/context.js'
import {grantRole, revokeRole} from '../admin/grants.js'
import {MailInbox} from '../servers/mail/client.js'
import {createVerifier, type Verifier} from '../verifier/verifier.js'

export type StepStatus = 'ok' | 'fail' | 'skipped'

export interface SmokeStep {
  /** `stack`, `jwks`, `login`, `route.<id>`, `cleanup`. */
  id: string
  status: StepStatus
  message: string
  fix?: string
  ms: number
}

export interface SmokeReport {
  project: string
  steps: SmokeStep[]
  /** No step failed (skipped steps say why they were skipped). Exit code 1 otherwise. */
  ok: boolean
}

export interface SmokeOptions {
  projectDir: string
  /** Deadline of each HTTP call. */
  timeoutMs?: number
  onStep?: (step: SmokeStep) => void
}

/** Thrown inside a step: what went wrong, and what to do. */
class StepFailure extends Error {
  constructor(
    message: string,
    readonly fix?: string,
  ) {
    super(message)
  }
}

/** Thrown inside a step that cannot be checked: recorded as skipped with the reason, not as ok. */
class StepSkipped extends Error {}

interface Session {
  identityId: string
  token: string
}

interface Ctx {
  config: IamConfig
  clients: OryClients
  kratosPublic: OryHttp
  oathkeeperApi: OryHttp
  verifier: Verifier
  run: string
  timeoutMs: number
  inbox: MailInbox
}

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']

export async function runSmoke(o: SmokeOptions): Promise<SmokeReport> {
  const env = await projectEnv(o.projectDir)
  const config = resolveRenderRefs((await loadConfig(o.projectDir, {env})).config, env)
  const steps: SmokeStep[] = []
  const record = async (id: string, body: () => Promise<string>): Promise<boolean> => {
    const started = performance.now()
    let step: SmokeStep
    try {
      step = {id, status: 'ok', message: await body(), ms: 0}
    } catch (error) {
      step = error instanceof StepSkipped ? {id, status: 'skipped', message: error.message, ms: 0} : {id, status: 'fail', ...describe(error), ms: 0}
    }
    step.ms = Math.round(performance.now() - started)
    steps.push(step)
    o.onStep?.(step)
    return step.status !== 'fail'
  }
  const skip = (ids: string[], why: string): void => {
    for (const id of ids) {
      const step: SmokeStep = {id, status: 'skipped', message: why, ms: 0}
      steps.push(step)
      o.onStep?.(step)
    }
  }
  const routeIds = config.routes.map((r) => `route.${r.id}`)
  const report = (): SmokeReport => ({project: config.project, steps, ok: steps.every((s) => s.status !== 'fail')})

  // Whether the running stack has `iam serve mail`, whose inbox smoke can read login codes from.
  let hasMailCatcher = false
  const running = await record('stack', async () => {
    const {runtime} = await openRuntime(o.projectDir, {config})
    const status = await runtime.status()
    hasMailCatcher = status.runtime === 'native' && status.services.some((s) => s.name === 'mail')
    if (!status.healthy) {
      const bad = status.services.filter((s) => s.state !== 'ready').map((s) => `${s.name} ${s.state}`)
      throw new StepFailure(`the stack is not healthy: ${bad.join(', ')}`, '`iam up` starts it; `iam status` and `iam logs <service>` say why a service is down.')
    }
    return `${status.services.length} services ready (${status.runtime} runtime)`
  })
  if (!running) {
    skip(['jwks', 'login', ...routeIds, 'cleanup'], 'the stack is not healthy')
    return report()
  }

  const local = (port: number): string => `http://127.0.0.1:${port}`
  const timeoutMs = o.timeoutMs ?? 10_000
  const jwksUrl = `${local(config.ports.oathkeeperApi)}/.well-known/jwks.json`
  const clients = createClients(contextFromConfig(config), {timeoutMs})
  const ctx: Ctx = {
    config,
    clients,
    kratosPublic: new OryHttp({api: 'kratos-public', baseUrl: local(config.ports.kratosPublic), timeoutMs}),
    oathkeeperApi: new OryHttp({api: 'oathkeeper-api', baseUrl: local(config.ports.oathkeeperApi), timeoutMs}),
    verifier: createVerifier({jwksUrl, issuer: config.tokens.issuer, audience: config.routes.map((r) => r.audience), clockSkew: config.tokens.clockSkewMs}),
    run: randomBytes(4).toString('hex'),
    timeoutMs,
    inbox: new MailInbox({baseUrl: local(config.ports.mailUi), timeoutMs}),
  }
  let session: Session | undefined
  try {
    await record('jwks', () => checkJwks(ctx))
    const method = loginMethod(config, hasMailCatcher)
    if (method === undefined) {
      // Without a way to log in, the session routes are still checked to refuse anonymous calls.
      skip(['login'], 'password login is off (kratos.methods.password) and login codes go to a mailbox smoke cannot read (only `iam serve mail` of the native runtime): session routes are checked without a session only')
      for (const route of config.routes) await record(`route.${route.id}`, () => checkRoute(ctx, route, undefined))
    } else {
      const loggedIn = await record('login', async () => {
        session = await createSession(ctx, method)
        const how = method === 'password' ? 'with a password' : 'with a one-time code read from the mail catcher'
        return `a throwaway identity (${session.identityId}) logged in through Kratos' API flow ${how}, login hooks included`
      })
      if (loggedIn && session) {
        for (const route of config.routes) await record(`route.${route.id}`, () => checkRoute(ctx, route, session!))
      } else skip(routeIds, 'no session to test with')
    }
  } finally {
    await record('cleanup', async () => {
      if (!session) return 'nothing to remove'
      await ctx.clients.kratos.deleteIdentity(session.identityId)
      return `identity ${session.identityId} deleted`
    })
    await Promise.all([clients.close(), ctx.kratosPublic.close(), ctx.oathkeeperApi.close()])
  }
  return report()
}

async function checkJwks(ctx: Ctx): Promise<string> {
  const res = await ctx.oathkeeperApi.call('GET', '/.well-known/jwks.json')
  const keys = (res.body as {keys?: Record<string, unknown>[]} | undefined)?.keys
  if (res.status !== 200 || !Array.isArray(keys) || keys.length === 0) throw new StepFailure(`Oathkeeper answered the JWKS with ${res.status} and no keys`, '`iam keys list` shows the key file; `iam logs oathkeeper` says why it is not served.')
  const leaking = keys.filter((k) => PRIVATE_JWK_MEMBERS.some((m) => m in k)).map((k) => String(k.kid))
  if (leaking.length > 0) throw new StepFailure(`the published JWKS holds private key material (${leaking.join(', ')})`, 'Rotate the keys at once (`iam keys rotate`) and check that only the mutator reads ory/oathkeeper/jwks.json.')
  return `${keys.length} public key(s) at /.well-known/jwks.json, no private material`
}

/**
 * Password login when it is on; else a login code, when the stack runs `iam serve mail` (the native runtime's
 * catcher, whose API smoke reads; compose runs Mailpit).
 */
function loginMethod(config: IamConfig, hasMailCatcher: boolean): 'password' | 'code' | undefined {
  if (config.kratos.methods.password) return 'password'
  if (config.kratos.methods.code && hasMailCatcher) return 'code'
  return undefined
}

async function startLoginFlow(ctx: Ctx): Promise<string> {
  const flow = await ctx.kratosPublic.call('GET', '/self-service/login/api')
  const flowId = (flow.body as {id?: string} | undefined)?.id
  if (flow.status !== 200 || !flowId) throw new StepFailure(`Kratos did not start a login flow (${flow.status}${reason(flow.body)})`)
  return flowId
}

async function createSession(ctx: Ctx, method: 'password' | 'code'): Promise<Session> {
  const email = `iam-smoke-${ctx.run}@example.com`
  const password = method === 'password' ? `${randomBytes(18).toString('base64url')}-9aA` : undefined
  const created = await ctx.clients.kratos.createIdentity({schemaId: 'default', traits: {email}, ...(password ? {password} : {})})
  if (created.conflict) throw new StepFailure(`Kratos refused the throwaway identity ${email}: ${created.reason ?? 'conflict'}`)
  const identityId = created.identity.id
  try {
    const flowId = await startLoginFlow(ctx)
    let body: Record<string, string>
    if (password) body = {method: 'password', identifier: email, password}
    else {
      const sent = await ctx.kratosPublic.call('POST', '/self-service/login', {query: {flow: flowId}, json: {method: 'code', identifier: email}})
      // An API flow answers the first step with 400 and the flow, now waiting for the code.
      if ((sent.body as {state?: string} | undefined)?.state !== 'sent_email') {
        throw new StepFailure(`Kratos did not send a login code (${sent.status}${reason(sent.body)})`, '`iam logs kratos` says why.')
      }
      // An IamError (no catcher, no code in time) becomes the step's message and fix.
      const mail = await ctx.inbox.waitForCode(email, {waitMs: Math.max(ctx.timeoutMs, 15_000)})
      body = {method: 'code', identifier: email, code: mail.code}
    }
    const login = await ctx.kratosPublic.call('POST', '/self-service/login', {query: {flow: flowId}, json: body})
    const token = (login.body as {session_token?: string} | undefined)?.session_token
    if (login.status !== 200 || !token) {
      throw new StepFailure(
        `the login was refused (${login.status}${reason(login.body)})`,
        ctx.config.roles.enabled ? 'The role webhook runs on every login: `iam logs role-webhook` and `iam logs kratos` say why.' : '`iam logs kratos` says why.',
      )
    }
    return {identityId, token}
  } catch (error) {
    await ctx.clients.kratos.deleteIdentity(identityId).catch(() => undefined)
    throw error
  } finally {
    // The throwaway identity's mail goes with it.
    if (!password) await ctx.inbox.clear(email).catch(() => undefined)
  }
}

/** Asks Oathkeeper's decision API about `url` as the proxy would see it: the status and the minted id_token. */
async function decide(ctx: Ctx, route: RouteConfig, url: URL, token?: string): Promise<{status: number; idToken?: string; reason: string}> {
  const res = await ctx.oathkeeperApi.call('GET', '/decisions', {
    headers: {
      'x-forwarded-method': route.methods[0] ?? 'GET',
      'x-forwarded-proto': url.protocol.replace(':', ''),
      'x-forwarded-host': url.host,
      'x-forwarded-uri': url.pathname,
      ...(token ? {authorization: `Bearer ${token}`} : {}),
    },
  })
  const auth = res.headers.authorization
  const idToken = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined
  return {status: res.status, ...(idToken ? {idToken} : {}), reason: reason(res.body)}
}

/**
 * Asks about each probe URL (the route's root, and a path below it when the match has one) and requires `expected`
 * for all; returns the id_token of the last. The fix names what the answer actually means.
 */
async function expectDecision(ctx: Ctx, route: RouteConfig, urls: URL[], expected: number, what: string, token?: string): Promise<string | undefined> {
  let idToken: string | undefined
  for (const url of urls) {
    const d = await decide(ctx, route, url, token)
    if (d.status !== expected) throw new StepFailure(`${url.pathname} ${what}: expected ${expected}, Oathkeeper answered ${d.status}${d.reason}`, decisionFix(route, url, d.status))
    idToken = d.idToken
  }
  return idToken
}

/** What a wrong answer of the decision API means, and what fixes it. */
function decisionFix(route: RouteConfig, url: URL, status: number): string {
  const rules = 'ory/oathkeeper/rules.json'
  if (status >= 500) {
    return `Oathkeeper could not decide: \`iam logs oathkeeper\`${route.authorization?.anyOf ? ' and `iam logs batch-auth`' : ''} say why.`
  }
  if (status === 404) {
    return `No access rule Oathkeeper loaded accepts ${url.host}${url.pathname} (it matches the cleaned path: no trailing "/"). \`iam render --check\` shows whether ${rules} is what iam renders for route ${route.id}; \`iam render --force\` restores it and Oathkeeper reloads it by itself. If it is unchanged, the request's host and port are not the ones in the route's match.`
  }
  return `The rule for route ${route.id} does not enforce what iam.yaml says. \`iam render --check\` shows whether ${rules} drifted (a hand edit); \`iam render --force\` restores it and Oathkeeper reloads it by itself.`
}

async function verifyToken(ctx: Ctx, route: RouteConfig, idToken: string | undefined, sub: string | undefined): Promise<string[]> {
  if (!idToken) throw new StepFailure(`route ${route.id} allowed the request but Oathkeeper minted no id_token`, '`iam render --check`: the id_token mutator is part of every rendered rule.')
  const {claims, kid} = await ctx.verifier.verify(idToken).catch((error: unknown) => {
    throw new StepFailure(`the id_token of route ${route.id} does not verify: ${(error as Error).message}`, '`iam keys list` and the JWKS URL must agree; `iam token verify <jwt>` gives the reason code.')
  })
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
  if (!aud.includes(route.audience)) throw new StepFailure(`the id_token of route ${route.id} is for ${aud.join(', ')}, not ${route.audience}`)
  if (sub !== undefined && claims.sub !== sub) throw new StepFailure(`the id_token of route ${route.id} names subject ${String(claims.sub)}, not the session's identity ${sub}`)
  return [`id_token verified (kid ${kid}, aud ${route.audience})`]
}

async function checkRoute(ctx: Ctx, route: RouteConfig, session: Session | undefined): Promise<string> {
  const params = new Map<string, string>()
  const paramValue = (name: string): string => params.get(name) ?? params.set(name, `smoke-${ctx.run}-${name}`).get(name)!
  const href = exampleUrl(route.match, paramValue)
  if (!href) throw new StepSkipped('no example URL could be derived from the match (too many glob alternatives)')
  // The route's root and, when the match reaches below it, a path under it: both must be routed alike.
  const below = exampleUrlBelow(route.match, paramValue)
  const url = [new URL(href), ...(below ? [new URL(below)] : [])]
  const probed = url.map((u) => u.pathname).join(' and ')
  if (route.auth === 'anonymous') {
    const idToken = await expectDecision(ctx, route, url, 200, 'anonymous')
    return [`${probed}: anonymous 200`, ...(await verifyToken(ctx, route, idToken, undefined))].join('; ')
  }
  const notes = [`${probed}: 401 without a session`]
  await expectDecision(ctx, route, url, 401, 'without a session')
  if (!session) return notes.join('; ')
  const deps = {keto: ctx.clients.keto, kratos: ctx.clients.kratos, shape: {namespace: ctx.config.roles.namespace, relation: ctx.config.roles.relation}}

  if (route.authorization?.roles) {
    const role = route.authorization.roles[0]!
    await expectDecision(ctx, route, url, 403, 'with a session but no role', session.token)
    await grantRole(deps, session.identityId, role)
    try {
      const idToken = await expectDecision(ctx, route, url, 200, `with role ${role}`, session.token)
      notes.push(`403 without a role, 200 with ${role}`, ...(await verifyToken(ctx, route, idToken, session.identityId)))
    } finally {
      await revokeRole(deps, session.identityId, role)
    }
    await expectDecision(ctx, route, url, 403, `after revoking ${role}`, session.token)
    notes.push('403 again after the revoke')
  } else if (route.authorization?.anyOf) {
    // A check on a path parameter proves the most: the object comes from the URL.
    const check = route.authorization.anyOf.find((c) => c.object.includes('{')) ?? route.authorization.anyOf[0]!
    const object = check.object.replaceAll(/\{(\w+)\}/g, (_m, name: string) => params.get(name) ?? name)
    const tuple: RelationTuple = {namespace: check.namespace, object, relation: check.relation, subjectId: session.identityId}
    await expectDecision(ctx, route, url, 403, 'with a session but no permission', session.token)
    await ctx.clients.keto.create(tuple)
    try {
      const idToken = await expectDecision(ctx, route, url, 200, `with ${check.namespace}:${object}#${check.relation}`, session.token)
      notes.push(`403 without a tuple, 200 with ${check.namespace}:${object}#${check.relation}`, ...(await verifyToken(ctx, route, idToken, session.identityId)))
    } finally {
      await ctx.clients.keto.delete(tuple)
    }
    await expectDecision(ctx, route, url, 403, `after deleting ${check.namespace}:${object}#${check.relation}`, session.token)
    notes.push('403 again after the delete')
  } else {
    const idToken = await expectDecision(ctx, route, url, 200, 'with a session', session.token)
    notes.push('200 with a session', ...(await verifyToken(ctx, route, idToken, session.identityId)))
  }
  return notes.join('; ')
}

function reason(body: unknown): string {
  const r = errorReason(body)
  return r ? `: ${r}` : ''
}

function describe(error: unknown): {message: string; fix?: string} {
  if (error instanceof StepFailure) return {message: error.message, ...(error.fix ? {fix: error.fix} : {})}
  if (isIamError(error)) return {message: error.message, ...(error.suggestion ? {fix: error.suggestion} : {})}
  return {message: error instanceof Error ? error.message : String(error)}
}
