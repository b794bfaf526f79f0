/**
 * `iam serve client-claims` fails closed: no key → 401 and nothing asked; Hydra unreachable → 503 (Hydra then refuses
 * the token); a grant other than client_credentials → 204 (left alone); an oversized body → 413. The happy path (the
 * client's metadata in its tokens) runs against the real Hydra in test/clients/machine.test.ts.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createLogger} from '../../src/servers/http/index.js'
import {startClientClaims} from '../../src/servers/client-claims/server.js'
import {getFreePort} from '../harness/ports.js'

const KEY = 'hook-key-0123456789abcdef'
let server: Awaited<ReturnType<typeof startClientClaims>>

beforeAll(async () => {
  const closed = await getFreePort()
  server = await startClientClaims({host: '127.0.0.1', port: await getFreePort(), secret: KEY, hydraAdminUrl: `http://127.0.0.1:${closed}`, timeoutMs: 500, logger: createLogger({level: 'error'})})
})
afterAll(async () => {
  await server.close()
})

const hook = (body: unknown, authorization?: string) =>
  fetch(`${server.url}/hook`, {method: 'POST', headers: {'content-type': 'application/json', ...(authorization ? {authorization} : {})}, body: typeof body === 'string' ? body : JSON.stringify(body)})
const call = {session: {}, request: {client_id: 'billing', grant_types: ['client_credentials']}}

describe('client-claims fails closed', () => {
  it('without the key, or with another, 401', async () => {
    expect((await hook(call)).status).toBe(401)
    expect((await hook(call, 'Bearer wrong-key-0123456789abcdef')).status).toBe(401)
  })

  it('Hydra unreachable: 503, so Hydra issues no token without its claims', async () => {
    const res = await hook(call, `Bearer ${KEY}`)
    expect(res.status).toBe(503)
    expect(await res.text()).not.toContain(KEY)
  })

  it('another grant is left alone (204); a body without a client is 400; an oversized one 413', async () => {
    expect((await hook({session: {}, request: {client_id: 'web', grant_types: ['authorization_code']}}, `Bearer ${KEY}`)).status).toBe(204)
    expect((await hook({session: {}}, `Bearer ${KEY}`)).status).toBe(400)
    expect((await hook(JSON.stringify({request: {client_id: 'x', pad: 'x'.repeat(70 * 1024)}}), `Bearer ${KEY}`)).status).toBe(413)
  })

  it('not ready while Hydra does not answer', async () => {
    expect((await fetch(`${server.url}/health/ready`)).status).toBe(503)
    expect((await fetch(`${server.url}/health/alive`)).status).toBe(200)
  })
})
