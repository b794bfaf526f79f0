/**
 * A gateway no path can walk around, proved on the REAL Oathkeeper of a native `iam up` stack: every request of the
 * matrix below goes through the proxy and the decision API with no credentials, an admin session and a session that
 * is a member of tenant `acme` only. Each starter route forwards to its own echo upstream with its own audience, so
 * for every request the test knows which rule let it through (or none), the status, and the path the upstream got.
 *
 * The expectation comes from Go's view of the path (test/gateway/go-path.ts: unescape, then path.Clean) and the
 * routes of iam.yaml: a request may reach an upstream only under the rule its cleaned path belongs to, with that
 * rule's authorization, and a `{param}` is exactly one segment of the path the upstream receives.
 */
import {appendFile} from 'node:fs/promises'
import {request} from 'node:http'
import {createServer, type IncomingMessage, type Server} from 'node:http'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {decodeJwt} from 'jose'
import {parseDocument} from 'yaml'

import {toOathkeeperRegexp} from '../../src/config/match.js'
import {getFreePort} from '../harness/ports.js'
import {loginIdentity} from '../harness/stack.js'
import {runIam} from '../helpers/cli.js'
import {nativeFixtures} from '../runtime/helpers.js'
import {forwardsEncodedSlash, gatewayPath, goUnescapePath} from './go-path.js'

const fixtures = nativeFixtures()
const NATIVE = {IAM_RUNTIME: 'native'}
const ROUTES = ['public', 'admin', 'tenant'] as const
type RouteId = (typeof ROUTES)[number]

interface Seen {
  route: RouteId
  /** The request target exactly as the upstream received it. */
  target: string
  audience: string[]
}

const seen: Seen[] = []
const upstreams: Server[] = []

async function echoUpstream(route: RouteId): Promise<number> {
  const port = await getFreePort()
  const server = createServer((req: IncomingMessage, res) => {
    const token = req.headers.authorization?.replace(/^Bearer /, '')
    const aud = token ? decodeJwt(token).aud : undefined
    seen.push({route, target: req.url ?? '', audience: aud === undefined ? [] : Array.isArray(aud) ? aud : [aud]})
    res.end('ok')
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  upstreams.push(server)
  return port
}

/** One request with the target sent byte for byte (no client-side normalisation). */
function send(port: number, target: string, authorization?: string, extra: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({host: '127.0.0.1', port, path: target, method: 'GET', headers: {...extra, ...(authorization ? {authorization} : {})}}, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.setTimeout(15_000, () => req.destroy(new Error(`timeout: ${target}`)))
    req.end()
  })
}

const TARGETS = [
  // Route roots and paths below them.
  '/public', '/public/', '/public/x', '/public/x/', '/admin', '/admin/', '/admin/x', '/tenants/acme', '/tenants/acme/', '/tenants/acme/x',
  // Dot segments, raw and percent-encoded.
  '/public/../admin/x', '/public/./../admin/x', '/public/x/../../admin/x', '/public/%2e%2e/admin/x', '/public/%2E%2E/admin/x',
  '/public/.%2e/admin/x', '/public/%2e/x', '/admin/./x', '/./admin/x', '/public/..', '/admin/x/..',
  // Encoded slashes, single and double encoded.
  '/public/..%2Fadmin/x', '/public%2F..%2Fadmin/x', '/public%2fx', '/admin%2Fx', '/public/..%252Fadmin/x', '/public/%252e%252e/admin/x',
  // Double slashes and trailing slashes.
  '//public/x', '//admin/x', '/admin//x', '/public//..//admin/x', '/admin/x//',
  // Path parameters, backslashes, case.
  '/public/..;/admin/x', '/admin;/x', '/admin;x/x', '/public/..\\admin/x', '/public\\..\\admin\\x', '/PUBLIC/x', '/Public/x', '/ADMIN/x', '/%61dmin/x',
  // Query and fragment tricks.
  '/public/x?/../admin/x', '/public/x?next=/admin/x', '/public/x#/../admin/x', '/admin/x?role=admin',
  // Tenants: walking out of one's tenant, and parameters that would span two segments.
  '/tenants/acme/../globex/x', '/tenants/acme/%2e%2e/globex/x', '/tenants/acme%2F..%2Fglobex/x', '/tenants/acme%2Fglobex/x', '/tenants/acme%2F', '/tenants/acme%252Fx/y',
  '/tenants/acme%252F..%252Fglobex/x', '/tenants/globex/../acme/x', '/tenants/acme;/x', '/tenants/acme;globex/x', '/tenants//acme/x', '/tenants/./acme/x',
  '/tenants/acme\\..\\globex/x', '/TENANTS/acme/x', '/tenants/%61cme/x', '/tenants/globex', '/tenants/acme/..', '/tenants', '/tenants/',
]

type Who = 'anonymous' | 'admin' | 'member'

describe('path matrix through the real gateway (proxy and decision API)', () => {
  let proxyPort: number
  let apiPort: number
  let base: string
  const tokens: Partial<Record<Who, string>> = {}
  const routeOf = new Map<RouteId, RegExp>()

  beforeAll(async () => {
    const ports = Object.fromEntries(await Promise.all(ROUTES.map(async (id) => [id, await echoUpstream(id)] as const))) as Record<RouteId, number>
    const project = await fixtures.makeProject('paths', ports.public, (yaml) => {
      const doc = parseDocument(yaml)
      ROUTES.forEach((id, index) => {
        expect(doc.getIn(['routes', index, 'id'])).toBe(id)
        doc.setIn(['routes', index, 'upstream'], `http://127.0.0.1:${ports[id]}`)
        doc.setIn(['routes', index, 'audience'], `paths-${id}`)
      })
      for (const [index, id] of ROUTES.entries()) {
        // Matches are paths below the gateway's public URL (from ports.oathkeeperProxy).
        const match = `http://127.0.0.1:${String(doc.getIn(['ports', 'oathkeeperProxy']))}${String(doc.getIn(['routes', index, 'match']))}`
        const {url} = toOathkeeperRegexp(match)
        routeOf.set(id, new RegExp(`^${url.replaceAll(/<([^>]*)>|([.*+?^${}()|[\]\\])/g, (_m, group: string | undefined, ch: string | undefined) => (group !== undefined ? `(${group})` : `\\${ch}`))}$`))
      }
      return doc.toString()
    })
    proxyPort = project.ports.oathkeeperProxy
    apiPort = project.ports.oathkeeperApi
    base = `http://127.0.0.1:${proxyPort}`
    const up = await runIam(['up', '--json'], {cwd: project.dir, env: NATIVE, timeoutMs: 180_000})
    expect(up.exitCode, up.output).toBe(0)

    const password = 'path-matrix-password-9'
    const admin = await runIam(['identities', 'create', '--email', 'admin@paths.test', '--password-env', 'PASSWORD', '--role', 'admin', '--json'], {cwd: project.dir, env: {PASSWORD: password}})
    expect(admin.exitCode, admin.output).toBe(0)
    const member = await runIam(['identities', 'create', '--email', 'member@paths.test', '--password-env', 'PASSWORD', '--json'], {cwd: project.dir, env: {PASSWORD: password}})
    expect(member.exitCode, member.output).toBe(0)
    const memberId = (member.json as {id: string}).id
    const tuple = await runIam(['tuples', 'add', `Tenant:acme#member@${memberId}`], {cwd: project.dir})
    expect(tuple.exitCode, tuple.output).toBe(0)
    const kratosPublic = `http://127.0.0.1:${project.ports.kratosPublic}`
    for (const [who, email] of [['admin', 'admin@paths.test'], ['member', 'member@paths.test']] as const) {
      const login = await loginIdentity(kratosPublic, email, password)
      expect(login.token, JSON.stringify(login.body)).toBeDefined()
      tokens[who] = login.token
    }
  }, 240_000)

  afterAll(async () => {
    await fixtures.cleanup()
    for (const server of upstreams) server.close()
  }, 60_000)

  /**
   * Which route the gateway must apply to `target`, and the tenant Keto is asked about: the `{tenant}` segment of
   * the cleaned path, or — through the proxy, when the forwarded path keeps an encoded slash — that whole path,
   * which no tuple grants. The decision API strips `/decisions` from the decoded path and so no longer sees the
   * client's encoding: it decides on the decoded path alone (the README says what a proxy in front must forward).
   */
  function expectedRoute(target: string, via: 'proxy' | 'decision'): {route: RouteId; tenant?: string} | undefined {
    const path = gatewayPath(target)
    if (path === undefined) return undefined
    for (const id of ROUTES) {
      const match = routeOf.get(id)!.exec(`${base}${path}`)
      const tenant = via === 'proxy' && forwardsEncodedSlash(target) ? target.split('?')[0]! : match?.[1]
      if (match) return {route: id, ...(id === 'tenant' ? {tenant} : {})}
    }
    return undefined
  }

  function expectedStatus(who: Who, route: {route: RouteId; tenant?: string} | undefined): number {
    if (!route) return 404
    // Public routes take requests with or without credentials (anonymous, then noop when Authorization is sent).
    if (route.route === 'public') return 200
    if (who === 'anonymous') return 401
    if (route.route === 'admin') return who === 'admin' ? 200 : 403
    return who === 'admin' || route.tenant === 'acme' ? 200 : 403
  }

  it.each(['anonymous', 'admin', 'member'] as const)('as %s: each request is decided by the rule of its cleaned path, and reaches only that rule\'s upstream', async (who) => {
    const rows: string[] = []
    const problems: string[] = []
    const authorization = tokens[who] ? `Bearer ${tokens[who]}` : undefined
    for (const target of TARGETS) {
      const route = expectedRoute(target, 'proxy')
      const expected = expectedStatus(who, route)
      const expectedDecision = expectedStatus(who, expectedRoute(target, 'decision'))
      const before = seen.length
      const status = await send(proxyPort, target, authorization)
      const hits = seen.slice(before)
      // The decision API is asked as the proxy would be: same method, scheme and host (rules match host:port too).
      const decision = await send(apiPort, `/decisions${target}`, authorization, {'x-forwarded-host': `127.0.0.1:${proxyPort}`, 'x-forwarded-proto': 'http'})
      const hit = hits[0]
      rows.push(`${who.padEnd(9)} ${target.padEnd(40)} rule=${route?.route ?? '-'} proxy=${status} decision=${decision} upstream=${hit ? `${hit.route} ${hit.target}` : '-'}`)
      if (status !== expected) problems.push(`${target}: proxy answered ${status}, expected ${expected}`)
      if (decision !== expectedDecision) problems.push(`${target}: decision API answered ${decision}, expected ${expectedDecision}`)
      if (status === 200) {
        if (hits.length !== 1) problems.push(`${target}: ${hits.length} upstream requests`)
        else if (hit!.route !== route?.route) problems.push(`${target}: reached the ${hit!.route} upstream, but its cleaned path belongs to ${route?.route ?? 'no rule'}`)
        else {
          if (!hit!.audience.includes(`paths-${route.route}`)) problems.push(`${target}: the id_token is for ${hit!.audience.join(',')}, not paths-${route.route}`)
          // The upstream sees the path the rule matched (Go's view of what it received is the gateway's cleaned path).
          const received = hit!.target.split('?')[0]!
          if (gatewayPath(received) !== gatewayPath(target)) problems.push(`${target}: the upstream received ${received}, not the path the rule matched (${gatewayPath(target)})`)
          // A member gets in only through the tenant parameter: it must be the one segment the upstream sees.
          if (who === 'member' && route.tenant !== undefined) {
            const segment = received.split('/')[2] ?? ''
            if (goUnescapePath(segment) !== route.tenant) problems.push(`${target}: {tenant} was checked as "${route.tenant}" but the upstream's segment is "${segment}"`)
          }
        }
      } else if (hits.length > 0) {
        problems.push(`${target}: answered ${status} but the ${hits[0]!.route} upstream received ${hits[0]!.target}`)
      }
    }
    // IAM_PATH_MATRIX_REPORT=<file> keeps the table (what the README's "what path an upstream receives" is read from).
    if (process.env.IAM_PATH_MATRIX_REPORT) await appendFile(process.env.IAM_PATH_MATRIX_REPORT, rows.join('\n') + '\n')
    expect(problems, rows.join('\n')).toEqual([])
  }, 120_000)

  it('curl --path-as-is /public/../admin/x without credentials is not 200 and the upstream never sees it', async () => {
    const before = seen.length
    const status = await send(proxyPort, '/public/../admin/x')
    expect(status).toBe(401)
    expect(seen.slice(before)).toEqual([])
  })
})
