import {createServer} from 'node:net'
import {describe, expect, it} from 'vitest'

import {
  MetricsRegistry,
  REDACTED,
  cached,
  classifyUpstreamError,
  createLogger,
  createUpstreamPool,
  gatewayStatus,
  isJsonContentType,
  parseByteSize,
  probeReady,
  redact,
  requestJson,
} from '../../../src/servers/http/index.js'

describe('logger', () => {
  it('writes JSON lines and redacts credentials at any depth', () => {
    const lines: string[] = []
    const log = createLogger({stream: {write: (s: string) => lines.push(s)}, base: {service: 'x'}})
    log.info('hello', {headers: {Authorization: 'Bearer abc', cookie: 'ory_session=1', 'x-ok': 'fine'}, nested: [{client_secret: 's'}], Set_Cookie: 'c'})
    log.debug('hidden')
    expect(lines).toHaveLength(1)
    const line = JSON.parse(lines[0]!)
    expect(line).toMatchObject({level: 'info', msg: 'hello', service: 'x', headers: {Authorization: REDACTED, cookie: REDACTED, 'x-ok': 'fine'}})
    expect(line.nested[0].client_secret).toBe(REDACTED)
    expect(line.Set_Cookie).toBe(REDACTED)
    expect(lines[0]).not.toContain('abc')
    expect(log.enabled('debug')).toBe(false)
  })

  it('redacts errors to name, message and code', () => {
    const e = Object.assign(new Error('boom'), {code: 'ECONNREFUSED'})
    expect(redact({error: e})).toEqual({error: {name: 'Error', message: 'boom', code: 'ECONNREFUSED'}})
  })
})

describe('metrics', () => {
  it('renders counters and cumulative histograms in Prometheus text format', () => {
    const r = new MetricsRegistry()
    const c = r.counter('x_total', 'Xs.', ['kind'])
    c.labels('a').inc()
    c.labels('a').inc(2)
    c.labels('b"\n').inc()
    const h = r.histogram('lat_seconds', 'Latency.', {buckets: [0.1, 1]})
    h.observe(0.05)
    h.observe(0.5)
    h.observe(5)
    const text = r.render()
    expect(text).toContain('# TYPE x_total counter\n')
    expect(text).toContain('x_total{kind="a"} 3\n')
    expect(text).toContain('x_total{kind="b\\"\\n"} 1\n')
    expect(text).toContain('lat_seconds_bucket{le="0.1"} 1\n')
    expect(text).toContain('lat_seconds_bucket{le="1"} 2\n')
    expect(text).toContain('lat_seconds_bucket{le="+Inf"} 3\n')
    expect(text).toContain('lat_seconds_count 3\n')
    expect(() => r.counter('x_total', 'again')).toThrow()
    expect(() => c.labels()).toThrow()
  })
})

describe('parsers', () => {
  it('parses sizes and JSON content types', () => {
    expect(parseByteSize('64kb')).toBe(65536)
    expect(parseByteSize('1mb')).toBe(1048576)
    expect(parseByteSize('100')).toBe(100)
    expect(parseByteSize('lots')).toBeUndefined()
    expect(isJsonContentType('application/json; charset=UTF-8')).toBe(true)
    expect(isJsonContentType('Application/JSON')).toBe(true)
    expect(isJsonContentType('application/problem+json')).toBe(true)
    expect(isJsonContentType('text/json')).toBe(false)
    expect(isJsonContentType(undefined)).toBe(false)
  })
})

describe('upstream', () => {
  async function closedPort(): Promise<number> {
    const s = createServer()
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
    const port = (s.address() as {port: number}).port
    await new Promise((r) => s.close(r))
    return port
  }

  it('classifies a refused connection as unavailable (503) and never throws from probeReady', async () => {
    const pool = createUpstreamPool(`http://127.0.0.1:${await closedPort()}`, {connectTimeoutMs: 200})
    const err = await requestJson(pool, {method: 'GET', path: '/x', what: 'Keto'}).catch((e: unknown) => e)
    const u = classifyUpstreamError(err)
    expect(u.kind).toBe('unavailable')
    expect(gatewayStatus(u.kind)).toBe(503)
    expect(u.message).toContain('Keto')
    expect(await probeReady(pool, '/health/ready', 200)).toMatchObject({ok: false})
    await pool.close()
  })

  it('classifies an expired deadline as timeout (504)', async () => {
    // A server that accepts and never answers.
    const s = createServer(() => {})
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
    const pool = createUpstreamPool(`http://127.0.0.1:${(s.address() as {port: number}).port}`)
    const err = await requestJson(pool, {method: 'GET', path: '/', signal: AbortSignal.timeout(100)}).catch((e: unknown) => e)
    expect(classifyUpstreamError(err).kind).toBe('timeout')
    expect(gatewayStatus('timeout')).toBe(504)
    await pool.destroy()
    s.close()
  })

  it('cached shares one result within the TTL', async () => {
    let calls = 0
    let t = 0
    const f = cached(async () => ++calls, 1000, () => t)
    expect(await f()).toBe(1)
    expect(await f()).toBe(1)
    t = 1000
    expect(await f()).toBe(2)
  })
})
