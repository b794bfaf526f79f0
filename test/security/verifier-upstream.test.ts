/**
 * The exported verifier middleware in front of a real upstream, with id_tokens minted by the REAL Oathkeeper of a
 * rendered project and its real JWKS endpoint: a token through the gateway passes; the same token presented again
 * (replay), an unsigned copy (`alg: none`), an expired one and one for another audience are refused with 401 and the
 * reason, and the upstream handler never runs for them.
 */
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {setTimeout as sleep} from 'node:timers/promises'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {defaultConfig} from '../../src/config/defaults.js'
import {createVerifier, verifierMiddleware} from '../../src/index.js'
import {freeProjectPorts, startRenderedStack} from '../harness/stack.js'
import {getFreePort} from '../harness/index.js'

// Oathkeeper writes `exp` in whole seconds (truncated), so a 1 s TTL may leave only milliseconds of validity and
// the first request (which also fetches the JWKS) would see an expired token on a busy machine; 3 s leaves >= 2 s.
const TTL_MS = 3000

let upstream: Server
let proxy: string
let upstreamUrl: string
const handled: string[] = []
const captured: string[] = []

beforeAll(async () => {
  const upstreamPort = await getFreePort()
  const config = defaultConfig('vu', {ports: await freeProjectPorts()})
  config.routes = config.routes.map((r) => ({...r, upstream: `http://127.0.0.1:${upstreamPort}`}))
  // Short-lived tokens and no skew, so a captured token expires within the test.
  config.tokens = {...config.tokens, ttlMs: TTL_MS, clockSkewMs: 0}
  const stack = await startRenderedStack(config, 'verifier-upstream')
  proxy = stack.urls.proxy
  const jwksUrl = `${stack.urls.api}/.well-known/jwks.json`
  const options = {jwksUrl, issuer: config.tokens.issuer, clockSkew: 0, replay: true}
  const guard = verifierMiddleware(createVerifier({...options, audience: 'vu-api'}))
  const otherGuard = verifierMiddleware(createVerifier({...options, audience: 'billing-api'}))
  upstream = createServer((req, res) => {
    // /public/capture: keep the gateway's token unverified, to present it to the middleware later.
    if (req.url?.startsWith('/public/capture')) {
      captured.push((req.headers.authorization ?? '').replace(/^Bearer /, ''))
      return void res.end('{}')
    }
    const guarded = req.url?.startsWith('/other') ? otherGuard : guard
    guarded(req, res, () => {
      handled.push(req.url ?? '')
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({sub: (req as {auth?: {claims: {sub?: string}}}).auth?.claims.sub ?? null}))
    })
  })
  await new Promise<void>((r) => upstream.listen(upstreamPort, '127.0.0.1', r))
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
}, 120_000)

afterAll(async () => {
  await new Promise((r) => upstream?.close(r))
})

const direct = (path: string, token: string): Promise<Response> => fetch(`${upstreamUrl}${path}`, {headers: {authorization: `Bearer ${token}`}})

async function capture(): Promise<string> {
  expect((await fetch(`${proxy}/public/capture`)).status).toBe(200)
  return captured.at(-1)!
}

describe('verifier middleware in front of a real upstream (real Oathkeeper tokens and JWKS)', () => {
  it('a token minted by the gateway passes once; presented again it is a replay', async () => {
    const res = await fetch(`${proxy}/public/hello`)
    expect(res.status, res.headers.get('www-authenticate') ?? '').toBe(200)
    expect(await res.json()).toEqual({sub: 'guest'})
    const token = await capture()
    const first = await direct('/public/first', token)
    expect(first.status, first.headers.get('www-authenticate') ?? '').toBe(200)
    const replayed = await direct('/public/again', token)
    expect(replayed.status).toBe(401)
    expect(replayed.headers.get('www-authenticate')).toContain('error_description="replay"')
  })

  it('an unsigned copy (alg none, same claims) is refused', async () => {
    const [header, payload] = (await capture()).split('.') as [string, string]
    const none = Buffer.from(JSON.stringify({...JSON.parse(Buffer.from(header, 'base64url').toString()), alg: 'none'})).toString('base64url')
    const res = await direct('/public/unsigned', `${none}.${payload}.`)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/error_description="(invalid_signature|malformed)"/)
  })

  it('a token for another audience is refused', async () => {
    const res = await direct('/other/x', await capture())
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toContain('error_description="audience_mismatch"')
  })

  it('an expired token is refused', async () => {
    const token = await capture()
    await sleep(TTL_MS + 1100)
    const res = await direct('/public/late', token)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toContain('error_description="expired"')
  })

  it('the handler ran only for the accepted requests', () => {
    expect(handled).toEqual(['/public/hello', '/public/first'])
  })
})
