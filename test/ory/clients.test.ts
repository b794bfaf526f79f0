import {randomBytes} from 'node:crypto'
import {createServer, type Server} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {IamError} from '../../src/errors.js'
import {KetoClient} from '../../src/ory/keto-client.js'
import {formatTuple, type RelationTuple} from '../../src/ory/tuple-text.js'
import {KratosAdminClient} from '../../src/ory/kratos-client.js'
import {applyTuples} from '../../src/admin/tuples.js'
import {startKeto, startKratos} from '../harness/index.js'

let keto: Awaited<ReturnType<typeof startKeto>>
let kratos: Awaited<ReturnType<typeof startKratos>>
let k: KetoClient
let kr: KratosAdminClient
const tag = randomBytes(3).toString('hex')

beforeAll(async () => {
  ;[keto, kratos] = await Promise.all([startKeto(), startKratos()])
  k = new KetoClient({readUrl: keto.urls.read, writeUrl: keto.urls.write})
  kr = new KratosAdminClient({adminUrl: kratos.urls.admin})
})

afterAll(async () => {
  await k?.close()
  await kr?.close()
})

describe('KetoClient against real Keto', () => {
  it('creates, finds, checks and deletes tuples with subject ids and subject sets', async () => {
    const member: RelationTuple = {namespace: 'Tenant', object: `t-${tag}`, relation: 'member', subjectId: 'u:1@x#y'}
    const viewer: RelationTuple = {namespace: 'Document', object: `d-${tag}`, relation: 'viewer', subjectSet: {namespace: 'Tenant', object: `t-${tag}`, relation: 'member'}}
    expect(await k.exists(member)).toBe(false)
    await k.create(member)
    await k.create(viewer)
    expect(await k.exists(member)).toBe(true)
    expect(await k.exists(viewer)).toBe(true)
    expect(await k.listAll({namespace: 'Tenant', object: `t-${tag}`})).toEqual([member])
    expect(await k.check({namespace: 'Document', object: `d-${tag}`, relation: 'viewer', subjectId: 'u:1@x#y'})).toBe(true)
    expect(await k.check({namespace: 'Document', object: `d-${tag}`, relation: 'viewer', subjectId: 'someone-else'})).toBe(false)
    await k.delete(viewer)
    expect(await k.exists(viewer)).toBe(false)
    expect(await k.exists(member)).toBe(true)
  })

  it('applyTuples writes a tuple once however often it runs (Keto itself stores duplicates on a repeated PUT)', async () => {
    const t: RelationTuple = {namespace: 'Tenant', object: `dup-${tag}`, relation: 'member', subjectId: 'u'}
    const entries = [{line: 1, input: formatTuple(t), tuple: t}]
    expect(await applyTuples(k, entries)).toMatchObject({created: 1, existing: 0})
    expect(await applyTuples(k, entries)).toMatchObject({created: 0, existing: 1})
    expect(await k.listAll({namespace: 'Tenant', object: `dup-${tag}`})).toEqual([t])
    await k.create(t)
    expect(await k.listAll({namespace: 'Tenant', object: `dup-${tag}`})).toHaveLength(2)
    // delete() removes every copy.
    expect(await applyTuples(k, entries, {mode: 'delete'})).toMatchObject({deleted: 1})
    expect(await k.listAll({namespace: 'Tenant', object: `dup-${tag}`})).toEqual([])
  })

  it('follows next_page_token through every page', async () => {
    const tuples = Array.from({length: 23}, (_, i) => ({namespace: 'Role', object: `r${i}-${tag}`, relation: 'member', subjectId: `paged-${tag}`}))
    for (const t of tuples) await k.create(t)
    const first = await k.listPage({namespace: 'Role', subjectId: `paged-${tag}`}, {pageSize: 5})
    expect(first.tuples).toHaveLength(5)
    expect(first.nextPageToken).not.toBe('')
    const all = await k.listAll({namespace: 'Role', subjectId: `paged-${tag}`}, {pageSize: 5})
    expect(all.map(formatTuple).sort()).toEqual(tuples.map(formatTuple).sort())
  })

  it('reports an unknown namespace as a failed request, not an outage', async () => {
    const error = await k.create({namespace: 'Nope', object: 'x', relation: 'member', subjectId: 'y'}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(IamError)
    expect(error).toMatchObject({code: 'ORY_REQUEST_FAILED', exitCode: 1})
  })

  it('needs the write URL only for writes', async () => {
    const readOnly = new KetoClient({readUrl: keto.urls.read})
    expect(await readOnly.ready()).toBe(true)
    await expect(readOnly.create({namespace: 'Role', object: 'a', relation: 'member', subjectId: 'b'})).rejects.toMatchObject({code: 'KETO_WRITE_URL_MISSING'})
    await readOnly.close()
  })
})

describe('KratosAdminClient against real Kratos', () => {
  it('creates identities, finds them by email, reports conflicts and invalid traits', async () => {
    const email = `client-${tag}@example.com`
    const created = await kr.createIdentity({schemaId: 'default', traits: {email}, password: 'a-long-enough-password-1', metadataPublic: {a: 1}})
    expect(created.conflict).toBe(false)
    if (created.conflict) return
    expect(created.identity.metadata_public).toEqual({a: 1})
    expect((await kr.findByIdentifier(email))?.id).toBe(created.identity.id)
    expect(await kr.findByIdentifier(`absent-${tag}@example.com`)).toBeUndefined()
    expect(await kr.getIdentity('2b3c0f1e-8a3c-4e5e-9f0a-1b2c3d4e5f60')).toBeUndefined()
    expect((await kr.createIdentity({schemaId: 'default', traits: {email}})).conflict).toBe(true)
    await expect(kr.createIdentity({schemaId: 'default', traits: {email: 'not-an-email'}})).rejects.toMatchObject({code: 'KRATOS_IDENTITY_INVALID'})
  })

  it('PATCH changes only the named path', async () => {
    const created = await kr.createIdentity({schemaId: 'default', traits: {email: `patch-${tag}@example.com`}, metadataPublic: {keep: true}, metadataAdmin: {secretish: 'x'}})
    if (created.conflict) throw new Error('conflict')
    const patched = await kr.patchIdentity(created.identity.id, [{op: 'add', path: '/metadata_public/roles', value: ['admin']}])
    expect(patched.metadata_public).toEqual({keep: true, roles: ['admin']})
    const fresh = (await kr.getIdentity(created.identity.id))!
    expect(fresh.metadata_admin).toEqual({secretish: 'x'})
    expect(fresh.traits).toEqual({email: `patch-${tag}@example.com`})
  })

  it('lists every identity across pages (Link header)', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await kr.createIdentity({schemaId: 'default', traits: {email: `page${i}-${tag}@example.com`}})
      expect(r.conflict).toBe(false)
    }
    const page = await kr.listPage({pageSize: 2})
    expect(page.identities).toHaveLength(2)
    expect(page.nextPageToken).toBeDefined()
    const all = await kr.listAll({pageSize: 2})
    const emails = all.map((i) => i.traits.email)
    expect(new Set(emails).size).toBe(emails.length)
    for (let i = 0; i < 5; i++) expect(emails).toContain(`page${i}-${tag}@example.com`)
    expect(await kr.ready()).toBe(true)
  })
})

describe('timeouts and unreachable servers', () => {
  let silent: Server
  let port: number

  beforeAll(async () => {
    // Accepts connections and never answers: only our own timeout can end the call.
    silent = createServer(() => {})
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    port = (silent.address() as {port: number}).port
  })

  afterAll(async () => {
    silent.close()
  })

  it('a server that never answers is ORY_UNREACHABLE (timeout) after the deadline', async () => {
    const c = new KratosAdminClient({adminUrl: `http://127.0.0.1:${port}`, timeoutMs: 300})
    const error = await c.getIdentity('x').catch((e: unknown) => e)
    expect(error).toMatchObject({code: 'ORY_UNREACHABLE', exitCode: 3, details: {timeout: true}})
    await c.close()
  })

  it('a refused connection is ORY_UNREACHABLE', async () => {
    const c = new KetoClient({readUrl: 'http://127.0.0.1:9', timeoutMs: 1000})
    await expect(c.listAll({namespace: 'Role'})).rejects.toMatchObject({code: 'ORY_UNREACHABLE', details: {timeout: false}})
    await c.close()
  })
})
