/**
 * `iam up --seed` and `roles.strict` with the native runtime against the REAL Ory binaries, through the built CLI:
 * the seed lands in the running Kratos and Keto (a failed entry makes the exit code 1 and leaves the stack running),
 * the seeded role reaches the session and the gateway, and `roles.strict: true` in iam.yaml makes the role webhook
 * the native runtime starts refuse a login while Keto is down.
 */
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseDocument} from 'yaml'

import {isRecordAlive, readPidRecords} from '../../src/runtime/pidfile.js'
import type {StatusReport} from '../../src/runtime/types.js'
import {INTERRUPT_MESSAGE, INTERRUPT_MESSAGE_ID} from '../../src/servers/role-webhook/server.js'
import type {SeedReport} from '../../src/seed/apply.js'
import {runIam} from '../helpers/cli.js'
import {loginIdentity} from '../harness/stack.js'
import {nativeFixtures} from './helpers.js'

const fixtures = nativeFixtures()
afterAll(() => fixtures.cleanup(), 60_000)

const ADA_VAR = 'IAM_TEST_SEED_ADA_PASSWORD'
const BOB_VAR = 'IAM_TEST_SEED_BOB_PASSWORD'
const ADA_PASSWORD = 'ada-long-Passw0rd-for-seed!'
const BOB_PASSWORD = 'bob-long-Passw0rd-for-seed!'

describe('native runtime: iam up --seed and roles.strict (real servers)', () => {
  let dir: string
  let kratosPublic: string
  let proxy: string

  beforeAll(async () => {
    const upstream = await fixtures.startUpstream()
    const project = await fixtures.makeProject('seeded', upstream, (yaml) => {
      const doc = parseDocument(yaml)
      doc.setIn(['roles', 'strict'], true)
      doc.setIn(['seed', 'identities'], [
        {email: 'ada@example.com', password: `\${${ADA_VAR}}`, name: 'Ada', roles: ['admin']},
        {email: 'bob@example.com', password: `\${${BOB_VAR}}`, name: 'Bob'},
      ])
      doc.setIn(['seed', 'tuples'], ['Tenant:acme#member@seeded-subject'])
      return doc.toString()
    })
    dir = project.dir
    kratosPublic = `http://127.0.0.1:${project.ports.kratosPublic}`
    proxy = `http://127.0.0.1:${project.ports.oathkeeperProxy}`
  })

  it('a seed entry that fails: exit 1, the rest applied, the stack left running', async () => {
    const r = await runIam(['up', '--seed', '--json'], {cwd: dir, timeoutMs: 180_000, env: {[ADA_VAR]: undefined, [BOB_VAR]: BOB_PASSWORD}})
    expect(r.exitCode, r.output).toBe(1)
    const result = r.json as {status: StatusReport; seed: SeedReport}
    expect(result.status.healthy).toBe(true)
    expect(result.seed).toMatchObject({failed: true, identities: {created: 1, existing: 0, failed: 1}, tuples: {created: 1, failed: 0}})
    const ada = result.seed.identities.identities.find((i) => i.status === 'failed')
    expect(ada?.error).toContain(ADA_VAR)
    expect(r.stdout + r.stderr).not.toContain(BOB_PASSWORD)
    const status = await runIam(['status', '-o', 'json'], {cwd: dir})
    expect(status.exitCode, status.output).toBe(0)
    expect((status.json as StatusReport).healthy).toBe(true)
  })

  it('run again with the password set: only what was missing is created; the summary says so', async () => {
    const r = await runIam(['up', '--seed'], {cwd: dir, env: {[ADA_VAR]: ADA_PASSWORD, [BOB_VAR]: BOB_PASSWORD}})
    expect(r.exitCode, r.stderr + r.stdout).toBe(0)
    expect(r.stdout).toContain('already running')
    expect(r.stdout).toContain('identities: 1 created, 1 existing, 0 failed')
    expect(r.stdout).toContain('tuples: 0 created, 1 existing, 0 failed')
    expect(r.stdout + r.stderr).not.toContain(ADA_PASSWORD)
  })

  it('the seeded role reaches the session and the gateway: ada (admin) is let into /admin, bob is not', async () => {
    const ada = await loginIdentity(kratosPublic, 'ada@example.com', ADA_PASSWORD)
    expect(ada.status, JSON.stringify(ada.body)).toBe(200)
    const whoami = (await (await fetch(`${kratosPublic}/sessions/whoami`, {headers: {'x-session-token': ada.token!}})).json()) as {identity: {metadata_public: unknown}}
    expect(whoami.identity.metadata_public).toEqual({roles: ['admin']})
    expect((await fetch(`${proxy}/admin/reports`, {headers: {authorization: `Bearer ${ada.token}`}})).status).toBe(200)
    const bob = await loginIdentity(kratosPublic, 'bob@example.com', BOB_PASSWORD)
    expect(bob.status).toBe(200)
    expect((await fetch(`${proxy}/admin/reports`, {headers: {authorization: `Bearer ${bob.token}`}})).status).toBe(403)
  })

  it('roles.strict: true reaches the role webhook: with Keto down the login is refused with its message', async () => {
    const keto = (await readPidRecords(join(dir, '.iam', 'run'))).find((record) => record.service === 'keto')
    expect(keto).toBeDefined()
    process.kill(keto!.pid, 'SIGKILL')
    for (let i = 0; i < 50 && (await isRecordAlive(keto!)); i++) await new Promise((resolve) => setTimeout(resolve, 100))
    const refused = await loginIdentity(kratosPublic, 'ada@example.com', ADA_PASSWORD)
    expect(refused.status).toBe(400)
    expect(refused.token).toBeUndefined()
    expect((refused.body as {ui: {messages: unknown}}).ui.messages).toEqual([{id: INTERRUPT_MESSAGE_ID, text: INTERRUPT_MESSAGE, type: 'error'}])
    const down = await runIam(['down'], {cwd: dir})
    expect(down.exitCode, down.output).toBe(0)
  })
})
