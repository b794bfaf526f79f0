/**
 * `iam smoke`: proves a running stack does what iam.yaml says, end to end through the real servers, and leaves
 * nothing behind. A throwaway identity logs in through Kratos (running the login hooks); every route is asked through
 * Oathkeeper's decision API (401 without a session, 403 without the role or the tuple, 200 with them, and each minted
 * id_token verifies against the published JWKS with the route's audience) AND sent through the gateway's listening
 * port with the Host a client uses (the real path: a rule that cannot match that host is a failure; an upstream that
 * is not running is a warning naming it). `--upstream-stub` stands in for upstreams on loopback that are not running
 * and checks the id_token they receive. The identity, its roles and tuples are removed after.
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
import {createClient, deleteClient, issueToken} from '../clients/index.js'
import {MailInbox} from '../servers/mail/client.js'
import {createVerifier, type Verifier} from '../verifier/verifier.js'
import {writeFileAtomic} from '../util/atomic-write.js'
import {appendFile} from 'node:fs/promises'
import {usageError} from '../errors.js'
import {classifyGatewayAnswer, GatewayUnreachable, probeGateway, type GatewayExpectation} from './gateway-probe.js'
import {startUpstreamStubs, type UpstreamStubs} from './upstream-stub.js'
import {renderJunit} from './junit.js'
import {renderStepSummary} from './step-summary.js'

/** `warn`: the step's checks passed but something a client needs is missing (an upstream not running); never `ok`. */
export type StepStatus = 'ok' | 'warn' | 'fail' | 'skipped'

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
  /** No step failed, and with `strict` none warned (skipped steps say why they were skipped). Exit code 1 otherwise. */
  ok: boolean
  /** Warnings fail the run (`--strict`). */
  strict: boolean
  /** Upstreams `--upstream-stub` stood in for (origins). */
  stubbed: string[]
}

export interface SmokeOptions {
  projectDir: string
  /** Deadline of each HTTP call. */
  timeoutMs?: number
  onStep?: (step: SmokeStep) => void
  /** A warning fails the run (exit 1) and is a failed case in the JUnit report. */
  strict?: boolean
  /** Stand in for route upstreams on loopback that are not running, and check the id_token they receive. */
  upstreamStub?: boolean
  /** Write a JUnit XML report here (atomically). */
  junitFile?: string
  /** Append a Markdown table of the steps here (GitHub's `$GITHUB_STEP_SUMMARY`). */
  stepSummaryFile?: string
}

/** What a step found, with the warnings that keep it from being ok. */
interface StepOutcome {
  message: string
  warnings: {text: string; fix: string}[]
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

/** The throwaway machine client of a stack with client routes: a token with every scope they need, and one without. */
interface Machine {
  clientId: string
  token: string
  /** Holds only a scope no route asks for. */
  weakToken: string
}

/** The one scope the weak token holds. */
const SMOKE_ONLY_SCOPE = 'iam-smoke'
const takesClients = (route: RouteConfig): boolean => route.auth === 'client' || route.auth === 'session-or-client'

interface Ctx {
  config: IamConfig
  clients: OryClients
  oathkeeperApi: OryHttp
  verifier: Verifier
  run: string
  timeoutMs: number
  inbox: MailInbox
  gatewayPort: number
  stubs?: UpstreamStubs
}

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']

export async function runSmoke(o: SmokeOptions): Promise<SmokeReport> {
  const report = await runChecks(o)
  if (o.junitFile) await writeReport(o.junitFile, () => writeFileAtomic(o.junitFile!, renderJunit(report)), '--junit')
  if (o.stepSummaryFile) await writeReport(o.stepSummaryFile, () => appendFile(o.stepSummaryFile!, renderStepSummary(report)), 'GITHUB_STEP_SUMMARY')
  return report
}

async function writeReport(path: string, write: () => Promise<unknown>, what: string): Promise<void> {
  try {
    await write()
  } catch (error) {
    throw usageError('REPORT_UNWRITABLE', `${what}: cannot write ${path}: ${(error as Error).message}`, {suggestion: 'Give a path in a folder that exists and that you can write to.'})
  }
}

async function runChecks(o: SmokeOptions): Promise<SmokeReport> {
  const env = await projectEnv(o.projectDir)
  const config = resolveRenderRefs((await loadConfig(o.projectDir, {env})).config, env)
  const steps: SmokeStep[] = []
  const record = async (id: string, body: () => Promise<string | StepOutcome>): Promise<boolean> => {
    const started = performance.now()
    let step: SmokeStep
    try {
      const found = await body()
      if (typeof found === 'string' || found.warnings.length === 0) step = {id, status: 'ok', message: typeof found === 'string' ? found : found.message, ms: 0}
      else {
        const warnings = found.warnings.map((w) => w.text).join('; ')
        step = {id, status: 'warn', message: `${warnings}; everything else passed: ${found.message}`, fix: [...new Set(found.warnings.map((w) => w.fix))].join(' '), ms: 0}
      }
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
  const strict = o.strict ?? false
  let stubs: UpstreamStubs | undefined
  let stubbed: string[] = []
  const report = (): SmokeReport => ({
    project: config.project,
    steps,
    ok: steps.every((s) => s.status !== 'fail' && !(strict && s.status === 'warn')),
    strict,
    stubbed,
  })

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
    skip(['jwks', 'login', ...(config.routes.some(takesClients) ? ['machine-client'] : []), ...routeIds, 'cleanup'], 'the stack is not healthy')
    return report()
  }

  const local = (port: number): string => `http://127.0.0.1:${port}`
  const timeoutMs = o.timeoutMs ?? 10_000
  const jwksUrl = `${local(config.ports.oathkeeperApi)}/.well-known/jwks.json`
  const clients = createClients(contextFromConfig(config), {timeoutMs})
  const ctx: Ctx = {
    config,
    clients,
    oathkeeperApi: new OryHttp({api: 'oathkeeper-api', baseUrl: local(config.ports.oathkeeperApi), timeoutMs}),
    verifier: createVerifier({jwksUrl, issuer: config.tokens.issuer, audience: config.routes.map((r) => r.audience), clockSkew: config.tokens.clockSkewMs}),
    run: randomBytes(4).toString('hex'),
    timeoutMs,
    inbox: new MailInbox({baseUrl: local(config.ports.mailUi), timeoutMs}),
    gatewayPort: config.ports.oathkeeperProxy,
  }
  let session: Session | undefined
  let machine: Machine | undefined
  let machineClientId: string | undefined
  try {
    if (o.upstreamStub) {
      ctx.stubs = stubs = await startUpstreamStubs(config.routes.map((r) => r.upstream), Math.min(timeoutMs, 2000))
      stubbed = stubs.origins()
    }
    await record('jwks', () => checkJwks(ctx))
    if (config.routes.some(takesClients)) {
      await record('machine-client', async () => {
        machineClientId = `iam-smoke-${ctx.run}`
        machine = await createMachine(ctx, machineClientId)
        return `a throwaway machine client (${machineClientId}) got tokens from Hydra (client_credentials)`
      })
    }
    const method = loginMethod(config, hasMailCatcher)
    if (method === undefined) {
      // Without a way to log in, the session routes are still checked to refuse anonymous calls.
      skip(['login'], 'password login is off (kratos.methods.password) and login codes go to a mailbox smoke cannot read (only `iam serve mail` of the native runtime): session routes are checked without a session only')
      for (const route of config.routes) await record(`route.${route.id}`, () => checkRoute(ctx, route, undefined, machine))
    } else {
      const loggedIn = await record('login', async () => {
        session = await createSession(ctx, method)
        const how = method === 'password' ? 'with a password' : 'with a one-time code read from the mail catcher'
        return `a throwaway identity (${session.identityId}) logged in through Kratos' API flow ${how}, login hooks included`
      })
      if (loggedIn && session) {
        for (const route of config.routes) await record(`route.${route.id}`, () => checkRoute(ctx, route, session!, machine))
      } else skip(routeIds, 'no session to test with')
    }
  } finally {
    await record('cleanup', async () => {
      const removed: string[] = []
      if (machineClientId !== undefined && (await deleteClient(ctx.clients, machineClientId, {ifExists: true})).deleted) removed.push(`machine client ${machineClientId}`)
      if (session) {
        await ctx.clients.kratos.deleteIdentity(session.identityId)
        removed.push(`identity ${session.identityId}`)
      }
      return removed.length === 0 ? 'nothing to remove' : `deleted ${removed.join(' and ')}`
    })
    await Promise.all([clients.close(), ctx.oathkeeperApi.close(), stubs?.close()])
  }
  return report()
}

async function createMachine(ctx: Ctx, clientId: string): Promise<Machine> {
  const scopes = [...new Set(ctx.config.routes.filter(takesClients).flatMap((r) => r.scopes ?? []))]
  const {secret} = await createClient(ctx.clients, {id: clientId, scopes: [...scopes, SMOKE_ONLY_SCOPE], audience: [], metadata: {smoke: ctx.run}})
  const token = (await issueToken(ctx.clients, {id: clientId, secret, scopes})).accessToken
  const weakToken = (await issueToken(ctx.clients, {id: clientId, secret, scopes: [SMOKE_ONLY_SCOPE]})).accessToken
  return {clientId, token, weakToken}
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

async function createSession(ctx: Ctx, method: 'password' | 'code'): Promise<Session> {
  const email = `iam-smoke-${ctx.run}@example.com`
  const password = method === 'password' ? `${randomBytes(18).toString('base64url')}-9aA` : undefined
  const created = await ctx.clients.kratos.createIdentity({schemaId: 'default', traits: {email}, ...(password ? {password} : {})})
  if (created.conflict) throw new StepFailure(`Kratos refused the throwaway identity ${email}: ${created.reason ?? 'conflict'}`)
  const identityId = created.identity.id
  try {
    // An IamError (no catcher, no code in time) becomes the step's message and fix.
    const readCode = async (): Promise<string> => (await ctx.inbox.waitForCode(email, {waitMs: Math.max(ctx.timeoutMs, 15_000)})).code
    const login = await ctx.clients.kratosPublic.login(password ? {method: 'password', identifier: email, password} : {method: 'code', identifier: email, code: readCode})
    const token = login.result === 'ok' ? login.sessionToken : undefined
    if (!token) {
      throw new StepFailure(
        `the ${method} login was refused (${login.result === 'refused' ? login.reason : login.result})`,
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
async function expectDecision(ctx: Ctx, route: RouteConfig, urls: URL[], expected: 200 | 401 | 403, what: string, token: string | undefined, found: RouteFindings): Promise<string | undefined> {
  let idToken: string | undefined
  for (const url of urls) {
    // The real path first: what a client gets decides; the decision API then checks the id_token without the upstream.
    await expectGateway(ctx, route, url, expected === 200 ? 'upstream' : expected, what, token, found)
    const d = await decide(ctx, route, url, token)
    if (d.status !== expected) throw new StepFailure(`${url.pathname} ${what}: expected ${expected}, Oathkeeper answered ${d.status}${d.reason}`, decisionFix(route, url, d.status))
    idToken = d.idToken
  }
  return idToken
}

/** What the gateway probes of one route found besides failures: warnings, and what a stub upstream received. */
interface RouteFindings {
  warnings: StepOutcome['warnings']
  notes: Set<string>
  /** The Host the gateway probes sent. */
  host?: string
  /** The session's identity: the subject of an id_token a stub receives for a request with the session. */
  subject?: string
}

/**
 * The same request through the gateway's listening port, as a client sends it. A failure throws; an upstream that is
 * not running is a warning (once per route); with a stub standing in for the upstream, the id_token it received must
 * verify with the route's audience and the configured issuer.
 */
async function expectGateway(ctx: Ctx, route: RouteConfig, url: URL, expected: GatewayExpectation, what: string, token: string | undefined, found: RouteFindings): Promise<void> {
  found.host = url.host
  const stub = expected === 'upstream' ? ctx.stubs?.forUpstream(route.upstream) : undefined
  if (stub) stub.received.length = 0
  const answer = await probeGateway({port: ctx.gatewayPort, url, method: route.methods[0] ?? 'GET', ...(token ? {sessionToken: token} : {}), timeoutMs: ctx.timeoutMs}).catch((error: unknown) => {
    if (error instanceof GatewayUnreachable) throw new StepFailure(`route ${route.id}: ${error.message}`, '`iam status` shows whether oathkeeper is ready; `iam logs oathkeeper` says why not.')
    throw error
  })
  const verdict = classifyGatewayAnswer(answer, expected, {routeId: route.id, upstream: route.upstream, gatewayPort: ctx.gatewayPort, url, what})
  if (verdict.verdict === 'fail') throw new StepFailure(verdict.text, verdict.fix)
  if (verdict.verdict === 'warn') {
    if (found.warnings.length === 0) found.warnings.push({text: verdict.text, fix: verdict.fix})
    return
  }
  if (!stub) return
  const got = stub.received.at(-1)
  const bearer = got?.authorization?.startsWith('Bearer ') ? got.authorization.slice('Bearer '.length) : undefined
  if (!bearer) throw new StepFailure(`route ${route.id}: the stub upstream at ${stub.origin} received ${got ? 'a request without an id_token' : 'no request'} for ${url.pathname}`, '`iam render --check`: the id_token mutator is part of every rendered rule.')
  const {claims} = await ctx.verifier.verify(bearer).catch((error: unknown) => {
    throw new StepFailure(`route ${route.id}: the id_token the stub upstream at ${stub.origin} received does not verify: ${(error as Error).message}`, '`iam keys list` and the JWKS URL must agree; `iam token verify <jwt>` gives the reason code.')
  })
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
  if (!aud.includes(route.audience)) throw new StepFailure(`route ${route.id}: the stub upstream at ${stub.origin} received an id_token for ${aud.join(', ')}, not ${route.audience}`)
  if (token && found.subject !== undefined && claims.sub !== found.subject) throw new StepFailure(`route ${route.id}: the stub upstream at ${stub.origin} received an id_token for subject ${String(claims.sub)}, not the session's identity ${found.subject}`)
  found.notes.add(`the stub upstream at ${stub.origin} received an id_token (iss ${String(claims.iss)}, aud ${route.audience})`)
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

async function verifyToken(ctx: Ctx, route: RouteConfig, idToken: string | undefined, sub: string | undefined, o: {machine?: boolean} = {}): Promise<string[]> {
  if (!idToken) throw new StepFailure(`route ${route.id} allowed the request but Oathkeeper minted no id_token`, '`iam render --check`: the id_token mutator is part of every rendered rule.')
  const {claims, kid} = await ctx.verifier.verify(idToken).catch((error: unknown) => {
    throw new StepFailure(`the id_token of route ${route.id} does not verify: ${(error as Error).message}`, '`iam keys list` and the JWKS URL must agree; `iam token verify <jwt>` gives the reason code.')
  })
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
  if (!aud.includes(route.audience)) throw new StepFailure(`the id_token of route ${route.id} is for ${aud.join(', ')}, not ${route.audience}`)
  if (sub !== undefined && claims.sub !== sub) throw new StepFailure(`the id_token of route ${route.id} names subject ${String(claims.sub)}, not ${o.machine ? 'the client' : "the session's identity"} ${sub}`)
  if (o.machine && (claims.type !== 'machine' || claims.client_id !== sub)) {
    throw new StepFailure(`the id_token of route ${route.id} for client ${sub} is not marked as a machine token (type ${String(claims.type)}, client_id ${String(claims.client_id)})`, '`iam render --check`: the rule\'s id_token claims must come from iam.')
  }
  return [`id_token verified (kid ${kid}, aud ${route.audience}${o.machine ? ', type machine' : ''})`]
}

async function checkRoute(ctx: Ctx, route: RouteConfig, session: Session | undefined, machine: Machine | undefined): Promise<StepOutcome> {
  const found: RouteFindings = {warnings: [], notes: new Set()}
  // The subject a stub upstream must see: the session's identity, or the client for a request with a client token.
  const expectDecisions: ExpectDecisions = (urls, expected, what, token) => {
    const subject = token === undefined ? undefined : token === session?.token ? session.identityId : machine?.clientId
    if (subject === undefined) delete found.subject
    else found.subject = subject
    return expectDecision(ctx, route, urls, expected, what, token, found)
  }
  const message = await checkRouteDecisions(ctx, route, session, machine, expectDecisions)
  const gateway = found.warnings.length > 0 || !found.host ? '' : `; the gateway at 127.0.0.1:${ctx.gatewayPort} (Host ${found.host}) agreed`
  return {message: [message + gateway, ...found.notes].join('; '), warnings: found.warnings}
}

type ExpectDecisions = (urls: URL[], expected: 200 | 401 | 403, what: string, token?: string) => Promise<string | undefined>

async function checkRouteDecisions(ctx: Ctx, route: RouteConfig, session: Session | undefined, machine: Machine | undefined, expectDecisions: ExpectDecisions): Promise<string> {
  const params = new Map<string, string>()
  const paramValue = (name: string): string => params.get(name) ?? params.set(name, `smoke-${ctx.run}-${name}`).get(name)!
  const href = exampleUrl(route.match, paramValue)
  if (!href) throw new StepSkipped('no example URL could be derived from the match (too many glob alternatives)')
  // The route's root and, when the match reaches below it, a path under it: both must be routed alike.
  const below = exampleUrlBelow(route.match, paramValue)
  const url = [new URL(href), ...(below ? [new URL(below)] : [])]
  const probed = url.map((u) => u.pathname).join(' and ')
  if (route.auth === 'anonymous') {
    const idToken = await expectDecisions(url, 200, 'anonymous')
    return [`${probed}: anonymous 200`, ...(await verifyToken(ctx, route, idToken, undefined))].join('; ')
  }
  if (route.auth === 'client') return checkClientRoute(ctx, route, url, probed, session, machine, expectDecisions)
  const notes = [`${probed}: 401 without a session`]
  await expectDecisions(url, 401, 'without a session')
  if (route.auth === 'session-or-client') notes.push(...(await machineAllowed(ctx, route, url, machine, expectDecisions)))
  if (!session) return notes.join('; ')
  const deps = {keto: ctx.clients.keto, kratos: ctx.clients.kratos, shape: {namespace: ctx.config.roles.namespace, relation: ctx.config.roles.relation}}

  if (route.authorization?.roles) {
    const role = route.authorization.roles[0]!
    await expectDecisions(url, 403, 'with a session but no role', session.token)
    await grantRole(deps, session.identityId, role)
    try {
      const idToken = await expectDecisions(url, 200, `with role ${role}`, session.token)
      notes.push(`403 without a role, 200 with ${role}`, ...(await verifyToken(ctx, route, idToken, session.identityId)))
    } finally {
      await revokeRole(deps, session.identityId, role)
    }
    await expectDecisions(url, 403, `after revoking ${role}`, session.token)
    notes.push('403 again after the revoke')
  } else if (route.authorization?.anyOf) {
    // A check on a path parameter proves the most: the object comes from the URL.
    const check = route.authorization.anyOf.find((c) => c.object.includes('{')) ?? route.authorization.anyOf[0]!
    const object = check.object.replaceAll(/\{(\w+)\}/g, (_m, name: string) => params.get(name) ?? name)
    const tuple: RelationTuple = {namespace: check.namespace, object, relation: check.relation, subjectId: session.identityId}
    await expectDecisions(url, 403, 'with a session but no permission', session.token)
    await ctx.clients.keto.create(tuple)
    try {
      const idToken = await expectDecisions(url, 200, `with ${check.namespace}:${object}#${check.relation}`, session.token)
      notes.push(`403 without a tuple, 200 with ${check.namespace}:${object}#${check.relation}`, ...(await verifyToken(ctx, route, idToken, session.identityId)))
    } finally {
      await ctx.clients.keto.delete(tuple)
    }
    await expectDecisions(url, 403, `after deleting ${check.namespace}:${object}#${check.relation}`, session.token)
    notes.push('403 again after the delete')
  } else {
    const idToken = await expectDecisions(url, 200, 'with a session', session.token)
    notes.push('200 with a session', ...(await verifyToken(ctx, route, idToken, session.identityId)))
  }
  return notes.join('; ')
}

/** A client route: no token 401, a session 401, a token without its scopes 403, a client token 200 (type machine). */
async function checkClientRoute(ctx: Ctx, route: RouteConfig, url: URL[], probed: string, session: Session | undefined, machine: Machine | undefined, expectDecisions: ExpectDecisions): Promise<string> {
  const notes = [`${probed}: 401 without a token`]
  await expectDecisions(url, 401, 'without a token')
  if (session) {
    await expectDecisions(url, 401, "with a session (a client route takes a client's token only)", session.token)
    notes.push('401 with a session')
  }
  notes.push(...(await machineAllowed(ctx, route, url, machine, expectDecisions)))
  return notes.join('; ')
}

/** A route taking clients: 403 for a token without the route's scopes, 200 and a machine id_token with them. */
async function machineAllowed(ctx: Ctx, route: RouteConfig, url: URL[], machine: Machine | undefined, expectDecisions: ExpectDecisions): Promise<string[]> {
  if (!machine) throw new StepSkipped('no machine client to test with (see the machine-client step)')
  const notes: string[] = []
  if (route.scopes && route.scopes.length > 0) {
    await expectDecisions(url, 403, `with a client token without ${route.scopes.join(' ')}`, machine.weakToken)
    notes.push(`403 for a client token without ${route.scopes.join(' ')}`)
  }
  const idToken = await expectDecisions(url, 200, 'with a client token', machine.token)
  notes.push('200 with a client token', ...(await verifyToken(ctx, route, idToken, machine.clientId, {machine: true})))
  return notes
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
