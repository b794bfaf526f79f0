import {randomBytes} from 'node:crypto'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {KetoClient} from '../../../src/ory/keto-client.js'
import {KratosAdminClient, type Identity} from '../../../src/ory/kratos-client.js'
import {createLogger} from '../../../src/servers/http/index.js'
import {WEBHOOK_SECRET_HEADER} from '../../../src/servers/http/webhook-secret.js'
import {INTERRUPT_MESSAGE, INTERRUPT_STATUS, startRoleWebhook, type RoleWebhook} from '../../../src/servers/role-webhook/server.js'
import {startKeto, startKratos} from '../../harness/index.js'

const SECRET = randomBytes(24).toString('base64url')
const logLines: string[] = []
const logger = createLogger({stream: {write: (line: string) => logLines.push(line)}, base: {service: 'role-webhook'}})

let keto: Awaited<ReturnType<typeof startKeto>>
let kratos: Awaited<ReturnType<typeof startKratos>>
let ketoClient: KetoClient
let kratosClient: KratosAdminClient
let hook: RoleWebhook

async function post(base: string, path: string, body: unknown, headers: Record<string, string> = {[WEBHOOK_SECRET_HEADER]: `Bearer ${SECRET}`}): Promise<{status: number; body: any}> {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: {'content-type': 'application/json', ...headers},
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await res.text()
  return {status: res.status, body: text ? JSON.parse(text) : undefined}
}

let counter = 0
async function newIdentity(o: {metadataPublic?: Record<string, unknown>; metadataAdmin?: Record<string, unknown>} = {}): Promise<Identity> {
  const r = await kratosClient.createIdentity({
    schemaId: 'default',
    traits: {email: `user${++counter}-${randomBytes(3).toString('hex')}@example.com`},
    password: 'a-long-enough-password-123',
    ...o,
  })
  if (r.conflict) throw new Error('unexpected conflict')
  return r.identity
}

async function grant(role: string, id: string): Promise<void> {
  await ketoClient.create({namespace: 'Role', object: role, relation: 'member', subjectId: id})
}

beforeAll(async () => {
  ;[keto, kratos] = await Promise.all([startKeto(), startKratos()])
  ketoClient = new KetoClient({readUrl: keto.urls.read, writeUrl: keto.urls.write})
  kratosClient = new KratosAdminClient({adminUrl: kratos.urls.admin})
  hook = await startRoleWebhook({host: '127.0.0.1', port: 0, secret: SECRET, kratosAdminUrl: kratos.urls.admin, ketoReadUrl: keto.urls.read, logger})
})

afterAll(async () => {
  await hook?.close()
  await ketoClient?.close()
  await kratosClient?.close()
})

describe('role webhook against real Keto and Kratos', () => {
  it('copies the Keto roles into metadata_public.roles and leaves every other field alone', async () => {
    const identity = await newIdentity({metadataPublic: {plan: 'pro', nested: {a: 1}}, metadataAdmin: {note: 'vip'}})
    await grant('admin', identity.id)

    const r = await post(hook.url, '/hooks/kratos', {identity_id: identity.id})
    expect(r.status).toBe(200)
    expect(r.body).toEqual({identity_id: identity.id, roles: ['admin'], changed: true})

    const after = (await kratosClient.getIdentity(identity.id))!
    expect(after.metadata_public).toEqual({plan: 'pro', nested: {a: 1}, roles: ['admin']})
    expect(after.metadata_admin).toEqual({note: 'vip'})
    expect(after.traits).toEqual(identity.traits)
    expect(after.state).toBe(identity.state)

    // Idempotent: the second call writes nothing (updated_at stays).
    const again = await post(hook.url, '/hooks/kratos', {identity_id: identity.id})
    expect(again.body).toEqual({identity_id: identity.id, roles: ['admin'], changed: false})
    expect((await kratosClient.getIdentity(identity.id))!.updated_at).toBe(after.updated_at)
  })

  it('handles an identity whose metadata_public is null', async () => {
    const identity = await newIdentity()
    expect(identity.metadata_public).toBeNull()
    await grant('editor', identity.id)
    await grant('viewer', identity.id)
    const r = await post(hook.url, '/hooks/kratos', {identity_id: identity.id})
    expect(r.body).toMatchObject({roles: ['editor', 'viewer'], changed: true})
    expect((await kratosClient.getIdentity(identity.id))!.metadata_public).toEqual({roles: ['editor', 'viewer']})
  })

  it('answers 401 and touches nothing without the right secret', async () => {
    const identity = await newIdentity({metadataPublic: {roles: ['stale'], keep: true}})
    await grant('admin', identity.id)
    const before = (await kratosClient.getIdentity(identity.id))!
    const wrong = await post(hook.url, '/hooks/kratos', {identity_id: identity.id}, {[WEBHOOK_SECRET_HEADER]: `Bearer ${SECRET}x`})
    const missing = await post(hook.url, '/hooks/kratos', {identity_id: identity.id}, {})
    const compat = await post(hook.url, '/inject-roles', {identity_id: identity.id, user_subject: identity.id}, {[WEBHOOK_SECRET_HEADER]: ''})
    // Authentication comes before parsing: a garbage body without a secret is still 401, not 400.
    const garbage = await post(hook.url, '/hooks/kratos', '{not json', {})
    for (const r of [wrong, missing, compat, garbage]) {
      expect(r.status).toBe(401)
      expect(r.body.error.code).toBe('UNAUTHORIZED')
    }
    const after = (await kratosClient.getIdentity(identity.id))!
    expect(after.metadata_public).toEqual({roles: ['stale'], keep: true})
    expect(after.updated_at).toBe(before.updated_at)
    expect(logLines.join('')).not.toContain(SECRET)
  })

  it('refuses malformed input with a JSON error', async () => {
    const cases: [unknown, number, string][] = [
      ['{broken', 400, 'INVALID_JSON'],
      [[], 400, 'INVALID_REQUEST'],
      [{identity_id: 'not-a-uuid'}, 400, 'INVALID_REQUEST'],
      [{}, 400, 'INVALID_REQUEST'],
      [{identity_id: '2b3c0f1e-8a3c-4e5e-9f0a-1b2c3d4e5f60', user_subject: 5}, 400, 'INVALID_REQUEST'],
      [{identity_id: 'x'.repeat(20_000)}, 413, 'BODY_TOO_LARGE'],
    ]
    for (const [body, status, code] of cases) {
      const path = (body as {user_subject?: unknown})?.user_subject === undefined ? '/hooks/kratos' : '/inject-roles'
      const r = await post(hook.url, path, body)
      expect([r.status, r.body.error.code], JSON.stringify(body).slice(0, 60)).toEqual([status, code])
    }
    const wrongType = await fetch(hook.url + '/hooks/kratos', {method: 'POST', headers: {[WEBHOOK_SECRET_HEADER]: `Bearer ${SECRET}`, 'content-type': 'text/plain'}, body: '{}'})
    expect(wrongType.status).toBe(415)
    const wrongMethod = await fetch(hook.url + '/hooks/kratos')
    expect(wrongMethod.status).toBe(405)
  })

  it('reads every page of roles (more roles than one Keto page)', async () => {
    const identity = await newIdentity()
    const roles = Array.from({length: 120}, (_, i) => `role-${String(i).padStart(3, '0')}`)
    for (const role of roles) await grant(role, identity.id)
    const small = await startRoleWebhook({host: '127.0.0.1', port: 0, secret: SECRET, kratosAdminUrl: kratos.urls.admin, ketoReadUrl: keto.urls.read, logger, pageSize: 7})
    try {
      const r = await post(small.url, '/hooks/kratos', {identity_id: identity.id})
      expect(r.status).toBe(200)
      expect(r.body.roles).toEqual(roles)
      expect((await kratosClient.getIdentity(identity.id))!.metadata_public).toEqual({roles})
    } finally {
      await small.close()
    }
  })

  it('accepts the public webhook body on /inject-roles, reading roles for user_subject', async () => {
    const identity = await newIdentity()
    await grant('auditor', 'legacy-subject-42')
    const r = await post(hook.url, '/inject-roles', {identity_id: identity.id, user_subject: 'legacy-subject-42'})
    expect(r.body).toMatchObject({roles: ['auditor'], changed: true})
    expect((await kratosClient.getIdentity(identity.id))!.metadata_public).toEqual({roles: ['auditor']})
    // Without user_subject the identity id is the subject.
    await grant('admin', identity.id)
    const r2 = await post(hook.url, '/inject-roles', {identity_id: identity.id})
    expect(r2.body.roles).toEqual(['admin'])
  })

  it('an unknown identity follows the failure policy (lenient: 200, roles untouched)', async () => {
    const r = await post(hook.url, '/hooks/kratos', {identity_id: '2b3c0f1e-8a3c-4e5e-9f0a-1b2c3d4e5f60'})
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({status: 'degraded', changed: false, error: {upstream: 'kratos', code: 'IDENTITY_NOT_FOUND'}})
  })

  it('Keto down: lenient answers 200 and counts it; --strict interrupts with a Kratos message', async () => {
    const identity = await newIdentity({metadataPublic: {roles: ['admin'], keep: 1}})
    const strict = await startRoleWebhook({host: '127.0.0.1', port: 0, secret: SECRET, kratosAdminUrl: kratos.urls.admin, ketoReadUrl: keto.urls.read, logger, strict: true, timeoutMs: 1000})
    try {
      expect((await fetch(strict.url + '/health/ready')).status).toBe(200)
      await keto.stop()
      const lenient = await post(hook.url, '/hooks/kratos', {identity_id: identity.id})
      expect(lenient.status).toBe(200)
      expect(lenient.body).toMatchObject({status: 'degraded', error: {upstream: 'keto', code: 'ORY_UNREACHABLE'}})
      const metrics = await (await fetch(hook.url + '/metrics')).text()
      expect(metrics).toMatch(/role_webhook_upstream_failures_total\{upstream="keto"\} [1-9]/)
      expect(metrics).toMatch(/role_webhook_requests_total\{route="\/hooks\/kratos",outcome="degraded"\} [1-9]/)

      const interrupted = await post(strict.url, '/hooks/kratos', {identity_id: identity.id})
      expect(interrupted.status).toBe(INTERRUPT_STATUS)
      expect(interrupted.body).toEqual({messages: [{instance_ptr: '#/', messages: [{id: expect.any(Number), text: INTERRUPT_MESSAGE, type: 'error'}]}]})
      // Strict mode is not ready without Keto; lenient mode stays ready and reports the check.
      // (readiness is cached for up to a second)
      await expect.poll(async () => (await fetch(strict.url + '/health/ready')).status, {timeout: 5000}).toBe(503)
      const ready = await fetch(hook.url + '/health/ready')
      expect(ready.status).toBe(200)
      expect(((await ready.json()) as {checks: Record<string, string>}).checks.kratos).toBe('ok')
      // Roles were left as they were.
      expect((await kratosClient.getIdentity(identity.id))!.metadata_public).toEqual({roles: ['admin'], keep: 1})
    } finally {
      await keto.start()
      await strict.close()
    }
    const recovered = await post(hook.url, '/hooks/kratos', {identity_id: identity.id})
    expect(recovered.body).toMatchObject({roles: [], changed: true})
    expect((await kratosClient.getIdentity(identity.id))!.metadata_public).toEqual({roles: [], keep: 1})
  })

  it('serves health and metrics', async () => {
    expect((await fetch(hook.url + '/health/alive')).status).toBe(200)
    const metrics = await (await fetch(hook.url + '/metrics')).text()
    expect(metrics).toContain('role_webhook_requests_total{route="/hooks/kratos",outcome="updated"}')
    expect(metrics).toContain('role_webhook_request_duration_seconds_bucket')
  })
})
