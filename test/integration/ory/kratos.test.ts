import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startKratos, type HarnessDetails, type ServerHandle} from '../../harness/index.js'

interface Flow {
  id: string
  ui: {action: string; messages?: {id: number; text: string; type: string}[]; nodes: {messages?: {text: string}[]}[]}
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>
}

describe('real Kratos', () => {
  let kratos: ServerHandle & HarnessDetails & {urls: {public: string; admin: string}}
  const email = `alice-${Date.now()}@example.test`
  const password = 'correct horse battery staple 42'
  let registrationSessionId: string

  beforeAll(async () => {
    kratos = await startKratos()
  })
  afterAll(() => {
    process.stderr.write(`kratos: migrate ${kratos?.migrateMs} ms, serve→ready ${kratos?.readyTimesMs.join(', ')} ms\n`)
  })

  async function initFlow(kind: 'registration' | 'login'): Promise<Flow> {
    const response = await fetch(`${kratos.urls.public}/self-service/${kind}/api`, {headers: {accept: 'application/json'}})
    expect(response.status).toBe(200)
    return (await response.json()) as Flow
  }

  async function submit(flow: Flow, body: object): Promise<Response> {
    return fetch(flow.ui.action, {
      method: 'POST',
      headers: {'content-type': 'application/json', accept: 'application/json'},
      body: JSON.stringify(body),
    })
  }

  async function whoami(token: string): Promise<Response> {
    return fetch(`${kratos.urls.public}/sessions/whoami`, {headers: {'X-Session-Token': token, accept: 'application/json'}})
  }

  it('registers with email + password through the native API and whoami returns the identity', async () => {
    const flow = await initFlow('registration')
    expect(flow.ui.action.startsWith(kratos.urls.public)).toBe(true)
    const response = await submit(flow, {method: 'password', traits: {email}, password})
    const body = await json(response)
    expect(response.status, JSON.stringify(body)).toBe(200)
    const token = body.session_token
    expect(typeof token).toBe('string')
    const identity = body.identity as {id: string; traits: {email: string}}
    expect(identity.traits.email).toBe(email)

    const me = await whoami(token as string)
    expect(me.status).toBe(200)
    const session = await json(me)
    expect(session.active).toBe(true)
    registrationSessionId = session.id as string
    expect(registrationSessionId).toBe((body.session as {id: string}).id)
    expect((session.identity as {id: string}).id).toBe(identity.id)
    expect((session.identity as {traits: {email: string}}).traits.email).toBe(email)

    expect((await whoami('not-a-token')).status).toBe(401)
  })

  it('refuses a wrong password and logs in with the right one', async () => {
    const wrong = await submit(await initFlow('login'), {method: 'password', identifier: email, password: 'wrong password 123'})
    expect(wrong.status).toBe(400)
    const refused = (await wrong.json()) as Flow
    const messages = [...(refused.ui.messages ?? []), ...refused.ui.nodes.flatMap((n) => n.messages ?? [])].map((m) => m.text)
    expect(messages.join(' ')).toMatch(/credentials are invalid/i)

    const right = await submit(await initFlow('login'), {method: 'password', identifier: email, password})
    const body = await json(right)
    expect(right.status, JSON.stringify(body)).toBe(200)
    const me = await whoami(body.session_token as string)
    expect(me.status).toBe(200)
    const session = await json(me)
    expect((session.identity as {traits: {email: string}}).traits.email).toBe(email)
    expect(session.id).not.toBe(registrationSessionId)
  })
})
