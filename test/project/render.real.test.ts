/**
 * The rendered project against the REAL Ory servers (pinned binaries): render a default project on free ports, start
 * Keto, Kratos and Oathkeeper from the rendered files exactly as the native runtime does (cwd = ory/<server>, env from
 * src/project/env.ts), then drive requests through the real Oathkeeper. Stand-ins (plain recorders) take the place of
 * our own role webhook and batch-auth servers, so the test sees exactly what Kratos and Oathkeeper send them.
 */
import {createServer, type IncomingMessage, type Server} from 'node:http'
import {readFile} from 'node:fs/promises'

import {createRemoteJWKSet, jwtVerify} from 'jose'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {defaultConfig} from '../../src/config/defaults.js'
import type {IamConfig} from '../../src/config/model.js'
import {LAYOUT, projectPath} from '../../src/project/layout.js'
import {renderProject} from '../../src/project/render.js'
import {getFreePort} from '../harness/index.js'
import {freeProjectPorts as freePorts, registerIdentity, startRenderedStack} from '../harness/stack.js'

interface Recorded {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

function recorder(answer: (r: Recorded) => {status: number; body?: unknown}): {server: Server; calls: Recorded[]; listen(port: number): Promise<void>} {
  const calls: Recorded[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      const call = {method: req.method ?? '', url: req.url ?? '', headers: req.headers, body}
      calls.push(call)
      const a = answer(call)
      res.writeHead(a.status, {'content-type': 'application/json'})
      res.end(JSON.stringify(a.body ?? {}))
    })
  })
  return {server, calls, listen: (port) => new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve()))}
}

let dir: string
let config: IamConfig
let proxy: string
let api: string
let kratosPublic: string
let kratosAdmin: string
let ketoRead: string
let ketoWrite: string
const upstreamPortPromise = getFreePort()
let upstream: ReturnType<typeof recorder>
let webhook: ReturnType<typeof recorder>
let batchAuth: ReturnType<typeof recorder>
let batchAuthAllows = false
let webhookSecret: string

beforeAll(async () => {
  const ports = await freePorts()
  const upstreamPort = await upstreamPortPromise
  config = defaultConfig('it', {ports})
  config.routes = config.routes.map((r) => ({...r, upstream: `http://127.0.0.1:${upstreamPort}`}))
  config.keto.namespaces.push({name: 'Doc', relations: ['viewer'], subjects: {viewer: ['User', 'Role#member']}})
  config.routes.push({
    id: 'me',
    match: `http://127.0.0.1:${ports.oathkeeperProxy}/me/<**>`,
    methods: ['GET'],
    upstream: `http://127.0.0.1:${upstreamPort}`,
    stripPath: '/me',
    auth: 'session',
    audience: 'me-api',
  })

  upstream = recorder(() => ({status: 200, body: {ok: true}}))
  webhook = recorder(() => ({status: 200, body: {}}))
  batchAuth = recorder(() => (batchAuthAllows ? {status: 200, body: {authorized: true}} : {status: 403, body: {authorized: false}}))
  await Promise.all([upstream.listen(upstreamPort), webhook.listen(ports.roleWebhook), batchAuth.listen(ports.batchAuth)])

  const stack = await startRenderedStack(config, 'render-real')
  dir = stack.dir
  webhookSecret = stack.secrets.ROLE_WEBHOOK_SECRET
  ;({kratosPublic, kratosAdmin, ketoRead, ketoWrite, proxy, api} = stack.urls)
}, 180_000)

afterAll(async () => {
  for (const r of [upstream, webhook, batchAuth]) await new Promise((resolve) => r?.server.close(resolve))
})

const register = (email: string): Promise<{token: string; identityId: string}> => registerIdentity(kratosPublic, email, 'a-long-Passw0rd-for-tests!')

async function setRoles(identityId: string, roles: string[]): Promise<void> {
  const res = await fetch(`${kratosAdmin}/admin/identities/${identityId}`, {
    method: 'PATCH',
    headers: {'content-type': 'application/json'},
    body: JSON.stringify([{op: 'add', path: '/metadata_public', value: {roles, note: 'kept'}}]),
  })
  expect(res.status).toBe(200)
}

const bearer = (token: string): Record<string, string> => ({authorization: `Bearer ${token}`})
const lastUpstreamToken = (): string => {
  const auth = upstream.calls.at(-1)?.headers.authorization ?? ''
  expect(auth).toMatch(/^Bearer ey/)
  return auth.slice('Bearer '.length)
}

describe('rendered project on the real Ory servers', () => {
  it('Kratos calls the role webhook after registration and login with the secret and the identity id', async () => {
    const {identityId} = await register('hooks@example.com')
    const afterRegistration = webhook.calls.at(-1)!
    expect(afterRegistration.url).toBe('/hooks/kratos')
    expect(afterRegistration.method).toBe('POST')
    expect(afterRegistration.headers.authorization).toBe(`Bearer ${webhookSecret}`)
    expect(JSON.parse(afterRegistration.body)).toEqual({identity_id: identityId})

    const flow = (await (await fetch(`${kratosPublic}/self-service/login/api`)).json()) as {id: string}
    const before = webhook.calls.length
    const res = await fetch(`${kratosPublic}/self-service/login?flow=${flow.id}`, {
      method: 'POST',
      headers: {'content-type': 'application/json', accept: 'application/json'},
      body: JSON.stringify({method: 'password', identifier: 'hooks@example.com', password: 'a-long-Passw0rd-for-tests!'}),
    })
    expect(res.status).toBe(200)
    expect(webhook.calls.length).toBe(before + 1)
    expect(webhook.calls.at(-1)!.headers.authorization).toBe(`Bearer ${webhookSecret}`)
    expect(JSON.parse(webhook.calls.at(-1)!.body)).toEqual({identity_id: identityId})
  })

  it('an anonymous route answers without a session and carries an id_token', async () => {
    const res = await fetch(`${proxy}/public/hello`)
    expect(res.status).toBe(200)
    const jwks = createRemoteJWKSet(new URL(`${api}/.well-known/jwks.json`))
    const {payload} = await jwtVerify(lastUpstreamToken(), jwks, {audience: 'it-api', issuer: config.tokens.issuer})
    expect(payload.sub).toBe('guest')
    expect(payload.roles).toEqual([])
  })

  it('an anonymous route also takes requests that carry credentials, valid or not (clients that always send their token)', async () => {
    const {token} = await register(`public-${Date.now()}@example.com`)
    for (const credentials of [token, 'not-a-session']) {
      const res = await fetch(`${proxy}/public/hello`, {headers: bearer(credentials)})
      expect(res.status, credentials === token ? 'a valid session' : 'a garbage token').toBe(200)
      // Credentials are not checked on a public route, so nothing about the caller is claimed.
      const {payload} = await jwtVerify(lastUpstreamToken(), createRemoteJWKSet(new URL(`${api}/.well-known/jwks.json`)), {audience: 'it-api', issuer: config.tokens.issuer})
      expect(payload.sub).toBe('')
    }
  })

  it('a session route: 401 without a session; with a session token the upstream gets a verifiable id_token, unique jti', async () => {
    expect((await fetch(`${proxy}/me/profile`)).status).toBe(401)
    expect((await fetch(`${proxy}/me/profile`, {headers: bearer('not-a-session')})).status).toBe(401)
    const {token, identityId} = await register('session@example.com')
    const jwks = createRemoteJWKSet(new URL(`${api}/.well-known/jwks.json`))
    const jtis = new Set<unknown>()
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${proxy}/me/profile`, {headers: bearer(token)})
      expect(res.status).toBe(200)
      expect(upstream.calls.at(-1)!.url).toBe('/profile') // strip_path
      const {payload, protectedHeader} = await jwtVerify(lastUpstreamToken(), jwks, {audience: 'me-api', issuer: config.tokens.issuer})
      expect(payload.sub).toBe(identityId)
      expect(protectedHeader.alg).toBe('RS256')
      expect(payload.exp! - payload.iat!).toBe(config.tokens.ttlMs / 1000)
      jtis.add(payload.jti)
    }
    expect(jtis.size).toBe(2)
    // The wrong audience does not verify.
    await expect(jwtVerify(lastUpstreamToken(), jwks, {audience: 'it-api'})).rejects.toThrow()
  })

  it('a roles route lets in only sessions whose metadata_public.roles has the role, and puts the roles into the token', async () => {
    const {token, identityId} = await register('roles@example.com')
    expect((await fetch(`${proxy}/admin/x`)).status).toBe(401)
    expect((await fetch(`${proxy}/admin/x`, {headers: bearer(token)})).status).toBe(403)
    await setRoles(identityId, ['viewer'])
    expect((await fetch(`${proxy}/admin/x`, {headers: bearer(token)})).status).toBe(403)
    await setRoles(identityId, ['viewer', 'admin'])
    const res = await fetch(`${proxy}/admin/x`, {headers: bearer(token)})
    expect(res.status).toBe(200)
    const jwks = createRemoteJWKSet(new URL(`${api}/.well-known/jwks.json`))
    const {payload} = await jwtVerify(lastUpstreamToken(), jwks, {audience: 'it-api'})
    expect(payload.sub).toBe(identityId)
    expect(payload.roles).toEqual(['viewer', 'admin'])
    // Revoked → refused on the next request.
    await setRoles(identityId, ['viewer'])
    expect((await fetch(`${proxy}/admin/x`, {headers: bearer(token)})).status).toBe(403)
  })

  it('an anyOf route asks batch-auth with one tuple per check, the {param} taken from the path (dots included)', async () => {
    const {token, identityId} = await register('tenant@example.com')
    expect((await fetch(`${proxy}/tenants/acme.com/things`)).status).toBe(401)
    batchAuthAllows = false
    expect((await fetch(`${proxy}/tenants/acme.com/things`, {headers: bearer(token)})).status).toBe(403)
    const call = batchAuth.calls.at(-1)!
    expect(call.url).toBe('/check')
    expect(call.headers['content-type']).toBe('application/json')
    expect(JSON.parse(call.body)).toEqual({
      tuples: [
        {namespace: 'Role', object: 'admin', relation: 'member', subject_id: identityId},
        {namespace: 'Tenant', object: 'acme.com', relation: 'member', subject_id: identityId},
      ],
    })
    batchAuthAllows = true
    expect((await fetch(`${proxy}/tenants/t-1/a/b`, {headers: bearer(token)})).status).toBe(200)
    expect(JSON.parse(batchAuth.calls.at(-1)!.body).tuples[1].object).toBe('t-1')
    // An encoded slash is part of the decoded path the rule matched: the segment stays what the rule matched.
    expect((await fetch(`${proxy}/tenants/x%22y/z`, {headers: bearer(token)})).status).toBe(200)
    expect(JSON.parse(batchAuth.calls.at(-1)!.body).tuples[1].object).toBe('x"y')
  })

  it('Keto reads the rendered OPL namespaces, subject sets included', async () => {
    const res = await fetch(`${ketoRead}/namespaces`)
    const body = (await res.json()) as {namespaces: {name: string}[]}
    expect(body.namespaces.map((n) => n.name).sort()).toEqual(['Doc', 'Role', 'Tenant', 'User'])
    const put = (tuple: object): Promise<Response> =>
      fetch(`${ketoWrite}/admin/relation-tuples`, {method: 'PUT', headers: {'content-type': 'application/json'}, body: JSON.stringify(tuple)})
    expect((await put({namespace: 'Role', object: 'admin', relation: 'member', subject_id: 'alice'})).status).toBe(201)
    expect((await put({namespace: 'Doc', object: 'd1', relation: 'viewer', subject_set: {namespace: 'Role', object: 'admin', relation: 'member'}})).status).toBe(201)
    const check = await fetch(`${ketoRead}/relation-tuples/check?namespace=Doc&object=d1&relation=viewer&subject_id=alice`)
    expect(((await check.json()) as {allowed: boolean}).allowed).toBe(true)
  })

  it('no route matches → 404 from Oathkeeper, nothing reaches the upstream', async () => {
    const before = upstream.calls.length
    expect((await fetch(`${proxy}/nowhere`)).status).toBe(404)
    expect(upstream.calls.length).toBe(before)
  })

  it('rendered files are unchanged by a second render (deterministic, secrets and keys kept)', async () => {
    const envBefore = await readFile(projectPath(dir, LAYOUT.secrets), 'utf8')
    const jwksBefore = await readFile(projectPath(dir, LAYOUT.jwks), 'utf8')
    const report = await renderProject(dir, {config})
    expect(report.drift).toBe(false)
    expect(report.files.every((f) => f.status === 'unchanged')).toBe(true)
    expect(await readFile(projectPath(dir, LAYOUT.secrets), 'utf8')).toBe(envBefore)
    expect(await readFile(projectPath(dir, LAYOUT.jwks), 'utf8')).toBe(jwksBefore)
  })
})
