/**
 * "Refuse what cannot work", through the built CLI against REAL Keto and Kratos: tuples naming what iam.yaml does not
 * declare are refused before Keto is called; `identities create` compares an existing identity's password by a real
 * password login (refused unless --update-password); an identities file with an unknown key imports nothing; seed
 * tuples may name a seeded identity by email, resolved to its id.
 */
import {randomBytes} from 'node:crypto'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {KetoClient} from '../../src/ory/keto-client.js'
import {KratosAdminClient} from '../../src/ory/kratos-client.js'
import {formatTuple} from '../../src/ory/tuple-text.js'
import {startKeto, startKratos} from '../harness/index.js'
import {loginIdentity} from '../harness/stack.js'
import {runIam, type CliResult} from '../helpers/cli.js'

let keto: Awaited<ReturnType<typeof startKeto>>
let kratos: Awaited<ReturnType<typeof startKratos>>
let ketoClient: KetoClient
let kratosClient: KratosAdminClient
let root: string
/** A project whose iam.yaml points at the test servers (default namespaces: User, Role#member, Tenant#member). */
let project: string
/** A directory without iam.yaml: flags only. */
let bare: string
let flags: string[]

const tag = randomBytes(3).toString('hex')
const email = (name: string): string => `${name}-${tag}@example.com`
const port = (url: string): number => Number(new URL(url).port)

type Json = CliResult & {json: any}
async function iam(args: string[], o: {cwd?: string; env?: NodeJS.ProcessEnv; withFlags?: boolean} = {}): Promise<Json> {
  const r = await runIam([...args, ...(o.withFlags === false ? [] : flags), '--json'], {cwd: o.cwd ?? bare, ...(o.env ? {env: o.env} : {})})
  return {...r, json: r.json as any}
}

async function writeProject(dir: string, seed: string[] = []): Promise<void> {
  await mkdir(dir, {recursive: true})
  await writeFile(
    join(dir, 'iam.yaml'),
    [
      'version: 1',
      'project: refusetest',
      'ports:',
      `  kratosPublic: ${port(kratos.urls.public)}`,
      `  kratosAdmin: ${port(kratos.urls.admin)}`,
      `  ketoRead: ${port(keto.urls.read)}`,
      `  ketoWrite: ${port(keto.urls.write)}`,
      ...seed,
    ].join('\n') + '\n',
  )
}

async function tuplesOf(namespace: string, object: string): Promise<string[]> {
  return (await ketoClient.listAll({namespace, object})).map(formatTuple).sort()
}

beforeAll(async () => {
  ;[keto, kratos] = await Promise.all([startKeto(), startKratos()])
  ketoClient = new KetoClient({readUrl: keto.urls.read, writeUrl: keto.urls.write})
  kratosClient = new KratosAdminClient({adminUrl: kratos.urls.admin})
  root = await mkdtemp(join(tmpdir(), 'iam-refuse-'))
  project = join(root, 'project')
  bare = join(root, 'bare')
  await mkdir(bare)
  await writeProject(project)
  flags = ['--kratos-admin-url', kratos.urls.admin, '--keto-read-url', keto.urls.read, '--keto-write-url', keto.urls.write]
}, 120_000)

afterAll(async () => {
  await ketoClient?.close()
  await kratosClient?.close()
  if (root) await rm(root, {recursive: true, force: true})
})

describe('tuples naming what iam.yaml does not declare', {timeout: 180_000}, () => {
  it('tuples add / check: refused before Keto, exit 2, the declared names and a did-you-mean; without iam.yaml as before', async () => {
    const object = `acme-${tag}`
    const typo = await iam(['tuples', 'add', `Tenant:${object}#member@u1`, `Tenat:${object}#member@u2`], {cwd: project, withFlags: false})
    expect(typo.exitCode, typo.output).toBe(2)
    expect(typo.json.error.code).toBe('TUPLE_UNDECLARED')
    expect(typo.json.error.message).toContain(`argument 2: Tenat:${object}#member@u2: namespace "Tenat" is not declared in keto.namespaces (did you mean "Tenant"?); declared: User, Role, Tenant`)
    // All or nothing: the good first tuple was not written either.
    expect(await tuplesOf('Tenant', object)).toEqual([])

    const relation = await iam(['tuples', 'add', `Tenant:${object}#membr@u1`], {cwd: project, withFlags: false})
    expect(relation.exitCode).toBe(2)
    expect(relation.json.error.message).toContain('namespace Tenant has no relation "membr" (did you mean "member"?); its relations: member')

    const subjectSet = await iam(['tuples', 'add', `Tenant:${object}#member@Document:readme#viewer`], {cwd: project, withFlags: false})
    expect(subjectSet.exitCode).toBe(2)
    expect(subjectSet.json.error.message).toContain('subject namespace "Document" is not declared')

    const check = await iam(['tuples', 'check', `Document:readme-${tag}#viewer@u1`, '-C', project], {withFlags: false})
    expect(check.exitCode).toBe(2)
    expect(check.json.error).toMatchObject({code: 'TUPLE_UNDECLARED', message: expect.stringContaining('declared: User, Role, Tenant')})

    // Declared: written and allowed.
    const ok = await iam(['tuples', 'add', `Tenant:${object}#member@u1`], {cwd: project, withFlags: false})
    expect([ok.exitCode, ok.json.created]).toEqual([0, 1])
    const allowed = await iam(['tuples', 'check', `Tenant:${object}#member@u1`], {cwd: project, withFlags: false})
    expect([allowed.exitCode, allowed.json.allowed]).toEqual([0, true])

    // No iam.yaml, flags only: Keto decides, as before (the harness Keto has a Document namespace).
    const free = await iam(['tuples', 'add', `Document:readme-${tag}#viewer@u1`])
    expect([free.exitCode, free.json.created], free.output).toEqual([0, 1])
  })

  it('tuples seed FILE: refused whole with file:line (also --dry-run); nothing written', async () => {
    const file = join(project, 'tuples.txt')
    await writeFile(file, ['# good', `Tenant:globex-${tag}#member@u1`, '', `Role:admin-${tag}#owner@u1`, `Documnt:x-${tag}#viewer@u1`].join('\n'))
    for (const extra of [[], ['--dry-run']]) {
      const r = await iam(['tuples', 'seed', file, ...extra], {cwd: project, withFlags: false})
      expect(r.exitCode, r.output).toBe(2)
      expect(r.json.error.code).toBe('TUPLE_UNDECLARED')
      expect(r.json.error.message).toContain(`${file}:4: Role:admin-${tag}#owner@u1: namespace Role has no relation "owner"; its relations: member`)
      expect(r.json.error.message).toContain(`${file}:5: Documnt:x-${tag}#viewer@u1: namespace "Documnt" is not declared`)
      expect(r.json.error.details).toMatchObject({file, line: 4})
    }
    expect(await tuplesOf('Tenant', `globex-${tag}`)).toEqual([])
  })
})

describe('identities create for an email that exists', {timeout: 180_000}, () => {
  const PW1 = `first-Passw0rd-${tag}`
  const PW2 = `second-Passw0rd-${tag}`

  it('same password: exists, exit 0; another one: exit 1 and nothing changed; --update-password sets it', async () => {
    const pub = ['--kratos-public-url', kratos.urls.public]
    const created = await iam(['identities', 'create', '--email', email('ada'), '--password-env', 'PW', ...pub], {env: {PW: PW1}})
    expect(created.exitCode, created.output).toBe(0)
    const id: string = created.json.id

    const same = await iam(['identities', 'create', '--email', email('ada'), '--password-env', 'PW', '--role', 'viewer', ...pub], {env: {PW: PW1}})
    expect(same.exitCode, same.output).toBe(0)
    expect(same.json).toMatchObject({id, status: 'existing', password: 'same', granted: ['viewer']})
    // The comparison's login session was revoked.
    const sessions = await fetch(`${kratos.urls.admin}/admin/identities/${id}/sessions?active=true`)
    expect(await sessions.json()).toEqual([])

    const other = await iam(['identities', 'create', '--email', email('ada'), '--password-env', 'PW', '--role', 'editor', ...pub], {env: {PW: PW2}})
    expect(other.exitCode, other.output).toBe(1)
    expect(other.json.error).toMatchObject({code: 'IDENTITY_PASSWORD_DIFFERS', message: expect.stringContaining(`${email('ada')} exists (${id}) with a different password`), suggestion: expect.stringContaining('--update-password')})
    expect(other.output).not.toContain(PW2)
    const text = await runIam(['identities', 'create', '--email', email('ada'), '--password-env', 'PW', ...pub, ...flags], {cwd: bare, env: {PW: PW2}})
    expect(text.exitCode).toBe(1)
    expect(text.stderr).toContain('error [IDENTITY_PASSWORD_DIFFERS]')
    expect(text.output).not.toContain(PW2)
    // Nothing changed: the old password still logs in, the role was not granted.
    expect((await loginIdentity(kratos.urls.public, email('ada'), PW1)).status).toBe(200)
    expect((await kratosClient.getIdentity(id))!.metadata_public).toEqual({roles: ['viewer']})

    const update = await iam(['identities', 'create', '--email', email('ada'), '--password-env', 'PW', '--update-password', ...pub], {env: {PW: PW2}})
    expect(update.exitCode, update.output).toBe(0)
    expect(update.json).toMatchObject({id, status: 'existing', password: 'updated'})
    expect(update.output).not.toContain(PW2)
    expect((await loginIdentity(kratos.urls.public, email('ada'), PW2)).status).toBe(200)
    expect((await loginIdentity(kratos.urls.public, email('ada'), PW1)).status).toBe(400)
    // The PUT kept the identity's traits and metadata.
    const after = (await kratosClient.getIdentity(id))!
    expect([after.traits.email, after.metadata_public]).toEqual([email('ada'), {roles: ['viewer']}])

    // Without a password the existing identity is kept, unseen.
    const noPassword = await iam(['identities', 'create', '--email', email('ada'), ...pub])
    expect(noPassword.exitCode, noPassword.output).toBe(0)
    expect(noPassword.json.password).toBeUndefined()
  })
})

describe('identities import with a bad record', {timeout: 180_000}, () => {
  it('an unknown key: file:line:col and a did-you-mean, exit 2, nothing imported', async () => {
    const file = join(bare, 'users.yaml')
    await writeFile(
      file,
      [`- email: ${email('carol')}`, '  password: a-long-enough-password-3', `- emial: ${email('dave')}`, '  roles: [viewer]', `- email: ${email('erin')}`, '  roles: [two words]'].join('\n'),
    )
    const r = await iam(['identities', 'import', file])
    expect(r.exitCode, r.output).toBe(2)
    expect(r.json.error.code).toBe('IDENTITY_FILE_INVALID')
    expect(r.json.error.message).toContain(`${file}:3:3: record 2: unknown key "emial" (did you mean "email"?)`)
    expect(r.json.error.message).toMatch(new RegExp(`${file}:6:3: record 3: .*role`))
    expect(r.json.error.message).toContain('nothing was imported')
    expect(await kratosClient.findByIdentifier(email('carol'))).toBeUndefined()
  })
})

describe('seed tuples naming a seeded identity by email', {timeout: 180_000}, () => {
  it('iam seed resolves email:<address> to the seeded id; an email not in seed.identities is refused with its line', async () => {
    const dir = join(root, 'seeded')
    await writeProject(dir, [
      'seed:',
      '  identities:',
      `    - email: ${email('frank')}`,
      '      password: a-long-enough-password-7',
      '  tuples:',
      `    - Tenant:initech-${tag}#member@email:${email('frank')}`,
      `    - Tenant:initech-${tag}#member@plain-id`,
    ])
    const first = await iam(['seed', '-C', dir], {withFlags: false})
    expect(first.exitCode, first.output).toBe(0)
    const frank = first.json.identities.identities[0].id as string
    expect(first.json.tuples).toMatchObject({created: 2, failed: 0})
    expect(await tuplesOf('Tenant', `initech-${tag}`)).toEqual([`Tenant:initech-${tag}#member@${frank}`, `Tenant:initech-${tag}#member@plain-id`].sort())
    const again = await iam(['seed', '-C', dir], {withFlags: false})
    expect(again.json.tuples).toMatchObject({created: 0, existing: 2})

    const wrong = join(root, 'wrong')
    await writeProject(wrong, ['seed:', '  identities:', `    - email: ${email('frank')}`, '  tuples:', `    - Tenant:x-${tag}#member@email:${email('nobody')}`])
    const refused = await iam(['seed', '-C', wrong], {withFlags: false})
    expect(refused.exitCode, refused.output).toBe(2)
    expect(refused.json.error.code).toBe('CONFIG_INVALID')
    expect(refused.json.error.message).toMatch(new RegExp(`iam\\.yaml:12:\\d+: seed\\.tuples\\[0\\]: subject email:${email('nobody')} names no identity in seed\\.identities`))
  })

  it('iam tuples seed FILE: email:<address> becomes the id; an email naming no identity fails with the tuple and the email', async () => {
    const file = join(bare, 'by-email.txt')
    await writeFile(file, [`Tenant:hooli-${tag}#member@email:${email('frank')}`, `Tenant:hooli-${tag}#member@email:${email('ghost')}`].join('\n'))
    const r = await iam(['tuples', 'seed', file])
    expect(r.exitCode, r.output).toBe(1)
    const frank = (await kratosClient.findByIdentifier(email('frank')))!.id
    expect(r.json).toMatchObject({created: 1, failed: 1})
    expect(r.json.entries[1]).toMatchObject({line: 2, status: 'failed', error: `Tenant:hooli-${tag}#member@email:${email('ghost')}: no identity has the email ${email('ghost')} (create it first, e.g. in seed.identities)`})
    expect(await tuplesOf('Tenant', `hooli-${tag}`)).toEqual([`Tenant:hooli-${tag}#member@${frank}`])
  })
})
