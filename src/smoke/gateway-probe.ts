/**
 * The real path of a route: a request sent to the gateway's listening port (loopback) with the Host a client would
 * use (the route's match host), so a rule rendered for another host or port answers 404 here as it would to a client.
 * `classifyGatewayAnswer` is pure: it tells Oathkeeper's own answers (no rule, 401, 403, an upstream it cannot reach)
 * from the upstream's, whatever status the upstream chose.
 */
import {requestJson, UpstreamError, describeNetworkFailure} from '../servers/http/upstream.js'

export interface GatewayAnswer {
  status: number
  /** Oathkeeper's own error answer (`{"error": {"code", "message"}}`), when it is one: its message. */
  oathkeeperError?: string
}

export interface GatewayProbe {
  /** The gateway's listening port on loopback (`ports.oathkeeperProxy`). */
  port: number
  url: URL
  method: string
  /** A Kratos session token, sent as a client would. Never printed. */
  sessionToken?: string
  timeoutMs: number
}

/** Thrown when the gateway itself does not answer (not running, not listening on its port). */
export class GatewayUnreachable extends Error {}

export async function probeGateway(p: GatewayProbe): Promise<GatewayAnswer> {
  const headers: Record<string, string> = {host: p.url.host}
  // A TLS-terminating front proxy says which scheme the client used; Oathkeeper matches rules on it.
  if (p.url.protocol === 'https:') headers['x-forwarded-proto'] = 'https'
  if (p.sessionToken) headers.authorization = `Bearer ${p.sessionToken}`
  let status: number
  let body: unknown
  try {
    const res = await requestJson(`http://127.0.0.1:${p.port}`, {
      method: p.method as 'GET',
      path: p.url.pathname + p.url.search,
      headers,
      timeoutMs: p.timeoutMs,
      what: 'the gateway',
      acceptStatus: () => true,
      maxBytes: 256 * 1024,
    })
    status = res.status
    body = res.body
  } catch (error) {
    // An upstream's answer need not be JSON: the status is what counts.
    if (error instanceof UpstreamError && error.kind === 'invalid_response' && error.status !== undefined) return {status: error.status}
    throw new GatewayUnreachable(`the gateway at 127.0.0.1:${p.port} did not answer (${describeNetworkFailure(error)})`)
  }
  const oathkeeperError = oathkeeperErrorMessage(body, status)
  return {status, ...(oathkeeperError === undefined ? {} : {oathkeeperError})}
}

/** Oathkeeper answers its own errors as `{"error": {"code": <status>, "status": "...", "message": "..."}}`. */
function oathkeeperErrorMessage(body: unknown, status: number): string | undefined {
  if (!body || typeof body !== 'object') return undefined
  const error = (body as {error?: unknown}).error
  if (!error || typeof error !== 'object') return undefined
  const e = error as {code?: unknown; message?: unknown; reason?: unknown}
  if (e.code !== status) return undefined
  return [e.message, e.reason].filter((p): p is string => typeof p === 'string' && p.length > 0).join(': ') || `HTTP ${status}`
}

/** What the client should get: Oathkeeper's refusal with this status, or the upstream's answer (any status). */
export type GatewayExpectation = 401 | 403 | 'upstream'

export type GatewayVerdict = {verdict: 'ok'; text: string} | {verdict: 'warn' | 'fail'; text: string; fix: string}

export interface VerdictContext {
  routeId: string
  upstream: string
  gatewayPort: number
  url: URL
  /** What `expected` means in words, e.g. `without a session`. */
  what: string
}

/** The gateway's answer judged against what iam.yaml says; a missing upstream is a warning, never ok. */
export function classifyGatewayAnswer(answer: GatewayAnswer, expected: GatewayExpectation, c: VerdictContext): GatewayVerdict {
  const where = `${c.url.pathname} through the gateway (127.0.0.1:${c.gatewayPort}, Host ${c.url.host}) ${c.what}`
  const said = `${answer.status}${answer.oathkeeperError ? `: ${answer.oathkeeperError}` : ''}`
  if (answer.status === 404 && answer.oathkeeperError !== undefined) {
    return {
      verdict: 'fail',
      text: `route ${c.routeId}: ${where}: the gateway answered ${said} (no access rule matched)`,
      fix: `No rule the running gateway loaded accepts ${c.url.host}${c.url.pathname}: a client sending Host ${c.url.host} gets 404. \`iam render --check\` shows whether ory/oathkeeper/rules.json is what iam renders for route ${c.routeId} (rules rendered for other ports or hosts, or hand-edited); \`iam render --force\` restores it and Oathkeeper reloads it by itself.`,
    }
  }
  if (expected !== 'upstream') {
    if (answer.status === expected && answer.oathkeeperError !== undefined) return {verdict: 'ok', text: `${c.url.pathname} gateway ${expected}`}
    return {
      verdict: 'fail',
      text: `route ${c.routeId}: ${where}: expected Oathkeeper's ${expected}, the gateway answered ${said}`,
      fix: `The running gateway does not enforce route ${c.routeId} as iam.yaml says. \`iam render --check\` shows whether ory/oathkeeper/rules.json drifted; \`iam render --force\` restores it.`,
    }
  }
  if (answer.status === 502 || answer.status === 503 || answer.status === 504) {
    return {
      verdict: 'warn',
      text: `route ${c.routeId}: ${where}: the gateway answered ${said}: the upstream ${c.upstream} is not answering (the rule and the auth worked)`,
      fix: `Start the service at ${c.upstream}, or run \`iam smoke --upstream-stub\` to have smoke stand in for it and check the id_token it receives.`,
    }
  }
  if (answer.oathkeeperError !== undefined) {
    return {
      verdict: 'fail',
      text: `route ${c.routeId}: ${where}: expected the upstream's answer, the gateway refused with ${said}`,
      fix: `\`iam logs oathkeeper\` says why; \`iam render --check\` shows whether ory/oathkeeper/rules.json drifted.`,
    }
  }
  return {verdict: 'ok', text: `${c.url.pathname} gateway → upstream ${answer.status}`}
}
