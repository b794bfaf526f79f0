import {connect} from 'node:net'
import {Readable} from 'node:stream'
import {request} from 'undici'
import {afterEach, describe, expect, it} from 'vitest'

import {
  HttpError,
  MetricsRegistry,
  createLogger,
  readJsonBody,
  sendJson,
  startHttpServer,
  type RunningServer,
} from '../../../src/servers/http/index.js'

const logLines: string[] = []
const logger = createLogger({level: 'debug', stream: {write: (s: string) => logLines.push(s)}})
let running: RunningServer | undefined

afterEach(async () => {
  await running?.close()
  running = undefined
})

async function start(extra: Partial<Parameters<typeof startHttpServer>[0]> = {}): Promise<RunningServer> {
  const metrics = new MetricsRegistry()
  metrics.counter('demo_total', 'Demo.', ['outcome']).labels('ok').inc(3)
  running = await startHttpServer({
    name: 'test',
    host: '127.0.0.1',
    port: 0,
    logger,
    metrics,
    routes: {
      '/echo': {
        async POST(req, res) {
          sendJson(res, 200, {got: await readJsonBody(req, {maxBytes: 100})})
        },
      },
      '/boom': {
        GET() {
          throw new Error('secret internals')
        },
      },
      '/teapot': {
        GET() {
          throw new HttpError(418, 'TEAPOT', 'short and stout', {field: 'kettle'})
        },
      },
    },
    ...extra,
  })
  return running
}

async function call(s: RunningServer, method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const res = await request(s.url + path, {method: method as 'GET', body, headers})
  const text = await res.body.text()
  return {status: res.statusCode, headers: res.headers, text, json: (() => { try { return JSON.parse(text) as Record<string, any> } catch { return undefined } })()}
}

describe('startHttpServer', () => {
  it('serves health and metrics', async () => {
    const s = await start()
    expect((await call(s, 'GET', '/health/alive')).json).toEqual({status: 'ok'})
    expect((await call(s, 'GET', '/health/ready')).status).toBe(200)
    const m = await call(s, 'GET', '/metrics')
    expect(m.headers['content-type']).toContain('text/plain; version=0.0.4')
    expect(m.text).toContain('demo_total{outcome="ok"} 3')
  })

  it('answers 503 on /health/ready when not ready', async () => {
    const s = await start({ready: async () => ({ok: false, checks: {keto: 'HTTP 500'}})})
    const r = await call(s, 'GET', '/health/ready')
    expect(r.status).toBe(503)
    expect(r.json).toEqual({status: 'unavailable', checks: {keto: 'HTTP 500'}})
  })

  it('answers 404 and 405 with Allow as JSON', async () => {
    const s = await start()
    const nf = await call(s, 'GET', '/nope')
    expect(nf.status).toBe(404)
    expect(nf.json?.error.code).toBe('NOT_FOUND')
    const na = await call(s, 'PUT', '/echo', '{}', {'content-type': 'application/json'})
    expect(na.status).toBe(405)
    expect(na.headers.allow).toBe('POST')
    expect(na.json?.error.code).toBe('METHOD_NOT_ALLOWED')
  })

  it('reads bounded JSON bodies: 200, 400, 413, 415', async () => {
    const s = await start()
    const ok = await call(s, 'POST', '/echo?x=1', '{"a":1}', {'content-type': 'application/json; charset=utf-8'})
    expect(ok).toMatchObject({status: 200, json: {got: {a: 1}}})
    const bad = await call(s, 'POST', '/echo', '{"a":', {'content-type': 'application/json'})
    expect(bad.status).toBe(400)
    expect(bad.json?.error).toMatchObject({code: 'INVALID_JSON', field: 'body'})
    const empty = await call(s, 'POST', '/echo', '', {'content-type': 'application/json'})
    expect(empty.status).toBe(400)
    const big = await call(s, 'POST', '/echo', JSON.stringify({a: 'x'.repeat(200)}), {'content-type': 'application/json'})
    expect(big.status).toBe(413)
    expect(big.json?.error.code).toBe('BODY_TOO_LARGE')
    const type = await call(s, 'POST', '/echo', '{}', {'content-type': 'text/plain'})
    expect(type.status).toBe(415)
    expect(type.json?.error.code).toBe('UNSUPPORTED_MEDIA_TYPE')
  })

  it('rejects an oversized chunked body (no Content-Length) with 413', async () => {
    const s = await start()
    async function* chunks() {
      for (let i = 0; i < 10; i++) yield Buffer.from('x'.repeat(50))
    }
    const res = await request(s.url + '/echo', {method: 'POST', body: Readable.from(chunks()), headers: {'content-type': 'application/json'}})
    expect(res.statusCode).toBe(413)
    expect(JSON.parse(await res.body.text())).toMatchObject({error: {code: 'BODY_TOO_LARGE'}})
  })

  it('maps thrown HttpError to its status and other errors to a 500 without internals', async () => {
    const s = await start()
    const t = await call(s, 'GET', '/teapot')
    expect(t).toMatchObject({status: 418, json: {error: {code: 'TEAPOT', field: 'kettle'}}})
    const b = await call(s, 'GET', '/boom')
    expect(b.status).toBe(500)
    expect(b.text).not.toContain('secret internals')
    expect(logLines.some((l) => l.includes('secret internals'))).toBe(true)
  })

  it('finishes in-flight requests on close, then refuses new connections', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const s = await start({
      routes: {
        '/slow': {
          async GET(_req, res) {
            await gate
            sendJson(res, 200, {done: true})
          },
        },
      },
    })
    const inflight = call(s, 'GET', '/slow')
    await new Promise((r) => setTimeout(r, 50))
    const closing = s.close()
    release()
    const r = await inflight
    expect(r).toMatchObject({status: 200, json: {done: true}})
    await closing
    await expect(request(s.url + '/health/alive')).rejects.toThrow()
  })

  it('cuts requests still running at the shutdown deadline', async () => {
    const s = await start({
      shutdownTimeoutMs: 100,
      routes: {'/hang': {GET: () => new Promise<void>(() => {})}},
    })
    const hanging = call(s, 'GET', '/hang').catch((e: Error) => e)
    await new Promise((r) => setTimeout(r, 50))
    await s.close()
    expect(await hanging).toBeInstanceOf(Error)
  })

  /** Sends raw bytes, returns what the server answered before closing (or '' if it just closed). */
  async function raw(s: RunningServer, text: string): Promise<{answer: string}> {
    const socket = connect(s.port, '127.0.0.1')
    let answer = ''
    socket.on('data', (d) => (answer += d.toString()))
    socket.on('error', () => undefined)
    socket.write(text)
    await new Promise<void>((resolve) => socket.on('close', () => resolve()))
    return {answer}
  }

  it('oversized request headers get 431 with a JSON body, not 400', async () => {
    const s = await start()
    const {answer} = await raw(s, `GET /health/alive HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
    expect(answer).toMatch(/^HTTP\/1\.1 431 /)
    expect(answer).toContain('"code":"HEADERS_TOO_LARGE"')
  })

  it('a client that never finishes its headers is cut at the headers timeout (408), not kept open', async () => {
    const s = await start({headersTimeoutMs: 1000, requestTimeoutMs: 1000})
    // Without the timeout (Node's default is 60 s, checked every 30 s) this waits past the test's own timeout.
    const {answer} = await raw(s, 'GET /health/alive HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ')
    expect(answer).toMatch(/^HTTP\/1\.1 408 /)
  })

  it('allowedHosts: another Host name (DNS rebinding) gets 421; loopback names with any port pass', async () => {
    const s = await start({allowedHosts: ['127.0.0.1', 'localhost', '[::1]']})
    expect((await call(s, 'GET', '/health/alive', undefined, {host: 'evil.example:80'})).status).toBe(421)
    expect((await call(s, 'GET', '/health/alive', undefined, {host: `localhost:${s.port}`})).status).toBe(200)
    expect((await call(s, 'GET', '/health/alive', undefined, {host: `LOCALHOST`})).status).toBe(200)
    expect((await call(s, 'GET', '/health/alive')).status).toBe(200)
  })

  it('sameOriginWrites: a state change from another origin is 403; same origin, no Origin (curl) and reads pass', async () => {
    const s = await start({sameOriginWrites: true})
    const post = (headers: Record<string, string>) => call(s, 'POST', '/echo', '{}', {'content-type': 'application/json', ...headers})
    expect((await post({origin: 'http://evil.example'})).status).toBe(403)
    expect((await post({'sec-fetch-site': 'cross-site'})).status).toBe(403)
    expect((await post({'sec-fetch-site': 'same-site'})).status).toBe(403)
    expect((await post({origin: `http://127.0.0.1:${s.port}`, 'sec-fetch-site': 'same-origin'})).status).toBe(200)
    expect((await post({})).status).toBe(200)
    expect((await call(s, 'GET', '/health/alive', undefined, {origin: 'http://evil.example'})).status).toBe(200)
  })
})
