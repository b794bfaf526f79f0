import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startOathkeeper, type HarnessDetails, type ServerHandle} from '../../harness/index.js'

describe('real Oathkeeper', () => {
  let upstream: Server
  let upstreamUrl: string
  let oathkeeper: ServerHandle & HarnessDetails & {urls: {proxy: string; api: string}}

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({upstream: true, method: req.method, url: req.url}))
    })
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
    const rule = (id: string, authorizer: 'allow' | 'deny') => ({
      id,
      upstream: {url: upstreamUrl},
      match: {url: `<https?>://<[^/]+>/${id}<(/.*)?>`, methods: ['GET', 'POST']},
      authenticators: [{handler: 'anonymous'}],
      authorizer: {handler: authorizer},
      mutators: [{handler: 'noop'}],
    })
    oathkeeper = await startOathkeeper({rules: [rule('open', 'allow'), rule('closed', 'deny')]})
  })
  afterAll(async () => {
    process.stderr.write(`oathkeeper ready after ${oathkeeper?.readyTimesMs.join(', ')} ms\n`)
    await new Promise((resolve) => upstream?.close(resolve))
  })

  it('proxies an anonymous/allow rule to the upstream and returns its answer', async () => {
    const response = await fetch(`${oathkeeper.urls.proxy}/open/hello?x=1`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({upstream: true, method: 'GET', url: '/open/hello?x=1'})
  })

  it('answers 403 for a rule with the deny authorizer, without reaching the upstream', async () => {
    const response = await fetch(`${oathkeeper.urls.proxy}/closed/secret`)
    expect(response.status).toBe(403)
    expect(JSON.stringify(await response.json())).not.toContain('upstream')
  })

  it('answers /decisions on the API port: 200 for the allow rule, 403 for the deny rule, 404 without a rule', async () => {
    expect((await fetch(`${oathkeeper.urls.api}/decisions/open/hello`)).status).toBe(200)
    expect((await fetch(`${oathkeeper.urls.api}/decisions/closed/secret`)).status).toBe(403)
    expect((await fetch(`${oathkeeper.urls.api}/decisions/nowhere`)).status).toBe(404)
  })
})
