/**
 * Machine clients on the REAL Hydra v26.2.0 behind the real Oathkeeper (issue 16): `iam init --machine-clients` +
 * `iam up` starts Hydra with the rest; create → token → the machine route answers 200 and the upstream receives an
 * id_token with the client's claims → a token without the scope is 403 → a session route refuses the client token and
 * the client route refuses a session → revoke → 401 within hydra.introspectionCache → rotate-secret → the old secret
 * is refused → delete → the client is gone. Seeded clients, smoke's machine step, and no secret in any output but
 * create's / rotate-secret's, nor in any log.
 */
import {readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {MachineClient} from '../../src/clients/index.js'
import {KratosAdminClient, KratosPublicClient} from '../../src/ory/kratos-client.js'
import {readPidRecords} from '../../src/runtime/pidfile.js'
import type {SmokeReport} from '../../src/smoke/index.js'
import {createVerifier, VerifyError} from '../../src/verifier/index.js'
import {runIam, type CliResult} from '../helpers/cli.js'
import {nativeFixtures} from '../runtime/helpers.js'

const fixtures = nativeFixtures()
const NATIVE = {IAM_RUNTIME: 'native'}
const SEED_SECRET = 'seeded-secret-0123456789abcdefghij'

let dir: string
let ports: Awaited<ReturnType<typeof fixtures.makeProject>>['ports']
let upstreamPort: number
/** Every CLI result but create's and rotate-secret's: none may hold a client secret. */
const quietOutputs: string[] = []
const secrets: string[] = [SEED_SECRET]

async function iam(args: string[], o: {input?: string; env?: Record<string, string>; showsSecret?: boolean} = {}): Promise<CliResult> {
  const r = await runIam([...args, '-C', dir], {env: {...NATIVE, ...o.env}, ...(o.input === undefined ? {} : {input: o.input}), timeoutMs: 180_000})
  if (!o.showsSecret) quietOutputs.push(r.output)
  return r
}

async function createClient(id: string, args: string[]): Promise<{client: MachineClient; secret: string}> {
  const r = await iam(['clients', 'create', id, ...args, '--json'], {showsSecret: true})
  expect(r.exitCode, r.output).toBe(0)
  const created = r.json as {client: MachineClient; secret: string}
  secrets.push(created.secret)
  return created
}

async function token(id: string, secret: string, args: string[] = []): Promise<CliResult> {
  return iam(['clients', 'token', id, '--secret-stdin', ...args], {input: `${secret}\n`})
}

async function tokenOf(id: string, secret: string, args: string[] = []): Promise<string> {
  const r = await token(id, secret, args)
  expect(r.exitCode, r.output).toBe(0)
  const value = r.stdout.trim()
  expect(value).toMatch(/^ory_at_/)
  return value
}

const gateway = (path: string): string => `http://127.0.0.1:${ports.oathkeeperProxy}${path}`

async function call(path: string, bearer?: string): Promise<{status: number; body: string}> {
  const res = await fetch(gateway(path), {headers: bearer ? {authorization: `Bearer ${bearer}`} : {}})
  return {status: res.status, body: await res.text()}
}

function verifier(machine: 'allow' | 'require' | 'refuse') {
  return createVerifier({jwksUrl: `http://127.0.0.1:${ports.oathkeeperApi}/.well-known/jwks.json`, issuer: `http://127.0.0.1:${ports.oathkeeperProxy}/`, audience: 'machine-api', machine})
}

beforeAll(async () => {
  upstreamPort = await fixtures.startUpstream()
  const seed = `seed:\n  clients:\n    - {id: seeded, secret: "\${SEED_CLIENT_SECRET}", scopes: [machine:read], metadata: {tier: silver}}\n`
  // A route that takes both: users' sessions and clients' tokens (the bearer token's prefix picks the check).
  const either = `  - {id: either, match: /either/<**>, methods: [GET], upstream: "http://127.0.0.1:${upstreamPort}", auth: session-or-client, scopes: [machine:read], audience: machine-api}\n`
  const edit = (yaml: string): string => yaml.replace(/^seed:.*\n(?:^ .*\n)*/m, seed).replace(/^routes:\n/m, `routes:\n${either}`)
  ;({dir, ports} = await fixtures.makeProject('machine', upstreamPort, edit, ['--machine-clients']))
  const up = await iam(['up', '--json'])
  expect(up.exitCode, up.output).toBe(0)
}, 300_000)

afterAll(async () => {
  await fixtures.cleanup()
}, 60_000)

describe('machine clients on the real Hydra behind the real gateway', () => {
  it('iam up started Hydra and its token hook; status -o env prints Hydra\'s URLs', async () => {
    const status = await iam(['status', '--json'])
    const services = (status.json as {services: {name: string; state: string}[]}).services
    expect(services.filter((s) => ['hydra', 'client-claims'].includes(s.name)).map((s) => `${s.name} ${s.state}`).sort()).toEqual(['client-claims ready', 'hydra ready'])
    const env = await iam(['status', '-o', 'env'])
    expect(env.stdout).toContain(`HYDRA_PUBLIC_URL=http://127.0.0.1:${ports.hydraPublic}/`)
    expect(env.stdout).toContain(`HYDRA_ADMIN_URL=http://127.0.0.1:${ports.hydraAdmin}`)
    expect(env.stdout).toContain(`HYDRA_TOKEN_URL=http://127.0.0.1:${ports.hydraPublic}/oauth2/token`)
  })

  let billing: {client: MachineClient; secret: string}
  let billingToken: string

  it('create → token → the machine route answers 200 and the upstream receives an id_token with the client\'s claims', async () => {
    billing = await createClient('billing', ['--scope', 'machine:read', '--metadata', 'namespace=acme', '--metadata', 'tier=gold'])
    expect(billing.client).toMatchObject({id: 'billing', scopes: ['machine:read'], metadata: {namespace: 'acme', tier: 'gold'}})
    expect(billing.secret.length).toBeGreaterThanOrEqual(32)

    billingToken = await tokenOf('billing', billing.secret)
    const res = await call('/machine/reports', billingToken)
    expect(res.status, res.body).toBe(200)
    const seen = JSON.parse(res.body) as {url: string; authorization: string}
    expect(seen.url).toBe('/machine/reports')
    const idToken = seen.authorization.replace(/^Bearer /, '')
    const {claims} = await verifier('require').verify(idToken)
    expect(claims).toMatchObject({sub: 'billing', client_id: 'billing', scope: 'machine:read', type: 'machine', metadata: {namespace: 'acme', tier: 'gold'}, aud: ['machine-api']})
    // One kind of token for users and services alike: a service taking users only refuses it with its own code.
    const refused = await verifier('refuse').verify(idToken).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(VerifyError)
    expect((refused as VerifyError).code).toBe('machine_mismatch')

    // show and list never print a secret
    const show = await iam(['clients', 'show', 'billing', '--json'])
    expect(show.exitCode, show.output).toBe(0)
    expect(show.json).toEqual({client: expect.objectContaining({id: 'billing', scopes: ['machine:read']})})
    expect(JSON.stringify(show.json)).not.toContain('secret')
    const list = await iam(['clients', 'list'])
    expect(list.stdout).toMatch(/billing\s+machine:read\s+namespace=acme, tier=gold/)
  })

  it('a token without the route\'s scope is 403; a scope the client lacks is refused by Hydra (invalid_scope, exit 1)', async () => {
    const other = await createClient('other', ['--scope', 'other:read'])
    const res = await call('/machine/reports', await tokenOf('other', other.secret))
    expect(res.status, res.body).toBe(403)
    const wrongScope = await token('other', other.secret, ['--scope', 'machine:read', '--json'])
    expect(wrongScope.exitCode, wrongScope.output).toBe(1)
    expect(wrongScope.json).toMatchObject({error: {code: 'CLIENT_TOKEN_REFUSED', details: {error: 'invalid_scope'}}})
  })

  it('a session route refuses the client token (401) and the client route refuses a session (401)', async () => {
    expect((await call('/app/home', billingToken)).status).toBe(401)
    const kratos = new KratosAdminClient({adminUrl: `http://127.0.0.1:${ports.kratosAdmin}`})
    const kratosPublic = new KratosPublicClient({publicUrl: `http://127.0.0.1:${ports.kratosPublic}`})
    try {
      const password = 'machine-test-Passw0rd!'
      const created = await kratos.createIdentity({schemaId: 'default', traits: {email: 'person@example.com'}, password})
      expect(created.conflict).toBeFalsy()
      const login = await kratosPublic.login({method: 'password', identifier: 'person@example.com', password})
      expect(login.result).toBe('ok')
      const sessionToken = login.result === 'ok' ? login.sessionToken! : ''
      expect(sessionToken).toMatch(/^ory_st_/)
      expect((await call('/app/home', sessionToken)).status).toBe(200)
      expect((await call('/machine/reports', sessionToken)).status).toBe(401)
    } finally {
      await Promise.all([kratos.close(), kratosPublic.close()])
    }
  })

  it('a session-or-client route takes a session (a user\'s id_token) and a client token with the scope (a machine\'s), 403 without it', async () => {
    const kratos = new KratosAdminClient({adminUrl: `http://127.0.0.1:${ports.kratosAdmin}`})
    const kratosPublic = new KratosPublicClient({publicUrl: `http://127.0.0.1:${ports.kratosPublic}`})
    try {
      const login = await kratosPublic.login({method: 'password', identifier: 'person@example.com', password: 'machine-test-Passw0rd!'})
      const sessionToken = login.result === 'ok' ? login.sessionToken! : ''
      expect((await call('/either/x')).status).toBe(401)
      const asUser = await call('/either/x', sessionToken)
      expect(asUser.status, asUser.body).toBe(200)
      const user = (await verifier('refuse').verify((JSON.parse(asUser.body) as {authorization: string}).authorization.replace(/^Bearer /, ''))).claims
      expect(user).toMatchObject({email: 'person@example.com'})
      expect(user.type).not.toBe('machine')
      const asClient = await call('/either/x', billingToken)
      expect(asClient.status, asClient.body).toBe(200)
      expect((await verifier('require').verify((JSON.parse(asClient.body) as {authorization: string}).authorization.replace(/^Bearer /, ''))).claims).toMatchObject({sub: 'billing', type: 'machine'})
      const other = await createClient('other-2', ['--scope', 'other:read'])
      expect((await call('/either/x', await tokenOf('other-2', other.secret))).status).toBe(403)
      expect((await iam(['clients', 'delete', 'other-2'])).exitCode).toBe(0)
    } finally {
      await Promise.all([kratos.close(), kratosPublic.close()])
    }
  })

  it('revoke → the gateway refuses the token within hydra.introspectionCache (5s); a new token works', async () => {
    expect((await call('/machine/reports', billingToken)).status).toBe(200)
    const revoked = await iam(['clients', 'revoke', 'billing', '--json'])
    expect(revoked.exitCode, revoked.output).toBe(0)
    expect(revoked.json).toEqual({id: 'billing', revoked: true, refusedWithinMs: 5000})
    const started = Date.now()
    let status = 200
    // The bound is what the rendered rule promises (the introspection cache's ttl); the slack covers a busy machine.
    while (status !== 401 && Date.now() - started < 5000 + 5000) {
      status = (await call('/machine/reports', billingToken)).status
      if (status !== 401) await new Promise((r) => setTimeout(r, 100))
    }
    const elapsed = Date.now() - started
    expect(status, `still ${status} ${elapsed} ms after the revoke`).toBe(401)
    console.log(`revoked token refused ${elapsed} ms after iam clients revoke (bound: hydra.introspectionCache 5s)`)
    expect((await call('/machine/reports', await tokenOf('billing', billing.secret))).status).toBe(200)
  }, 30_000)

  it('rotate-secret → the old secret is refused (invalid_client), the new one works', async () => {
    const r = await iam(['clients', 'rotate-secret', 'billing', '--json'], {showsSecret: true})
    expect(r.exitCode, r.output).toBe(0)
    const rotated = r.json as {client: MachineClient; secret: string}
    secrets.push(rotated.secret)
    expect(rotated.secret).not.toBe(billing.secret)
    const old = await token('billing', billing.secret, ['--json'])
    expect(old.exitCode, old.output).toBe(1)
    expect(old.json).toMatchObject({error: {code: 'CLIENT_TOKEN_REFUSED', details: {error: 'invalid_client'}}})
    expect((await call('/machine/reports', await tokenOf('billing', rotated.secret))).status).toBe(200)
    billing = rotated
  })

  it('delete → the client is gone (CLIENT_NOT_FOUND, exit 1) and its secret gets no token', async () => {
    const del = await iam(['clients', 'delete', 'billing', '--json'])
    expect(del.exitCode, del.output).toBe(0)
    expect(del.json).toEqual({id: 'billing', deleted: true})
    const show = await iam(['clients', 'show', 'billing', '--json'])
    expect(show.exitCode).toBe(1)
    expect(show.json).toMatchObject({error: {code: 'CLIENT_NOT_FOUND'}})
    const again = await token('billing', billing.secret, ['--json'])
    expect(again.exitCode).toBe(1)
    expect(again.json).toMatchObject({error: {code: 'CLIENT_TOKEN_REFUSED', details: {error: 'invalid_client'}}})
    const list = await iam(['clients', 'list', '--json'])
    expect((list.json as {clients: MachineClient[]}).clients.map((c) => c.id)).not.toContain('billing')
  })

  it('iam seed creates the seeded client once (secret from ${VAR}), then reports it unchanged', async () => {
    const env = {SEED_CLIENT_SECRET: SEED_SECRET}
    const first = await iam(['seed', '--json'], {env})
    expect(first.exitCode, first.output).toBe(0)
    expect((first.json as {clients: unknown}).clients).toEqual([{id: 'seeded', status: 'created'}])
    const second = await iam(['seed', '--json'], {env})
    expect((second.json as {clients: unknown}).clients).toEqual([{id: 'seeded', status: 'unchanged'}])
    const res = await call('/machine/x', await tokenOf('seeded', SEED_SECRET))
    expect(res.status, res.body).toBe(200)
    const {claims} = await verifier('require').verify((JSON.parse(res.body) as {authorization: string}).authorization.replace(/^Bearer /, ''))
    expect(claims).toMatchObject({sub: 'seeded', metadata: {tier: 'silver'}})
  })

  it('iam smoke covers the machine route with a throwaway client, removed afterwards', async () => {
    const r = await iam(['smoke', '--json'])
    const report = r.json as SmokeReport
    expect(r.exitCode, JSON.stringify(report.steps, null, 2)).toBe(0)
    const step = (id: string) => report.steps.find((s) => s.id === id)
    expect(step('machine-client')).toMatchObject({status: 'ok'})
    expect(step('route.machine')).toMatchObject({status: 'ok', message: expect.stringContaining('403 for a client token without machine:read; 200 with a client token')})
    expect(step('route.machine')?.message).toContain('type machine')
    expect(step('route.either')).toMatchObject({status: 'ok', message: expect.stringContaining('200 with a session')})
    expect(step('route.either')?.message).toContain('200 with a client token')
    expect(step('cleanup')?.message).toMatch(/deleted machine client iam-smoke-/)
    const list = await iam(['clients', 'list', '--json'])
    expect((list.json as {clients: MachineClient[]}).clients.map((c) => c.id).sort()).toEqual(['other', 'seeded'])
  }, 120_000)

  it("no client secret appears in any other output, nor in any log; no .env value (Hydra's secrets, the hook's key) in a log or a command line", async () => {
    const dotenv = (await readFile(join(dir, '.env'), 'utf8')).split('\n').map((l) => /^([A-Z_]+)=(.+)$/.exec(l)).filter((m) => m !== null)
    expect(dotenv.map((m) => m[1])).toEqual(expect.arrayContaining(['HYDRA_SECRETS_SYSTEM', 'HYDRA_PAIRWISE_SALT', 'CLIENT_CLAIMS_SECRET']))
    secrets.push(...dotenv.map((m) => m[2]!))
    for (const record of await readPidRecords(join(dir, '.iam', 'run'))) {
      const cmdline = await readFile(`/proc/${record.pid}/cmdline`, 'utf8').catch(() => '')
      for (const secret of secrets) expect(cmdline.includes(secret), `${record.service}'s command line holds a secret`).toBe(false)
    }
    expect(secrets.length).toBeGreaterThanOrEqual(4)
    for (const output of quietOutputs) for (const secret of secrets) expect(output.includes(secret)).toBe(false)
    const logDir = join(dir, '.iam', 'logs')
    const logs = await readdir(logDir)
    expect(logs).toEqual(expect.arrayContaining(['hydra.log', 'client-claims.log', 'oathkeeper.log']))
    for (const name of logs) {
      const text = await readFile(join(logDir, name), 'utf8')
      for (const secret of secrets) expect(text.includes(secret), `${name} holds a client secret`).toBe(false)
    }
  })
})
