import {describe, expect, it} from 'vitest'

import {IamError} from '../../src/errors.js'
import {applyTuples, parseTupleDocument, parseTupleSource, parseTupleText, refuseUndeclared} from '../../src/admin/tuples.js'
import {defaultConfig} from '../../src/config/defaults.js'
import type {RelationTuple} from '../../src/ory/tuple-text.js'

describe('tuple files', () => {
  it('text form: skips comments and blank lines, keeps line numbers, flags bad lines', () => {
    const entries = parseTupleText(['# roles', 'Role:admin#member@alice  # inline comment', '', 'garbage line', 'Document:d#viewer@Tenant:t#member'].join('\n'))
    expect(entries.map((e) => [e.line, e.tuple ? 'ok' : 'bad'])).toEqual([
      [2, 'ok'],
      [4, 'bad'],
      [5, 'ok'],
    ])
    expect(entries[1]!.error).toMatch(/no ':'/)
  })

  it('YAML: strings and objects, with the line each item starts on', () => {
    const yaml = ['tuples:', '  - Role:admin#member@alice', '  - namespace: Role', '    object: editor', '    relation: member', '    subject_id: bob', '  - 42', '  - "Role:x#member@"'].join('\n')
    const entries = parseTupleDocument(yaml, 't.yaml')
    expect(entries.map((e) => e.line)).toEqual([2, 3, 7, 8])
    expect(entries[1]!.tuple).toEqual({namespace: 'Role', object: 'editor', relation: 'member', subjectId: 'bob'})
    expect(entries[2]!.error).toBeDefined()
    expect(entries[3]!.error).toMatch(/subject is empty/)
  })

  it('JSON is read as YAML, with line numbers', () => {
    const entries = parseTupleSource('[\n  "Role:admin#member@alice",\n  {"namespace": "Role"}\n]\n', 'x.json')
    expect(entries.map((e) => [e.line, Boolean(e.tuple)])).toEqual([
      [2, true],
      [3, false],
    ])
  })

  it('a malformed document is a usage error with its line', () => {
    expect(() => parseTupleDocument('- a\n b: [', 'bad.yaml')).toThrow(IamError)
    expect(() => parseTupleDocument('just: a map', 'bad.yaml')).toThrow(/expected a list/)
  })

  it('refuseUndeclared: every undeclared namespace or relation with its line, all or nothing; no iam.yaml, no check', () => {
    const config = defaultConfig('t')
    const entries = parseTupleText(['Tenant:a#member@u', 'Tenat:a#member@u', 'Role:admin#membr@u', 'Tenant:a#member@User:bob', 'Tenant:a#member@email:ada@example.com'].join('\n'))
    let error: unknown
    try {
      refuseUndeclared(config, entries, {source: 't.txt', configPath: 'iam.yaml'})
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(IamError)
    expect((error as IamError).code).toBe('TUPLE_UNDECLARED')
    expect((error as IamError).exitCode).toBe(2)
    expect((error as IamError).message).toBe(
      [
        '2 tuples name what iam.yaml does not declare (nothing was written):',
        '  t.txt:2: Tenat:a#member@u: namespace "Tenat" is not declared in keto.namespaces (did you mean "Tenant"?); declared: User, Role, Tenant',
        '  t.txt:3: Role:admin#membr@u: namespace Role has no relation "membr" (did you mean "member"?); its relations: member',
      ].join('\n'),
    )
    expect(() => refuseUndeclared(undefined, entries)).not.toThrow()
  })

  it('email subjects are resolved before Keto sees them; without a resolver or an identity they fail with the tuple', async () => {
    const written: RelationTuple[] = []
    const keto = {exists: async () => false, create: async (t: RelationTuple) => void written.push(t), delete: async () => undefined}
    const entries = parseTupleText('Tenant:a#member@email:ada@example.com\nTenant:a#member@email:bob@example.com')
    const report = await applyTuples(keto, entries, {resolveEmail: async (email) => (email === 'ada@example.com' ? 'ada-id' : undefined)})
    expect(written).toEqual([{namespace: 'Tenant', object: 'a', relation: 'member', subjectId: 'ada-id'}])
    expect(report.entries.map((e) => [e.status, e.error])).toEqual([
      ['created', undefined],
      ['failed', 'Tenant:a#member@email:bob@example.com: no identity has the email bob@example.com (create it first, e.g. in seed.identities)'],
    ])
    expect((await applyTuples(keto, entries.slice(0, 1))).failed).toBe(1)
  })
})
