import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {request} from 'undici'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {BatchAuthServer} from '../../../src/servers/batch-auth/index.js'
import {startKeto, startKratos, startOathkeeper} from '../../harness/index.js'
import {putTuples, rel, startTestBatchAuth} from './helpers.js'

/*
 * Real Oathkeeper + Kratos + Keto: a hand-written rule of the shape the renderer produces for an `anyOf` route.
 * The tenant comes from `.MatchContext.URL.Path` (glob matching leaves RegexpCaptureGroups empty, checked below),
 * and every templated value goes through `toJson` so a crafted path cannot inject tuples.
 */
const TENANT_PAYLOAD =
  '{"tuples":[' +
  '{"namespace":"Role","object":"admin","relation":"member","subject_id":{{ toJson .Subject }}},' +
  '{"namespace":"Tenant","object":{{ toJson (index (splitList "/" .MatchContext.URL.Path) 2) }},"relation":"member","subject_id":{{ toJson .Subject }}}' +
  ']}'

let keto: Awaited<ReturnType<typeof startKeto>>
let kratos: Awaited<ReturnType<typeof startKratos>>
let oathkeeper: Awaited<ReturnType<typeof startOathkeeper>>
let batchAuth: BatchAuthServer
let upstream: Server
const tokens: Record<string, string> = {}
const ids: Record<string, string> = {}
const received: string[] = []
const batchAuthLogs: string[] = []

async function createIdentity(name: string): Promise<void> {
  const email = `${name}@example.com`
  const password = `pw-${name}-Correct-Horse-42`
  const created = await request(`${kratos.urls.admin}/admin/identities`, {
    method: 'POST',
    headers: {'content-type': 'application/json'},
    body: JSON.stringify({schema_id: 'default', traits: {email}, credentials: {password: {config: {password}}}}),
  })
  const identity = (await created.body.json()) as {id: string}
  expect(created.statusCode).toBe(201)
  ids[name] = identity.id
  const flow = (await (await request(`${kratos.urls.public}/self-service/login/api`)).body.json()) as {id: string}
  const login = await request(`${kratos.urls.public}/self-service/login?flow=${flow.id}`, {
    method: 'POST',
    headers: {'content-type': 'application/json', accept: 'application/json'},
    body: JSON.stringify({method: 'password', identifier: email, password}),
  })
  const session = (await login.body.json()) as {session_token: string}
  expect(login.statusCode).toBe(200)
  tokens[name] = session.session_token
}

beforeAll(async () => {
  upstream = createServer((req, res) => {
    received.push(req.url ?? '')
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({upstream: true, url: req.url}))
  })
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r))
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`

  ;[keto, kratos] = await Promise.all([startKeto(), startKratos()])
  batchAuth = await startTestBatchAuth(keto.urls.read, {logs: batchAuthLogs})
  for (const name of ['alice', 'bob', 'carol']) await createIdentity(name)
  await putTuples(keto.urls.write, [rel('Role', 'admin', 'member', ids.alice!), rel('Tenant', 't1', 'member', ids.bob!)])

  const authenticators = [
    {handler: 'bearer_token', config: {check_session_url: `${kratos.urls.public}/sessions/whoami`, preserve_path: true, force_method: 'GET', subject_from: 'identity.id'}},
  ]
  const rule = (id: string, path: string, payload: string) => ({
    id,
    upstream: {url: upstreamUrl},
    // The proxy's port is only known once it runs: `<*>` matches it (glob separators are '.' and '/').
    match: {url: `http://127.0.0.1:<*>/${path}/<*>/<**>`, methods: ['GET', 'POST']},
    authenticators,
    authorizer: {handler: 'remote_json', config: {remote: `${batchAuth.url}/check`, payload}},
    mutators: [{handler: 'noop'}],
  })
  oathkeeper = await startOathkeeper({
    config: {
      access_rules: {matching_strategy: 'glob'},
      authenticators: {bearer_token: {config: {check_session_url: `${kratos.urls.public}/sessions/whoami`}}},
      authorizers: {remote_json: {config: {remote: `${batchAuth.url}/check`, payload: '{}'}}},
    },
    rules: [
      rule('tenants', 'tenants', TENANT_PAYLOAD),
      rule('probe-capture-groups', 'probe', TENANT_PAYLOAD.replace('(index (splitList "/" .MatchContext.URL.Path) 2)', '(printIndex .MatchContext.RegexpCaptureGroups 0)')),
    ],
  })
})

afterAll(async () => {
  await batchAuth?.close()
  await new Promise((r) => upstream?.close(r))
})

async function get(path: string, who?: string): Promise<number> {
  const res = await request(`${oathkeeper.urls.proxy}${path}`, {headers: who ? {authorization: `Bearer ${tokens[who]}`} : {}})
  await res.body.dump()
  return res.statusCode
}

describe('Oathkeeper remote_json → batch-auth → Keto (real servers)', () => {
  it('an admin gets through to every tenant', async () => {
    expect(await get('/tenants/t1/projects', 'alice')).toBe(200)
    expect(await get('/tenants/t2/projects/7', 'alice')).toBe(200)
    expect(received).toContain('/tenants/t2/projects/7')
  })

  it('a tenant member only to its own tenant', async () => {
    expect(await get('/tenants/t1/projects', 'bob')).toBe(200)
    expect(await get('/tenants/t2/projects', 'bob')).toBe(403)
  })

  it('anyone else gets 403, an anonymous request 401', async () => {
    expect(await get('/tenants/t1/projects', 'carol')).toBe(403)
    expect(await get('/tenants/t1/projects')).toBe(401)
  })

  it('a crafted path cannot inject a tuple into the payload', async () => {
    const injected = encodeURIComponent(`t2","relation":"member","subject_id":"x"},{"namespace":"Role","object":"admin","relation":"member","subject_id":"${ids.alice}`)
    // Rule matched (not 404), the whole segment became one object string, Keto found no such tenant: 403.
    expect(await get(`/tenants/${injected}/projects`, 'bob')).toBe(403)
    expect(received.some((u) => u.includes('subject_id'))).toBe(false)
  })

  it('glob matching leaves RegexpCaptureGroups empty: a payload built from them is refused (fail closed)', async () => {
    // The empty object makes batch-auth answer 400, which Oathkeeper turns into an error, never an allow.
    expect(await get('/probe/t1/projects', 'alice')).toBe(500)
    expect(batchAuthLogs.some((l) => l.includes('"field":"tuples[1].object"'))).toBe(true)
  })
})
