// Many CLI runs per test (each a fresh node + oclif start): generous per-test timeouts for a loaded CI machine.
import {randomBytes} from 'node:crypto'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {KratosAdminClient} from '../../src/ory/kratos-client.js'
import {startKeto, startKratos} from '../harness/index.js'
import {runIam, type CliResult} from '../helpers/cli.js'

/** The seeding commands as a user runs them (built bin/run.js) against real Keto and Kratos. */
let keto: Awaited<ReturnType<typeof startKeto>>
let kratos: Awaited<ReturnType<typeof startKratos>>
let kratosClient: KratosAdminClient
let dir: string
let urls: string[]

const tag = randomBytes(3).toString('hex')
const email = (name: string): string => `${name}-${tag}@example.com`

async function iam(args: string[], o: {env?: NodeJS.ProcessEnv; input?: string} = {}): Promise<CliResult & {json: any}> {
  const r = await runIam([...args, ...urls, '--json'], {cwd: dir, ...o})
  return {...r, json: r.json as any}
}

beforeAll(async () => {
  ;[keto, kratos] = await Promise.all([startKeto(), startKratos()])
  kratosClient = new KratosAdminClient({adminUrl: kratos.urls.admin})
  dir = await mkdtemp(join(tmpdir(), 'iam-seed-cli-'))
  urls = ['--kratos-admin-url', kratos.urls.admin, '--keto-read-url', keto.urls.read, '--keto-write-url', keto.urls.write]
})

afterAll(async () => {
  await kratosClient?.close()
  if (dir) await rm(dir, {recursive: true, force: true})
})

describe('iam identities / roles', {timeout: 180_000}, () => {
  it('identities create is idempotent and grants roles', async () => {
    const first = await iam(['identities', 'create', '--email', email('alice'), '--password', 'a-long-enough-password-1', '--role', 'admin'])
    expect(first.exitCode, first.output).toBe(0)
    expect(first.json).toMatchObject({email: email('alice'), status: 'created', roles: ['admin'], granted: ['admin']})
    // The same password again: compared by a login (test/seed/refuse.test.ts has a different one), nothing changes.
    const second = await iam(['identities', 'create', '--email', email('alice'), '--password-env', 'PW', '--role', 'admin', '--kratos-public-url', kratos.urls.public], {env: {PW: 'a-long-enough-password-1'}})
    expect(second.json).toMatchObject({id: first.json.id, status: 'existing', password: 'same', roles: ['admin'], granted: []})
    const list = await iam(['identities', 'list'])
    expect(list.json.identities).toContainEqual({id: first.json.id, email: email('alice'), state: 'active', roles: ['admin']})
  })

  it('roles grant / revoke / list refresh metadata_public.roles at once and leave other metadata alone', async () => {
    const created = await iam(['identities', 'create', '--email', email('bob'), '--password', 'a-long-enough-password-2'])
    const id: string = created.json.id
    await kratosClient.patchIdentity(id, [{op: 'add', path: '/metadata_public', value: {plan: 'pro'}}])

    const grant = await iam(['roles', 'grant', email('bob'), 'editor'])
    expect(grant.exitCode, grant.output).toBe(0)
    expect(grant.json).toMatchObject({identityId: id, role: 'editor', status: 'created', roles: ['editor'], metadataChanged: true})
    expect((await kratosClient.getIdentity(id))!.metadata_public).toEqual({plan: 'pro', roles: ['editor']})

    const byId = await iam(['roles', 'grant', id, 'admin'])
    expect(byId.json).toMatchObject({status: 'created', roles: ['admin', 'editor']})
    const again = await iam(['roles', 'grant', email('bob'), 'admin'])
    expect(again.json).toMatchObject({status: 'existing', roles: ['admin', 'editor'], metadataChanged: false})

    const mine = await iam(['roles', 'list', '--user', email('bob')])
    expect(mine.json.assignments).toEqual([
      {role: 'admin', subject: id, email: email('bob')},
      {role: 'editor', subject: id, email: email('bob')},
    ])
    const editors = await iam(['roles', 'list', '--role', 'editor'])
    expect(editors.json.assignments).toEqual([{role: 'editor', subject: id, email: email('bob')}])

    const revoke = await iam(['roles', 'revoke', email('bob'), 'editor'])
    expect(revoke.json).toMatchObject({status: 'deleted', roles: ['admin'], metadataChanged: true})
    const revokeAgain = await iam(['roles', 'revoke', email('bob'), 'editor'])
    expect(revokeAgain.exitCode).toBe(0)
    expect(revokeAgain.json).toMatchObject({status: 'absent', roles: ['admin'], metadataChanged: false})
    expect((await kratosClient.getIdentity(id))!.metadata_public).toEqual({plan: 'pro', roles: ['admin']})
  })

  it('an unknown user fails with exit 1; a bad role name is a usage error', async () => {
    const unknown = await iam(['roles', 'grant', email('nobody'), 'admin'])
    expect(unknown.exitCode).toBe(1)
    expect(unknown.json.error.code).toBe('USER_NOT_FOUND')
    const bad = await iam(['roles', 'grant', email('alice'), 'two words'])
    expect(bad.exitCode).toBe(2)
    expect(bad.json.error.code).toBe('ROLE_INVALID')
  })

  it('identities import checks every record first (a bad one imports nothing); Kratos refusals are per entry, idempotently', async () => {
    const file = join(dir, 'users.yaml')
    const good = [
      `- email: ${email('carol')}`,
      '  password: a-long-enough-password-3',
      '  roles: [viewer]',
      `- email: ${email('dave')}`,
      '  metadata_public: {team: blue}',
      `- email: ${email('erin')}`,
      '  traits: {nickname: not-in-schema}',
    ]
    await writeFile(file, [...good.slice(0, 3), '- password: no-email-here', ...good.slice(3)].join('\n'))
    const refused = await iam(['identities', 'import', file])
    expect(refused.exitCode).toBe(2)
    expect(refused.json.error).toMatchObject({code: 'IDENTITY_FILE_INVALID', details: {line: 4, column: 3}, message: expect.stringContaining(`${file}:4:3: record 2: "email" is required`)})
    expect(await kratosClient.findByIdentifier(email('carol'))).toBeUndefined()

    await writeFile(file, good.join('\n'))
    const first = await iam(['identities', 'import', file])
    expect(first.exitCode).toBe(1)
    expect(first.json).toMatchObject({created: 2, existing: 0, failed: 1})
    const failed = first.json.identities.filter((i: any) => i.status === 'failed')
    expect(failed.map((f: any) => [f.index, f.line])).toEqual([[2, 6]])
    expect(failed[0].error).toMatch(/nickname|additional/i)
    const dave = first.json.identities.find((i: any) => i.email === email('dave'))
    expect((await kratosClient.getIdentity(dave.id))!.metadata_public).toEqual({team: 'blue', roles: []})

    const second = await iam(['identities', 'import', file])
    expect(second.json).toMatchObject({created: 0, existing: 2, failed: 1})
  })
})

describe('iam tuples', {timeout: 180_000}, () => {
  it('seed: good and bad lines, line numbers, and nothing changes the second time', async () => {
    const file = join(dir, 'tuples.txt')
    await writeFile(
      file,
      [
        '# tenants',
        `Tenant:acme-${tag}#member@user-1`,
        `Tenant:acme-${tag}#member@user-2   # trailing comment`,
        '',
        'this is not a tuple',
        `Document:readme-${tag}#viewer@Tenant:acme-${tag}#member`,
        `Nope:x-${tag}#member@user-1`,
        `Tenant:acme-${tag}#member@`,
      ].join('\n'),
    )
    const first = await iam(['tuples', 'seed', file])
    expect(first.exitCode).toBe(1)
    expect(first.json).toMatchObject({created: 3, existing: 0, failed: 3})
    const failures = first.json.entries.filter((e: any) => e.status === 'failed')
    expect(failures.map((f: any) => f.line)).toEqual([5, 7, 8])
    expect(failures[1].error).toMatch(/namespace/i)

    const second = await iam(['tuples', 'seed', file])
    expect(second.json).toMatchObject({created: 0, existing: 3, failed: 3})

    const list = await iam(['tuples', 'list', '--namespace', 'Tenant', '--object', `acme-${tag}`, '--page-size', '1'])
    expect([...list.json.tuples].sort()).toEqual([`Tenant:acme-${tag}#member@user-1`, `Tenant:acme-${tag}#member@user-2`])

    const allowed = await iam(['tuples', 'check', `Document:readme-${tag}#viewer@user-2`])
    expect([allowed.exitCode, allowed.json.allowed]).toEqual([0, true])
    const denied = await iam(['tuples', 'check', `Document:readme-${tag}#viewer@user-3`])
    expect([denied.exitCode, denied.json.allowed]).toEqual([1, false])
  })

  it('a clean YAML seed file exits 0, twice, and add/delete are idempotent', async () => {
    const file = join(dir, 'tuples.yaml')
    await writeFile(file, [`- Tenant:globex-${tag}#member@user-9`, `- {namespace: Role, object: ops-${tag}, relation: member, subject_id: "odd@id:x"}`].join('\n'))
    const first = await iam(['tuples', 'seed', file])
    expect([first.exitCode, first.json.created]).toEqual([0, 2])
    const second = await iam(['tuples', 'seed', file])
    expect([second.exitCode, second.json.existing, second.json.created]).toEqual([0, 2, 0])
    // The subject with ':' and '@' is written escaped in the text form and read back exactly.
    const list = await iam(['tuples', 'list', '--namespace', 'Role', '--object', `ops-${tag}`])
    expect(list.json.tuples).toEqual([`Role:ops-${tag}#member@odd%40id%3Ax`])

    const del = await iam(['tuples', 'delete', `Tenant:globex-${tag}#member@user-9`])
    expect(del.json).toMatchObject({deleted: 1})
    const delAgain = await iam(['tuples', 'delete', `Tenant:globex-${tag}#member@user-9`])
    expect(delAgain.json).toMatchObject({deleted: 0, absent: 1})
    const add = await iam(['tuples', 'add', `Tenant:globex-${tag}#member@user-9`, `Tenant:globex-${tag}#member@user-8`])
    expect(add.json).toMatchObject({created: 2})
    const bad = await iam(['tuples', 'add', 'not-a-tuple'])
    expect(bad.exitCode).toBe(2)
    expect(bad.json.error.code).toBe('TUPLE_INVALID')
  })

  it('an unreachable server is exit 3', async () => {
    const r = await runIam(['tuples', 'list', '--namespace', 'Role', '--keto-read-url', 'http://127.0.0.1:9', '--json'], {cwd: dir})
    expect(r.exitCode).toBe(3)
    expect((r.json as any).error.code).toBe('ORY_UNREACHABLE')
  })
})

describe('iam seed', {timeout: 180_000}, () => {
  it('applies the seed: section of iam.yaml, resolving ${VAR} passwords, idempotently', async () => {
    const project = await mkdtemp(join(dir, 'project-'))
    const port = (url: string): number => Number(new URL(url).port)
    await writeFile(
      join(project, 'iam.yaml'),
      [
        'version: 1',
        'project: seedtest',
        'ports:',
        `  kratosAdmin: ${port(kratos.urls.admin)}`,
        `  ketoRead: ${port(keto.urls.read)}`,
        `  ketoWrite: ${port(keto.urls.write)}`,
        'seed:',
        '  identities:',
        `    - email: ${email('frank')}`,
        '      password: ${SEED_PASSWORD}',
        '      roles: [admin, auditor]',
        '  tuples:',
        `    - Tenant:initech-${tag}#member@user-7`,
      ].join('\n'),
    )
    // No URL flags: everything comes from iam.yaml.
    const run = (): Promise<CliResult & {json: any}> =>
      runIam(['seed', '-C', project, '--json'], {cwd: dir, env: {SEED_PASSWORD: 'a-long-enough-password-7'}}) as Promise<any>
    const first = await run()
    expect(first.exitCode, first.output).toBe(0)
    expect(first.json.identities).toMatchObject({created: 1, failed: 0})
    expect(first.json.identities.identities[0]).toMatchObject({email: email('frank'), roles: ['admin', 'auditor']})
    expect(first.json.tuples).toMatchObject({created: 1, failed: 0})
    const second = await run()
    expect(second.exitCode).toBe(0)
    expect(second.json.identities).toMatchObject({created: 0, existing: 1})
    expect(second.json.tuples).toMatchObject({created: 0, existing: 1})
    expect(JSON.stringify(second.json)).not.toContain('a-long-enough-password-7')
  })
})
