import type {ResultPromise} from 'execa'
import fc from 'fast-check'
import {connect} from 'node:net'
import {Pool} from 'undici'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {getFreePort, startKeto} from '../../harness/index.js'
import {spawnBatchAuthCli, waitFor} from './helpers.js'

/*
 * Thousands of malformed bodies against a real `iam serve batch-auth` process (built CLI) in front of a real,
 * empty Keto: the process never dies, never answers 200, and always answers 4xx with a JSON body.
 */
let proc: ResultPromise
let url: string
let pool: Pool
let stderr = ''

beforeAll(async () => {
  const keto = await startKeto()
  const port = await getFreePort()
  url = `http://127.0.0.1:${port}`
  proc = spawnBatchAuthCli(['--port', String(port), '--keto-read-url', keto.urls.read, '--max-body', '4kb', '--max-tuples', '20'])
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  await waitFor('batch-auth ready', async () => (await fetch(`${url}/health/ready`)).status === 200)
  pool = new Pool(url, {connections: 4})
})

afterAll(async () => {
  await pool?.close()
  proc?.kill('SIGTERM')
  await proc
})

async function send(body: string | Uint8Array, contentType = 'application/json', method: 'POST' | 'PUT' | 'GET' = 'POST'): Promise<{status: number; text: string}> {
  const res = await pool.request({path: '/', method, body: method === 'GET' ? undefined : body, headers: {'content-type': contentType}})
  return {status: res.statusCode, text: await res.body.text()}
}

function expectRejected(r: {status: number; text: string}): void {
  expect(r.status).not.toBe(200)
  expect(r.status).toBeGreaterThanOrEqual(400)
  expect(r.status).toBeLessThan(500)
  const json = JSON.parse(r.text) as {error?: {code?: string; message?: string}; authorized?: boolean}
  // A rejection explains itself; a well-formed check that Keto denies says authorized: false.
  if (r.status === 403) expect(json.authorized).toBe(false)
  else expect(typeof json.error?.message).toBe('string')
}

const str = fc.oneof(fc.string(), fc.constant(''), fc.constant('admin'), fc.string({unit: 'grapheme'}))
const anyJson = fc.oneof(fc.jsonValue(), str, fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.jsonValue()))
const field = fc.oneof({weight: 3, arbitrary: fc.string({minLength: 1})}, {weight: 1, arbitrary: anyJson})
// Tuples near the valid shape: every field may be missing, mistyped or extra; subject sets nested.
const tuple = fc.record(
  {
    namespace: field,
    object: field,
    relation: field,
    subject_id: field,
    subject_set: fc.oneof(fc.record({namespace: field, object: field, relation: field}, {requiredKeys: []}), anyJson),
    [`x`]: anyJson,
  },
  {requiredKeys: []},
)
const nearValid = fc.oneof(
  fc.record({tuples: fc.array(fc.oneof(tuple, anyJson), {maxLength: 25})}, {requiredKeys: []}),
  fc.record({tuples: fc.array(tuple, {maxLength: 25}), extra: anyJson}),
  fc.dictionary(fc.string(), anyJson),
)

describe('batch-auth under malformed input (fast-check, real process)', () => {
  it('arbitrary text bodies', async () => {
    await fc.assert(fc.asyncProperty(fc.string({unit: 'binary', maxLength: 300}), async (body) => expectRejected(await send(body))), {numRuns: 1000})
  })

  it('arbitrary JSON documents and near-valid check bodies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyJson, nearValid), async (doc) => expectRejected(await send(JSON.stringify(doc) ?? 'undefined'))),
      {numRuns: 2500},
    )
  })

  it('arbitrary bytes (invalid UTF-8), oversized bodies and wrong content types', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({maxLength: 5000}), async (bytes) => expectRejected(await send(bytes))), {numRuns: 300})
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('text/plain', '', 'application/jsonx', 'multipart/form-data', 'application/x-www-form-urlencoded'), async (type) => {
        const r = await send('{"tuples":[]}', type)
        expect(r.status).toBe(415)
        expectRejected(r)
      }),
      {numRuns: 20},
    )
    const big = await send(JSON.stringify({tuples: [{namespace: 'a'.repeat(5000)}]}))
    expect(big.status).toBe(413)
    expectRejected(big)
  })

  it('malformed HTTP on a raw socket gets a 400, and the process is still alive and ready', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(url).port), '127.0.0.1', () => socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'))
      let data = ''
      socket.on('data', (d) => (data += d.toString()))
      socket.on('end', () => resolve(data))
      socket.on('error', reject)
    })
    expect(answer).toMatch(/^HTTP\/1\.1 400/)
    expect(proc.exitCode).toBeNull()
    expect((await fetch(`${url}/health/ready`)).status).toBe(200)
    const metrics = await (await fetch(`${url}/metrics`)).text()
    expect(metrics).not.toMatch(/batch_auth_decisions_total\{outcome="allowed"\} [1-9]/)
    expect(stderr).not.toMatch(/"level":"error"/)
  })
})
