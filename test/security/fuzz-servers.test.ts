/**
 * The fuzz test of batch-auth (test/servers/batch-auth/fuzz.test.ts), extended to the other two embedded servers as
 * real `iam serve` processes: the mail catcher and the role webhook (in front of a real Kratos and Keto). Random
 * methods, paths, query strings, Host and Origin headers and bodies: the process never dies, never answers 5xx,
 * every error is JSON, the catcher never deletes on a cross-site or foreign-Host request, and the webhook answers 401
 * to every request without the secret (before reading the body) — and touches no identity.
 */
import {randomBytes} from 'node:crypto'
import {mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa, type ResultPromise} from 'execa'
import fc from 'fast-check'
import {Pool} from 'undici'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {getFreePort, startKeto, startKratos} from '../harness/index.js'
import {IAM_BIN} from '../helpers/cli.js'
import {waitFor} from '../servers/batch-auth/helpers.js'

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const
const segment = fc.oneof(fc.constantFrom('api', 'messages', 'latest', 'hooks', 'kratos', 'inject-roles', 'health', 'ready', 'metrics', '..', '.', '%2F', ''), fc.string({maxLength: 12}))
const path = fc.array(segment, {maxLength: 4}).map((parts) => `/${parts.map((p) => encodeURIComponent(p).replace(/%25(2F|2E)/gi, '%$1')).join('/')}`)
const query = fc.oneof(fc.constant(''), fc.dictionary(fc.constantFrom('to', 'limit', 'x', 'identity_id'), fc.string({maxLength: 40})).map((q) => `?${new URLSearchParams(q).toString()}`))
const anyJson = fc.oneof(fc.jsonValue(), fc.string(), fc.constant(null))
const body = fc.oneof(
  fc.constant(undefined),
  fc.string({unit: 'binary', maxLength: 300}),
  anyJson.map((j) => JSON.stringify(j) ?? 'null'),
  fc.record({identity_id: fc.oneof(fc.uuid(), fc.string(), anyJson), user_subject: fc.oneof(fc.string(), anyJson)}, {requiredKeys: []}).map((j) => JSON.stringify(j)),
)

interface Sent {
  status: number
  text: string
}

async function send(pool: Pool, method: (typeof METHODS)[number], target: string, payload: string | undefined, headers: Record<string, string>): Promise<Sent> {
  const withBody = payload !== undefined && method !== 'GET' && method !== 'HEAD'
  const res = await pool.request({path: target, method, body: withBody ? payload : undefined, headers: {...(withBody ? {'content-type': 'application/json'} : {}), ...headers}})
  return {status: res.statusCode, text: await res.body.text()}
}

function expectSafe(r: Sent, method: string): void {
  expect(r.status, r.text).toBeLessThan(500)
  if (r.status >= 400 && method !== 'HEAD') expect(typeof (JSON.parse(r.text) as {error?: {message?: unknown}}).error?.message, r.text).toBe('string')
}

function spawnServe(args: string[], env: Record<string, string> = {}): {proc: ResultPromise; stderr: () => string} {
  let stderr = ''
  const proc = execa('node', [IAM_BIN, 'serve', ...args], {reject: false, env: {...process.env, ...env}})
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  return {proc, stderr: () => stderr}
}

describe('mail catcher under random requests (fast-check, real process)', () => {
  let served: ReturnType<typeof spawnServe>
  let pool: Pool
  let base: string

  beforeAll(async () => {
    const [port, smtpPort] = [await getFreePort(), await getFreePort()]
    base = `http://127.0.0.1:${port}`
    served = spawnServe(['mail', '--port', String(port), '--smtp-port', String(smtpPort)])
    await waitFor('mail catcher ready', async () => (await fetch(`${base}/health/ready`)).status === 200)
    pool = new Pool(base, {connections: 4})
  })

  afterAll(async () => {
    await pool?.close()
    served?.proc.kill('SIGTERM')
    await served?.proc
  })

  it('random methods, paths, queries, Host/Origin headers and bodies: no 5xx, JSON errors, no foreign deletion', async () => {
    const host = fc.oneof(fc.constantFrom('127.0.0.1', 'localhost', 'evil.example', 'LOCALHOST:1', '[::1]'), fc.domain())
    const origin = fc.oneof(fc.constant(undefined), fc.constantFrom('http://evil.example', 'null'), fc.webUrl())
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...METHODS), path, query, body, host, origin, async (method, p, q, payload, h, o) => {
        const r = await send(pool, method, `${p}${q}`, payload, {host: h, ...(o === undefined ? {} : {origin: o})})
        expectSafe(r, method)
        const name = h.toLowerCase().replace(/:\d*$/, '')
        if (!['127.0.0.1', 'localhost', '[::1]'].includes(name)) expect(r.status).toBe(421)
        if (method === 'DELETE' && o !== undefined && r.status < 400) throw new Error(`a cross-origin DELETE ${p}${q} from ${o} was answered ${r.status}`)
      }),
      {numRuns: 1500},
    )
    expect(served.proc.exitCode).toBeNull()
    expect((await fetch(`${base}/health/alive`)).status).toBe(200)
  }, 120_000)
})

describe('role webhook under random requests (fast-check, real process, real Kratos and Keto)', () => {
  const secret = randomBytes(24).toString('base64url')
  let served: ReturnType<typeof spawnServe>
  let pool: Pool
  let base: string
  let kratosAdmin: string

  beforeAll(async () => {
    const [keto, kratos] = await Promise.all([startKeto(), startKratos()])
    kratosAdmin = kratos.urls.admin
    const dir = await mkdtemp(join(tmpdir(), 'iam-fuzz-hook-'))
    const secretFile = join(dir, 'secret')
    await writeFile(secretFile, secret, {mode: 0o600})
    const port = await getFreePort()
    base = `http://127.0.0.1:${port}`
    served = spawnServe(['role-webhook', '--port', String(port), '--kratos-admin-url', kratos.urls.admin, '--keto-read-url', keto.urls.read, '--secret-file', secretFile], {ROLE_WEBHOOK_SECRET: ''})
    await waitFor('role webhook ready', async () => (await fetch(`${base}/health/ready`)).status === 200)
    pool = new Pool(base, {connections: 4})
  }, 120_000)

  afterAll(async () => {
    await pool?.close()
    served?.proc.kill('SIGTERM')
    await served?.proc
  })

  it('without the secret (none, wrong, another scheme) every hook call is 401 and no identity changes', async () => {
    const wrong = fc.oneof(fc.constant(undefined), fc.string({maxLength: 60}), fc.constant(secret), fc.constant(`Basic ${secret}`), fc.constant(`Bearer ${secret}x`), fc.constant(`Bearer ${secret.slice(1)}`))
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('POST' as const), fc.constantFrom('/hooks/kratos', '/inject-roles'), body, wrong, async (method, p, payload, authorization) => {
        const r = await send(pool, method, p, payload, authorization === undefined ? {} : {authorization})
        expect(r.status, r.text).toBe(401)
      }),
      {numRuns: 600},
    )
    const identities = (await (await fetch(`${kratosAdmin}/admin/identities`)).json()) as unknown[]
    expect(identities).toEqual([])
  }, 120_000)

  it('with the secret: random bodies and paths never 5xx, errors are JSON, the process lives', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...METHODS), fc.oneof(path, fc.constantFrom('/hooks/kratos', '/inject-roles')), query, body, async (method, p, q, payload) => {
        expectSafe(await send(pool, method, `${p}${q}`, payload, {authorization: `Bearer ${secret}`}), method)
      }),
      {numRuns: 1200},
    )
    expect(served.proc.exitCode).toBeNull()
    expect(served.stderr()).not.toContain(secret)
  }, 120_000)
})
