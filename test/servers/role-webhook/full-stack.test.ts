/**
 * Issue 6's end-to-end check: a project rendered by `renderProject`, the real Keto, Kratos and Oathkeeper started from
 * the rendered files (as the native runtime does), and our REAL role webhook on the rendered port with the rendered
 * secret. Grant → login → whoami carries the role → Oathkeeper's id_token carries it and the admin-only route lets the
 * user in and keeps another out → revoke → the next request is refused, without a new login.
 */
import {createServer, type IncomingMessage, type Server} from 'node:http'

import {createRemoteJWKSet, jwtVerify} from 'jose'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {defaultConfig} from '../../../src/config/defaults.js'
import type {IamConfig} from '../../../src/config/model.js'
import {KetoClient} from '../../../src/ory/keto-client.js'
import {KratosAdminClient} from '../../../src/ory/kratos-client.js'
import {grantRole, revokeRole} from '../../../src/admin/grants.js'
import {createLogger} from '../../../src/servers/http/index.js'
import {startRoleWebhook, type RoleWebhook} from '../../../src/servers/role-webhook/server.js'
import {getFreePort} from '../../harness/index.js'
import {freeProjectPorts as freePorts, loginIdentity, registerIdentity, startRenderedStack} from '../../harness/stack.js'

const PASSWORD = 'a-long-Passw0rd-for-tests!'

let config: IamConfig
let kratosPublic: string
let proxy: string
let api: string
let hook: RoleWebhook
let keto: KetoClient
let kratos: KratosAdminClient
let upstream: Server
const upstreamAuth: (string | undefined)[] = []

beforeAll(async () => {
  const ports = await freePorts()
  const upstreamPort = await getFreePort()
  config = defaultConfig('e2e', {ports})
  config.routes = config.routes.map((r) => ({...r, upstream: `http://127.0.0.1:${upstreamPort}`}))
  const stack = await startRenderedStack(config, 'roles-e2e')
  ;({kratosPublic, proxy, api} = stack.urls)

  upstream = createServer((req: IncomingMessage, res) => {
    upstreamAuth.push(req.headers.authorization)
    res.writeHead(200, {'content-type': 'application/json'})
    res.end('{"ok":true}')
  })
  await new Promise<void>((resolve) => upstream.listen(upstreamPort, '127.0.0.1', resolve))

  hook = await startRoleWebhook({
    host: '127.0.0.1',
    port: ports.roleWebhook,
    secret: stack.secrets.ROLE_WEBHOOK_SECRET,
    kratosAdminUrl: stack.urls.kratosAdmin,
    ketoReadUrl: stack.urls.ketoRead,
    shape: config.roles,
    logger: createLogger({stream: {write: () => true}}),
  })
  keto = new KetoClient({readUrl: stack.urls.ketoRead, writeUrl: stack.urls.ketoWrite})
  kratos = new KratosAdminClient({adminUrl: stack.urls.kratosAdmin})
}, 180_000)

afterAll(async () => {
  await hook?.close()
  await keto?.close()
  await kratos?.close()
  await new Promise((resolve) => upstream?.close(resolve))
})

const register = async (email: string): Promise<string> => (await registerIdentity(kratosPublic, email, PASSWORD)).identityId

async function login(email: string): Promise<string> {
  const r = await loginIdentity(kratosPublic, email, PASSWORD)
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  return r.token!
}

const bearer = (token: string): {headers: Record<string, string>} => ({headers: {authorization: `Bearer ${token}`}})

describe('roles end to end: rendered Kratos + Keto + Oathkeeper + the real role webhook', () => {
  it('grant → login → whoami and the id_token carry the role → admin route 200 / other user 403 → revoke → 403', async () => {
    const deps = {keto, kratos, shape: config.roles}
    const aliceId = await register('alice@example.com')
    await register('bob@example.com')
    // The registration hook already stored an (empty) roles list.
    expect((await kratos.getIdentity(aliceId))!.metadata_public).toEqual({roles: []})
    await kratos.patchIdentity(aliceId, [{op: 'add', path: '/metadata_public/plan', value: 'pro'}, {op: 'add', path: '/metadata_admin', value: {note: 'kept'}}])

    const granted = await grantRole(deps, 'alice@example.com', 'admin')
    expect(granted).toMatchObject({status: 'created', roles: ['admin'], metadataChanged: true})

    const alice = await login('alice@example.com')
    const bob = await login('bob@example.com')
    const me = (await (await fetch(`${kratosPublic}/sessions/whoami`, {headers: {'x-session-token': alice}})).json()) as {identity: {metadata_public: unknown}}
    expect(me.identity.metadata_public).toEqual({plan: 'pro', roles: ['admin']})
    expect((await kratos.getIdentity(aliceId))!.metadata_admin).toEqual({note: 'kept'})

    const allowed = await fetch(`${proxy}/admin/reports`, bearer(alice))
    expect(allowed.status).toBe(200)
    const token = upstreamAuth.at(-1)!.replace(/^Bearer /, '')
    const {payload} = await jwtVerify(token, createRemoteJWKSet(new URL(`${api}/.well-known/jwks.json`)), {issuer: config.tokens.issuer})
    expect(payload.sub).toBe(aliceId)
    expect(payload.roles).toEqual(['admin'])
    expect((await fetch(`${proxy}/admin/reports`, bearer(bob))).status).toBe(403)

    // Revoke refreshes metadata_public at once: the very next request is refused, no new login needed.
    expect(await revokeRole(deps, aliceId, 'admin')).toMatchObject({status: 'deleted', roles: [], metadataChanged: true})
    expect((await fetch(`${proxy}/admin/reports`, bearer(alice))).status).toBe(403)
    expect((await kratos.getIdentity(aliceId))!.metadata_public).toEqual({plan: 'pro', roles: []})
  }, 180_000)
})
