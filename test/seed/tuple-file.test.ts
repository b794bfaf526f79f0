import {describe, expect, it} from 'vitest'

import {IamError} from '../../src/errors.js'
import {parseTupleDocument, parseTupleSource, parseTupleText} from '../../src/admin/tuples.js'

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
})
