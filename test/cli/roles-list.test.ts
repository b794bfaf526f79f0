// `iam roles list <email|id>`: one identity's roles, read from Keto, the email resolved through Kratos' admin API —
// through the built CLI against the real servers.
import {randomBytes} from 'node:crypto'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {KratosAdminClient} from '../../src/ory/kratos-client.js'
import {startKeto, startKratos} from '../harness/index.js'
import {runIam, type CliResult} from '../helpers/cli.js'

let kratosClient: KratosAdminClient
let urls: string[]
const tag = randomBytes(3).toString('hex')
const email = (name: string): string => `${name}-${tag}@example.com`

async function iam(args: string[]): Promise<CliResult> {
  return runIam([...args, ...urls])
}

beforeAll(async () => {
  const [keto, kratos] = await Promise.all([startKeto(), startKratos()])
  kratosClient = new KratosAdminClient({adminUrl: kratos.urls.admin})
  urls = ['--kratos-admin-url', kratos.urls.admin, '--keto-read-url', keto.urls.read, '--keto-write-url', keto.urls.write]
})

afterAll(async () => {
  await kratosClient?.close()
})

describe('iam roles list <email|id>', {timeout: 180_000}, () => {
  it("shows one identity's roles by email or id, as text and JSON; without an argument every assignment", async () => {
    const created = await Promise.all(
      ['ada', 'bob'].map(async (name) => {
        const r = await kratosClient.createIdentity({schemaId: 'default', traits: {email: email(name)}})
        if (r.conflict) throw new Error(`identity ${name} exists`)
        return r.identity.id
      }),
    )
    const [ada, bob] = created as [string, string]
    for (const [user, role] of [[email('ada'), 'admin'], [email('ada'), 'editor'], [bob, 'viewer']] as const) {
      const grant = await iam(['roles', 'grant', user, role, '--json'])
      expect(grant.exitCode, grant.output).toBe(0)
    }

    const byEmail = await iam(['roles', 'list', email('ada'), '--json'])
    expect(byEmail.exitCode, byEmail.output).toBe(0)
    expect(byEmail.json).toEqual({
      user: email('ada'),
      identityId: ada,
      email: email('ada'),
      roles: ['admin', 'editor'],
      assignments: [
        {role: 'admin', subject: ada, email: email('ada')},
        {role: 'editor', subject: ada, email: email('ada')},
      ],
    })
    const byId = await iam(['roles', 'list', bob, '--json'])
    expect(byId.json).toMatchObject({identityId: bob, email: email('bob'), roles: ['viewer']})

    const text = await iam(['roles', 'list', email('ada')])
    expect(text.exitCode, text.output).toBe(0)
    expect(text.stdout.trim()).toBe(`${email('ada')} (${ada}): admin, editor`)

    // An identity without roles, and one that does not exist.
    const none = await kratosClient.createIdentity({schemaId: 'default', traits: {email: email('cy')}})
    expect(none.conflict).toBe(false)
    const empty = await iam(['roles', 'list', email('cy')])
    expect(empty.stdout.trim()).toMatch(/: no roles$/)
    const missing = await iam(['roles', 'list', email('nobody'), '--json'])
    expect(missing.exitCode, missing.output).toBe(1)
    expect(missing.json).toMatchObject({error: {code: 'USER_NOT_FOUND'}})

    // Without an argument: every assignment, as before.
    const all = await iam(['roles', 'list', '--json'])
    expect(all.exitCode, all.output).toBe(0)
    expect((all.json as {assignments: unknown[]}).assignments).toEqual(
      expect.arrayContaining([
        {role: 'admin', subject: ada, email: email('ada')},
        {role: 'viewer', subject: bob, email: email('bob')},
      ]),
    )
    // -q: nothing on stdout, the exit code says it worked.
    const quiet = await iam(['roles', 'list', email('ada'), '-q'])
    expect(quiet.exitCode, quiet.output).toBe(0)
    expect(quiet.stdout).toBe('')
  })
})
