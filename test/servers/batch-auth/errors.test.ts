import {createServer, type Server} from 'node:http'
import {setTimeout as sleep} from 'node:timers/promises'
import {request} from 'undici'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {BatchAuthServer} from '../../../src/servers/batch-auth/index.js'
import {startTestBatchAuth} from './helpers.js'

/*
 * Unit test of OUR error mapping only: a hand-written stand-in answers the way a broken Keto could (5xx, 400,
 * garbage, wrong result count, no answer). Real Keto behaviour is tested in keto.test.ts.
 */
let mode = 'ok'
let fake: Server
let fakeUrl: string
let server: BatchAuthServer
const logs: string[] = []

beforeAll(async () => {
  fake = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c))
    req.on('end', () => {
      if (req.url === '/health/ready') return res.writeHead(mode === 'ok' ? 200 : 503).end('{}')
      const n = (JSON.parse(body) as {tuples: unknown[]}).tuples.length
      switch (mode) {
        case 'ok':
          return res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({results: Array.from({length: n}, () => ({allowed: false}))}))
        case '500':
          return res.writeHead(500, {'content-type': 'application/json'}).end('{"error":{"code":500,"message":"database is locked"}}')
        case '400':
          return res.writeHead(400, {'content-type': 'application/json'}).end('{"error":{"code":400,"message":"The request was malformed","reason":"batch exceeds max size of 10"}}')
        case 'garbage':
          return res.writeHead(200).end('<html>')
        case 'short':
          return res.writeHead(200).end('{"results":[]}')
        case 'hang':
          return // never answers
      }
    })
  })
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r))
  fakeUrl = `http://127.0.0.1:${(fake.address() as {port: number}).port}`
  server = await startTestBatchAuth(fakeUrl, {timeoutMs: 300, maxBodyBytes: 2048, maxTuples: 20, connections: 4, logs})
})

afterAll(async () => {
  await server?.close()
  fake.closeAllConnections()
  fake.close()
})

const tuple = {namespace: 'Role', object: 'admin', relation: 'member', subject_id: 'u1'}

async function post(body: string, headers: Record<string, string> = {'content-type': 'application/json'}, path = '/') {
  const res = await request(server.url + path, {method: 'POST', body, headers})
  const text = await res.body.text()
  return {status: res.statusCode, headers: res.headers, json: JSON.parse(text) as {error?: {code: string; message: string; field?: string}}}
}

describe('batch-auth error mapping', () => {
  it.each([
    ['500', 502, 'KETO_ERROR', 'database is locked'],
    ['400', 502, 'KETO_ERROR', 'batch exceeds max size'],
    ['garbage', 502, 'KETO_INVALID_RESPONSE', 'not JSON'],
    ['short', 502, 'KETO_INVALID_RESPONSE', '0 results for 1 tuples'],
    ['hang', 504, 'KETO_TIMEOUT', 'within 300 ms'],
  ])('Keto answering %s → %i %s (never 200 or 403)', async (m, status, code, message) => {
    mode = m
    const r = await post(JSON.stringify({tuples: [tuple]}))
    expect(r.status).toBe(status)
    expect(r.json.error?.code).toBe(code)
    expect(r.json.error?.message).toContain(message)
  })

  it('logs why Keto failed, throttled, without the request body', async () => {
    expect(logs.some((l) => l.includes('database is locked') && l.includes('"level":"warn"'))).toBe(true)
  })

  it('answers 403 again once Keto is healthy, on the same process (after the fail-fast window of a timeout)', async () => {
    mode = 'ok'
    await sleep(350)
    expect((await post(JSON.stringify({tuples: [tuple]}), undefined, '/check')).status).toBe(403)
  })

  it('after a Keto timeout, checks fail at once for a window (min(1 s, timeout)) instead of each waiting a deadline, then Keto is asked again', async () => {
    const own = await startTestBatchAuth(fakeUrl, {timeoutMs: 1000, connections: 2})
    try {
      const ask = async () => {
        const res = await request(own.url + '/check', {method: 'POST', body: JSON.stringify({tuples: [tuple]}), headers: {'content-type': 'application/json'}})
        return {status: res.statusCode, json: (await res.body.json()) as {error?: {code: string; message: string}}}
      }
      mode = 'hang'
      expect((await ask()).json.error?.message).toBe('Keto did not answer within 1000 ms')
      mode = 'ok'
      const fast = await ask()
      expect(fast.status).toBe(504)
      expect(fast.json.error?.message).toMatch(/^Keto did not answer within 1000 ms \d+ ms ago; failing fast for 1000 ms after a timeout$/)
      await sleep(1050)
      expect((await ask()).status).toBe(403)
    } finally {
      await own.close()
    }
  })

  it('rejects bad HTTP usage with JSON errors: 405 + Allow, 415, 413, 400', async () => {
    const get = await request(server.url + '/', {method: 'GET'})
    expect(get.statusCode).toBe(405)
    expect(get.headers.allow).toBe('POST')
    expect(JSON.parse(await get.body.text())).toMatchObject({error: {code: 'METHOD_NOT_ALLOWED'}})
    expect((await post(JSON.stringify({tuples: [tuple]}), {'content-type': 'text/plain'})).status).toBe(415)
    expect((await post(JSON.stringify({tuples: Array(50).fill(tuple)}))).status).toBe(413)
    const many = await post(JSON.stringify({tuples: Array(21).fill({namespace: 'a', object: 'b', relation: 'c', subject_id: 'd'})}))
    expect(many).toMatchObject({status: 400, json: {error: {code: 'TOO_MANY_TUPLES', field: 'tuples'}}})
    expect((await post('{"tuples":')).json.error?.code).toBe('INVALID_JSON')
  })

  it('reports readiness from Keto and counts outcomes in /metrics', async () => {
    mode = 'ok'
    expect((await request(server.url + '/health/ready')).statusCode).toBe(200)
    mode = '500'
    expect((await request(server.url + '/health/ready')).statusCode).toBe(503)
    expect((await request(server.url + '/health/alive')).statusCode).toBe(200)
    const metrics = await (await request(server.url + '/metrics')).body.text()
    expect(metrics).toMatch(/batch_auth_decisions_total\{outcome="denied"\} [1-9]/)
    expect(metrics).toMatch(/batch_auth_errors_total\{kind="keto_timeout"\} 1/)
    expect(metrics).toMatch(/batch_auth_errors_total\{kind="keto_status"\} 2/)
    expect(metrics).toMatch(/batch_auth_errors_total\{kind="body_too_large"\} 1/)
    expect(metrics).toContain('batch_auth_keto_request_duration_seconds_count')
  })
})

describe('batch-auth with Keto unreachable', () => {
  it('answers 503 KETO_UNAVAILABLE and is not ready', async () => {
    const s = await startTestBatchAuth('http://127.0.0.1:1', {timeoutMs: 500})
    try {
      const res = await request(s.url + '/', {method: 'POST', body: JSON.stringify({tuples: [tuple]}), headers: {'content-type': 'application/json'}})
      expect(res.statusCode).toBe(503)
      expect(JSON.parse(await res.body.text())).toMatchObject({error: {code: 'KETO_UNAVAILABLE'}})
      expect((await request(s.url + '/health/ready')).statusCode).toBe(503)
    } finally {
      await s.close()
    }
  })
})
