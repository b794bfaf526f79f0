import {randomBytes} from 'node:crypto'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {KetoClient} from '../../../src/ory/keto-client.js'
import {KratosAdminClient} from '../../../src/ory/kratos-client.js'
import {createLogger} from '../../../src/servers/http/index.js'
import {WEBHOOK_SECRET_HEADER} from '../../../src/servers/http/webhook-secret.js'
import {HOOK_PATH, INTERRUPT_MESSAGE, INTERRUPT_MESSAGE_ID, startRoleWebhook, type RoleWebhook} from '../../../src/servers/role-webhook/server.js'
import {getFreePort, startKeto, startKratos} from '../../harness/index.js'
import {loginIdentity} from '../../harness/stack.js'

/**
 * The whole chain with a real Kratos calling the webhook: a web_hook after login with `response.parse: true` (so a
 * strict refusal shows its message; `can_interrupt: true` does the same but is deprecated) and after password
 * registration without either (with them Kratos runs the hook before the identity is stored, and the PATCH has
 * nothing to patch).
 */
const SECRET = randomBytes(24).toString('base64url')
const PASSWORD = 'a-long-enough-password-123'
const BODY = `base64://${Buffer.from('function(ctx) { identity_id: ctx.identity.id }').toString('base64')}`
const logger = createLogger({stream: {write: () => true}})

let keto: Awaited<ReturnType<typeof startKeto>>
let kratos: Awaited<ReturnType<typeof startKratos>>
let ketoClient: KetoClient
let kratosClient: KratosAdminClient
let hookPort: number
let hook: RoleWebhook

function webHook(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    hook: 'web_hook',
    config: {
      url: `http://127.0.0.1:${hookPort}${HOOK_PATH}`,
      method: 'POST',
      body: BODY,
      auth: {type: 'api_key', config: {name: 'Authorization', value: `Bearer ${SECRET}`, in: 'header'}},
      ...extra,
    },
  }
}

async function startHook(strict: boolean): Promise<RoleWebhook> {
  return startRoleWebhook({host: '127.0.0.1', port: hookPort, secret: SECRET, kratosAdminUrl: kratos.urls.admin, ketoReadUrl: keto.urls.read, logger, strict, timeoutMs: 1000})
}

async function json(res: Response): Promise<any> {
  const text = await res.text()
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** Kratos' native (API) login flow: returns the session token, or the failed flow's answer. */
const login = (email: string, password = PASSWORD): Promise<{status: number; token?: string; body: any}> => loginIdentity(kratos.urls.public, email, password)

async function whoami(token: string): Promise<any> {
  const res = await fetch(`${kratos.urls.public}/sessions/whoami`, {headers: {'x-session-token': token}})
  expect(res.status).toBe(200)
  return json(res)
}

beforeAll(async () => {
  hookPort = await getFreePort()
  keto = await startKeto()
  kratos = await startKratos({
    config: {
      selfservice: {
        flows: {
          login: {after: {hooks: [webHook({response: {parse: true}})]}},
          registration: {after: {password: {hooks: [webHook({}), {hook: 'session'}]}}},
        },
      },
    },
  })
  ketoClient = new KetoClient({readUrl: keto.urls.read, writeUrl: keto.urls.write})
  kratosClient = new KratosAdminClient({adminUrl: kratos.urls.admin})
  hook = await startHook(false)
})

afterAll(async () => {
  await hook?.close()
  await ketoClient?.close()
  await kratosClient?.close()
})

describe('Kratos → role webhook → Keto, all real', () => {
  it('registration stores an empty roles list; a login after a grant shows the role in whoami', async () => {
    const email = `chain-${randomBytes(3).toString('hex')}@example.com`
    const reg = await json(await fetch(`${kratos.urls.public}/self-service/registration/api`))
    const res = await fetch(`${kratos.urls.public}/self-service/registration?flow=${reg.id}`, {
      method: 'POST',
      headers: {'content-type': 'application/json', accept: 'application/json'},
      body: JSON.stringify({method: 'password', traits: {email}, password: PASSWORD}),
    })
    const registered = await json(res)
    expect(res.status, JSON.stringify(registered).slice(0, 300)).toBe(200)
    const id: string = registered.identity.id
    expect((await kratosClient.getIdentity(id))!.metadata_public).toEqual({roles: []})

    // Other metadata set by an admin must survive every later sync.
    await kratosClient.patchIdentity(id, [
      {op: 'add', path: '/metadata_public/plan', value: 'pro'},
      {op: 'add', path: '/metadata_admin', value: {note: 'vip'}},
    ])
    await ketoClient.create({namespace: 'Role', object: 'admin', relation: 'member', subjectId: id})

    const session = await login(email)
    expect(session.status, JSON.stringify(session.body).slice(0, 300)).toBe(200)
    const me = await whoami(session.token!)
    expect(me.identity.metadata_public).toEqual({plan: 'pro', roles: ['admin']})
    expect((await kratosClient.getIdentity(id))!.metadata_admin).toEqual({note: 'vip'})
  })

  it('Keto down: the default policy lets the login through with roles unchanged; --strict interrupts it with the message', async () => {
    const email = `strict-${randomBytes(3).toString('hex')}@example.com`
    const created = await kratosClient.createIdentity({schemaId: 'default', traits: {email}, password: PASSWORD, metadataPublic: {roles: ['editor']}})
    if (created.conflict) throw new Error('conflict')
    await keto.stop()
    try {
      const lenient = await login(email)
      expect(lenient.status).toBe(200)
      expect((await whoami(lenient.token!)).identity.metadata_public).toEqual({roles: ['editor']})

      await hook.close()
      hook = await startHook(true)
      const refused = await login(email)
      // response.parse: Kratos answers the flow with 400 and shows our message as a UI message of the flow.
      expect(refused.status).toBe(400)
      expect(refused.token).toBeUndefined()
      expect(refused.body.ui.messages).toEqual([{id: INTERRUPT_MESSAGE_ID, text: INTERRUPT_MESSAGE, type: 'error'}])
    } finally {
      await keto.start()
    }
    // Keto back: strict mode lets the login through again.
    const again = await login(email)
    expect(again.status).toBe(200)
    expect((await whoami(again.token!)).identity.metadata_public).toEqual({roles: []})
  })

  it('a webhook with the wrong secret fails the login in Kratos (the hook answers 401 and changes nothing)', async () => {
    const email = `wrong-${randomBytes(3).toString('hex')}@example.com`
    const created = await kratosClient.createIdentity({schemaId: 'default', traits: {email}, password: PASSWORD, metadataPublic: {roles: ['keep']}})
    if (created.conflict) throw new Error('conflict')
    await hook.close()
    hook = await startRoleWebhook({host: '127.0.0.1', port: hookPort, secret: 'another-secret-of-enough-length', kratosAdminUrl: kratos.urls.admin, ketoReadUrl: keto.urls.read, logger})
    try {
      const r = await login(email)
      expect(r.status).toBeGreaterThanOrEqual(400)
      expect((await kratosClient.getIdentity(created.identity.id))!.metadata_public).toEqual({roles: ['keep']})
    } finally {
      await hook.close()
      hook = await startHook(false)
    }
    // And the header name Kratos sends is the one the webhook checks.
    expect(WEBHOOK_SECRET_HEADER).toBe('authorization')
  })

  it('the webhook itself down fails the login (Kratos treats an unreachable web hook as an error): run it before Kratos takes logins', async () => {
    const email = `down-${randomBytes(3).toString('hex')}@example.com`
    const created = await kratosClient.createIdentity({schemaId: 'default', traits: {email}, password: PASSWORD})
    if (created.conflict) throw new Error('conflict')
    await hook.close()
    try {
      const r = await login(email)
      expect(r.status).toBeGreaterThanOrEqual(400)
      expect(r.token).toBeUndefined()
    } finally {
      hook = await startHook(false)
    }
    expect((await login(email)).status).toBe(200)
  })
})
