/**
 * The mail catcher through a real SMTP client (nodemailer) and its HTTP API: stored and served newest first with the
 * one-time code, filtered by recipient, bounded in count and in size (SMTP 552), cleared on DELETE, and a page that
 * never renders what a mail says.
 */
import {createTransport} from 'nodemailer'
import {afterEach, describe, expect, it} from 'vitest'

import {createLogger} from '../../../src/servers/http/index.js'
import {findCode, MailStore, startMailCatcher, type MailCatcher, type MailView} from '../../../src/servers/mail/index.js'

const started: MailCatcher[] = []
afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.close()))
})

const lines: string[] = []
async function catcher(o: {maxMessages?: number; maxMessageBytes?: number} = {}): Promise<MailCatcher> {
  const c = await startMailCatcher({
    host: '127.0.0.1',
    smtpPort: 0,
    httpPort: 0,
    maxMessages: o.maxMessages ?? 100,
    maxMessageBytes: o.maxMessageBytes ?? 1024 * 1024,
    logger: createLogger({stream: {write: (line: string) => lines.push(line)}}),
  })
  started.push(c)
  return c
}

async function send(c: MailCatcher, mail: {to: string; subject: string; text: string; html?: string}): Promise<void> {
  const transport = createTransport({host: '127.0.0.1', port: c.smtpPort, secure: false, ignoreTLS: true})
  try {
    await transport.sendMail({from: 'no-reply@iam.local', ...mail})
  } finally {
    transport.close()
  }
}

async function api<T>(c: MailCatcher, path: string, method = 'GET'): Promise<{status: number; body: T}> {
  const res = await fetch(`${c.url}${path}`, {method})
  return {status: res.status, body: (await res.json()) as T}
}

describe('mail catcher', () => {
  it('its API answers only loopback Host names (DNS rebinding) and refuses deletions from pages of another origin', async () => {
    const c = await catcher()
    await send(c, {to: 'ada@example.com', subject: 'Code', text: 'code 111222'})
    const {request} = await import('undici')
    const rebound = await request(`${c.url}/api/messages`, {headers: {host: 'attacker.example'}})
    expect(rebound.statusCode).toBe(421)
    await rebound.body.dump()
    const crossSite = await request(`${c.url}/api/messages`, {method: 'DELETE', headers: {origin: 'http://attacker.example', 'sec-fetch-site': 'cross-site'}})
    expect(crossSite.statusCode).toBe(403)
    await crossSite.body.dump()
    expect((await api<{total: number}>(c, '/api/messages')).body.total).toBe(1)
    // The inbox page itself (same origin) and curl (no Origin) still delete.
    expect(await api(c, '/api/messages', 'DELETE')).toEqual({status: 200, body: {deleted: 1}})
  })

  it('stores what Kratos-like mail says and serves it newest first, with the code, by recipient', async () => {
    const c = await catcher()
    await send(c, {to: 'Ada@Example.com', subject: 'Login to your account', text: 'Please login to your account by entering the following code:\n\n123456\n'})
    await send(c, {to: 'bob@example.com', subject: 'Recover access', text: 'Enter this code:\n\n654321\n', html: '<p>Enter this code: <b>654321</b></p>'})
    const all = await api<{total: number; messages: MailView[]}>(c, '/api/messages')
    expect(all.status).toBe(200)
    expect(all.body.total).toBe(2)
    expect(all.body.messages.map((m) => [m.id, m.to, m.code])).toEqual([
      [2, ['bob@example.com'], '654321'],
      [1, ['ada@example.com'], '123456'],
    ])
    expect(all.body.messages[1]).toMatchObject({from: 'no-reply@iam.local', subject: 'Login to your account'})
    expect(all.body.messages[0]!.html).toContain('<b>654321</b>')

    const latest = await api<MailView>(c, '/api/messages/latest?to=ADA%40example.com')
    expect(latest).toMatchObject({status: 200, body: {id: 1, code: '123456'}})
    const none = await api<{error: {code: string; message: string}}>(c, '/api/messages/latest?to=eve@example.com')
    expect(none).toMatchObject({status: 404, body: {error: {code: 'NO_MESSAGE', message: 'No message to eve@example.com yet.'}}})
    expect((await api<{messages: MailView[]}>(c, '/api/messages?limit=1')).body.messages.map((m) => m.id)).toEqual([2])
    expect((await api<{error: {field: string}}>(c, '/api/messages?limit=zero')).status).toBe(400)
    expect((await api<unknown>(c, '/api/messages', 'POST')).status).toBe(405)

    expect(await api(c, '/api/messages?to=bob%40example.com', 'DELETE')).toEqual({status: 200, body: {deleted: 1}})
    expect((await api<{messages: MailView[]}>(c, '/api/messages')).body.messages.map((m) => m.id)).toEqual([1])
    expect(await api(c, '/api/messages', 'DELETE')).toEqual({status: 200, body: {deleted: 1}})
    expect((await api<{total: number}>(c, '/api/messages')).body.total).toBe(0)
    // Logs say who got mail, never what it said.
    const log = lines.join('')
    expect(log).toContain('message stored')
    expect(log).not.toContain('123456')
    expect(log).not.toContain('Login to your account')
  })

  it('keeps only the newest maxMessages', async () => {
    const c = await catcher({maxMessages: 3})
    for (let i = 1; i <= 5; i++) await send(c, {to: 'a@example.com', subject: `mail ${i}`, text: `number ${i}`})
    const {body} = await api<{total: number; messages: MailView[]}>(c, '/api/messages')
    expect(body.total).toBe(3)
    expect(body.messages.map((m) => m.subject)).toEqual(['mail 5', 'mail 4', 'mail 3'])
  })

  it('refuses a mail over the size limit with SMTP 552 and keeps nothing of it', async () => {
    const c = await catcher({maxMessageBytes: 2048})
    const error = await send(c, {to: 'a@example.com', subject: 'big', text: 'x'.repeat(10_000)}).then(
      () => undefined,
      (e: unknown) => e as {responseCode?: number},
    )
    expect(error?.responseCode).toBe(552)
    await send(c, {to: 'a@example.com', subject: 'small', text: 'fits'})
    const {body} = await api<{messages: MailView[]}>(c, '/api/messages')
    expect(body.messages.map((m) => m.subject)).toEqual(['small'])
    const metrics = await (await fetch(`${c.url}/metrics`)).text()
    expect(metrics).toContain('mail_messages_total{outcome="too_large"} 1')
    expect(metrics).toContain('mail_messages_total{outcome="stored"} 1')
  })

  it('the inbox page shows text, escaped, and never renders a mail', async () => {
    const c = await catcher()
    await send(c, {to: 'a@example.com', subject: '<script>alert(1)</script>', text: 'code:\n\n777777\n', html: '<img src=x onerror=alert(2)>'})
    const res = await fetch(`${c.url}/`)
    expect(res.headers.get('content-type')).toContain('text/html')
    const page = await res.text()
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(page).not.toContain('<script>')
    expect(page).not.toContain('onerror')
    expect(page).toContain('<code class="code">777777</code>')
    expect(page).toContain("default-src 'none'")
  })

  it('ready and alive', async () => {
    const c = await catcher()
    expect((await fetch(`${c.url}/health/ready`)).status).toBe(200)
    expect((await fetch(`${c.url}/health/alive`)).status).toBe(200)
  })
})

describe('MailStore and findCode', () => {
  it('filters by recipient case-insensitively and refuses a zero bound', () => {
    const store = new MailStore(2)
    const base = {receivedAt: '', from: 'f', subject: 's', text: 't', size: 1}
    store.add({...base, to: ['A@x.io']})
    store.add({...base, to: ['b@x.io']})
    expect(store.list({to: 'a@X.io'}).map((m) => m.id)).toEqual([1])
    expect(() => new MailStore(0)).toThrow(RangeError)
  })

  it('is bounded in total size too: the oldest go first, the newest always stays', () => {
    const store = new MailStore(100, 1000)
    const mail = (size: number) => ({receivedAt: '', from: 'f', to: ['a@x.io'], subject: String(size), text: '', size})
    for (const size of [400, 400, 400]) store.add(mail(size))
    expect(store.list().map((m) => m.id)).toEqual([3, 2])
    store.add(mail(5000))
    expect(store.list().map((m) => m.id)).toEqual([4])
    store.add(mail(10))
    expect(store.list().map((m) => m.id)).toEqual([5])
    expect(store.clear()).toBe(1)
    store.add(mail(900))
    expect(store.list().map((m) => m.id)).toEqual([6])
  })

  it('finds the 6-digit code on a line of its own, and nothing in other numbers', () => {
    expect(findCode('Hi,\n\n  042517  \n\nThanks')).toBe('042517')
    expect(findCode('Order 1234567 shipped on 2026-11-30')).toBeUndefined()
  })
})
