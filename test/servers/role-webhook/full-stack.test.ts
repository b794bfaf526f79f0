/**
 * Issue 6's end-to-end check: a project rendered by `renderProject`, the real Keto, Kratos and Oathkeeper started from
 * the rendered files (as the native runtime does), and our REAL role webhook on the rendered port with the rendered
 * secret. Grant → login → whoami carries the role → Oathkeeper's id_token carries it and the admin-only route lets the
 * user in and keeps another out → revoke → the next request is refused, without a new login.
 */
import {createServer, type IncomingMessage, type Server} from 'node:http'
import {mkdir, mkdtemp, readFile, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {createRemoteJWKSet, jwtVerify} from 'jose'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse as parseYaml, stringify as stringifyYaml} from 'yaml'

import {defaultConfig} from '../../../src/config/defaults.js'
import type {IamConfig, PortsConfig} from '../../../src/config/model.js'
import {KetoClient} from '../../../src/ory/keto-client.js'
import {KratosAdminClient} from '../../../src/ory/kratos-client.js'
import {kratosEnv, ketoEnv} from '../../../src/project/env.js'
import {LAYOUT, projectPath} from '../../../src/project/layout.js'
import {renderProject} from '../../../src/project/render.js'
import {readSecrets} from '../../../src/project/secrets.js'
import {grantRole, revokeRole} from '../../../src/seed/grants.js'
import {createLogger} from '../../../src/servers/http/index.js'
import {startRoleWebhook, type RoleWebhook} from '../../../src/servers/role-webhook/server.js'
import {getFreePort, startOryFromConfig} from '../../harness/index.js'

const PASSWORD = 'a-long-Passw0rd-for-tests!'

let dir: string
let config: IamConfig
let kratosPublic: string
let proxy: string
let api: string
let hook: RoleWebhook
let keto: KetoClient
let kratos: KratosAdminClient
let upstream: Server
const upstreamAuth: (string | undefined)[] = []

async function freePorts(): Promise<PortsConfig> {
  const names: (keyof PortsConfig)[] = ['kratosPublic', 'kratosAdmin', 'ketoRead', 'ketoWrite', 'oathkeeperProxy', 'oathkeeperApi', 'batchAuth', 'roleWebhook', 'mailUi', 'mailSmtp']
  const ports = {} as PortsConfig
  const seen = new Set<number>()
  for (const name of names) {
    let port = await getFreePort()
    while (seen.has(port)) port = await getFreePort()
    seen.add(port)
    ports[name] = port
  }
  return ports
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iam-roles-e2e-'))
  const ports = await freePorts()
  const upstreamPort = await getFreePort()
  config = defaultConfig('e2e', {ports})
  config.routes = config.routes.map((r) => ({...r, upstream: `http://127.0.0.1:${upstreamPort}`}))
  await renderProject(dir, {config})
  // The rendered oathkeeper.yml leaves Oathkeeper's metrics on its default :9000, which parallel test files (and
  // other Oathkeepers on this machine) collide on; move it to a free port in this test's copy.
  const oathkeeperYml = projectPath(dir, LAYOUT.oathkeeperConfig)
  const ok = parseYaml(await readFile(oathkeeperYml, 'utf8')) as {serve?: Record<string, unknown>}
  ok.serve = {...ok.serve, prometheus: {host: '127.0.0.1', port: await getFreePort()}}
  await writeFile(oathkeeperYml, stringifyYaml(ok))
  await mkdir(projectPath(dir, LAYOUT.dataDir), {recursive: true})
  const secrets = await readSecrets(dir)

  upstream = createServer((req: IncomingMessage, res) => {
    upstreamAuth.push(req.headers.authorization)
    res.writeHead(200, {'content-type': 'application/json'})
    res.end('{"ok":true}')
  })
  await new Promise<void>((resolve) => upstream.listen(upstreamPort, '127.0.0.1', resolve))

  const local = (port: number): string => `http://127.0.0.1:${port}`
  kratosPublic = local(ports.kratosPublic)
  proxy = local(ports.oathkeeperProxy)
  api = local(ports.oathkeeperApi)
  hook = await startRoleWebhook({
    host: '127.0.0.1',
    port: ports.roleWebhook,
    secret: secrets.ROLE_WEBHOOK_SECRET,
    kratosAdminUrl: local(ports.kratosAdmin),
    ketoReadUrl: local(ports.ketoRead),
    shape: config.roles,
    logger: createLogger({stream: {write: () => true}}),
  })
  await Promise.all([
    startOryFromConfig({
      server: 'keto',
      configPath: projectPath(dir, LAYOUT.ketoConfig),
      env: ketoEnv({projectDir: dir}),
      readyUrls: [`${local(ports.ketoRead)}/health/ready`, `${local(ports.ketoWrite)}/health/ready`],
    }),
    startOryFromConfig({
      server: 'kratos',
      configPath: projectPath(dir, LAYOUT.kratosConfig),
      env: kratosEnv({config, projectDir: dir, secrets}),
      readyUrls: [`${kratosPublic}/health/ready`, `${local(ports.kratosAdmin)}/health/ready`],
    }),
    startOryFromConfig({server: 'oathkeeper', configPath: projectPath(dir, LAYOUT.oathkeeperConfig), readyUrls: [`${api}/health/ready`]}),
  ])
  keto = new KetoClient({readUrl: local(ports.ketoRead), writeUrl: local(ports.ketoWrite)})
  kratos = new KratosAdminClient({adminUrl: local(ports.kratosAdmin)})
}, 180_000)

afterAll(async () => {
  await hook?.close()
  await keto?.close()
  await kratos?.close()
  await new Promise((resolve) => upstream?.close(resolve))
})

async function register(email: string): Promise<string> {
  const flow = (await (await fetch(`${kratosPublic}/self-service/registration/api`)).json()) as {id: string}
  const res = await fetch(`${kratosPublic}/self-service/registration?flow=${flow.id}`, {
    method: 'POST',
    headers: {'content-type': 'application/json', accept: 'application/json'},
    body: JSON.stringify({method: 'password', password: PASSWORD, traits: {email, name: 'Test'}}),
  })
  const body = (await res.json()) as {identity?: {id: string}}
  expect(res.status, JSON.stringify(body)).toBe(200)
  return body.identity!.id
}

async function login(email: string): Promise<string> {
  const flow = (await (await fetch(`${kratosPublic}/self-service/login/api`)).json()) as {id: string}
  const res = await fetch(`${kratosPublic}/self-service/login?flow=${flow.id}`, {
    method: 'POST',
    headers: {'content-type': 'application/json', accept: 'application/json'},
    body: JSON.stringify({method: 'password', identifier: email, password: PASSWORD}),
  })
  const body = (await res.json()) as {session_token?: string}
  expect(res.status, JSON.stringify(body)).toBe(200)
  return body.session_token!
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
