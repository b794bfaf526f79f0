import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {escapeTuplePart, formatSeedTuple, formatTuple, parseSeedTuple, parseSubject, parseTuple, tupleFromObject, TupleSyntaxError, type RelationTuple} from '../../src/ory/tuple-text.js'

describe('tuple text form', () => {
  it('parses subject ids and subject sets exactly as Keto splits them', () => {
    expect(parseTuple('Role:admin#member@4f1c8a52-0d0e-4a8e-9d59-3f5a0c2b1e77')).toEqual({
      namespace: 'Role',
      object: 'admin',
      relation: 'member',
      subjectId: '4f1c8a52-0d0e-4a8e-9d59-3f5a0c2b1e77',
    })
    expect(parseTuple('Document:readme#viewer@Tenant:acme#member')).toEqual({
      namespace: 'Document',
      object: 'readme',
      relation: 'viewer',
      subjectSet: {namespace: 'Tenant', object: 'acme', relation: 'member'},
    })
    // Keto prints subject sets in parentheses and allows a set without relation.
    expect(parseTuple('Document:readme#viewer@(Tenant:acme#member)').subjectSet).toEqual({namespace: 'Tenant', object: 'acme', relation: 'member'})
    expect(parseTuple('Group:dev#member@User:bob').subjectSet).toEqual({namespace: 'User', object: 'bob', relation: ''})
    // The object may contain ':' and '@' (Keto cuts at the first ':' then the first '#').
    expect(parseTuple('Doc:a:b@c#owner@x')).toMatchObject({namespace: 'Doc', object: 'a:b@c', relation: 'owner', subjectId: 'x'})
  })

  it('formats ordinary tuples byte for byte like Keto', () => {
    const t: RelationTuple = {namespace: 'Role', object: 'admin', relation: 'member', subjectId: 'alice'}
    expect(formatTuple(t)).toBe('Role:admin#member@alice')
    expect(formatTuple({namespace: 'D', object: 'r', relation: 'v', subjectSet: {namespace: 'T', object: 'a', relation: 'm'}})).toBe('D:r#v@T:a#m')
  })

  it('percent-encodes only the characters that would change the split', () => {
    expect(escapeTuplePart('user@example.com')).toBe('user%40example.com')
    expect(escapeTuplePart('a:b#c d%e(f)')).toBe('a%3Ab%23c%20d%25e%28f%29')
    expect(formatTuple({namespace: 'Role', object: 'admin', relation: 'member', subjectId: 'mail:bob@x'})).toBe('Role:admin#member@mail%3Abob%40x')
    expect(parseTuple('Role:admin#member@mail%3Abob%40x').subjectId).toBe('mail:bob@x')
  })

  it('round-trips every tuple through format and parse', () => {
    const part = fc.string({minLength: 1, maxLength: 12, unit: fc.constantFrom('a', 'Z', '0', ':', '#', '@', '%', '(', ')', ' ', '\t', '-', 'é', '😀', '/')})
    const tuple = fc.record({
      namespace: part,
      object: part,
      relation: part,
      subject: fc.oneof(
        part.map((subjectId) => ({subjectId})),
        fc.record({namespace: part, object: part, relation: fc.oneof(fc.constant(''), part)}).map((subjectSet) => ({subjectSet})),
      ),
    })
    fc.assert(
      fc.property(tuple, ({subject, ...rest}) => {
        const t: RelationTuple = {...rest, ...subject}
        expect(parseTuple(formatTuple(t))).toEqual(t)
      }),
      {numRuns: 500},
    )
  })

  it('names what is wrong with a malformed tuple', () => {
    const bad: [string, RegExp][] = [
      ['no-colon', /no ':'/],
      ['Role:admin', /'#relation'/],
      ['Role:admin#member', /'@subject'/],
      [':admin#member@x', /namespace is empty/],
      ['Role:#member@x', /object is empty/],
      ['Role:admin#@x', /relation is empty/],
      ['Role:admin#member@', /subject is empty/],
      ['Role:admin#member@a b', /whitespace/],
      ['Role:admin#member@bad%zz', /percent|hex/],
      ['Role:admin#member@T:#m', /object is empty/],
    ]
    for (const [input, message] of bad) {
      expect(() => parseTuple(input), input).toThrow(TupleSyntaxError)
      expect(() => parseTuple(input), input).toThrow(message)
    }
  })

  it('parses subjects alone and tuples given as objects', () => {
    expect(parseSubject('alice')).toEqual({subjectId: 'alice'})
    expect(parseSubject('Tenant:acme#member')).toEqual({subjectSet: {namespace: 'Tenant', object: 'acme', relation: 'member'}})
    expect(tupleFromObject({namespace: 'Role', object: 'admin', relation: 'member', subject_id: 'a'})).toEqual({namespace: 'Role', object: 'admin', relation: 'member', subjectId: 'a'})
    expect(tupleFromObject({namespace: 'D', object: 'r', relation: 'v', subject_set: {namespace: 'T', object: 'a', relation: 'm'}}).subjectSet).toEqual({namespace: 'T', object: 'a', relation: 'm'})
    expect(() => tupleFromObject({namespace: 'Role', object: 'admin', relation: 'member'})).toThrow(/exactly one/)
    expect(() => tupleFromObject({namespace: 'Role', object: 'admin', relation: 'member', subject_id: 'a', subject_set: {namespace: 'x', object: 'y'}})).toThrow(/exactly one/)
    expect(() => tupleFromObject({namespace: 1, object: 'admin', relation: 'member', subject_id: 'a'})).toThrow(/must be a string/)
    expect(() => tupleFromObject([1])).toThrow(TupleSyntaxError)
  })

  it('seed inputs may name the subject by email; everywhere else that form stays a syntax error', () => {
    const t = parseSeedTuple('Tenant:acme#member@email:ada@example.com')
    expect(t).toEqual({namespace: 'Tenant', object: 'acme', relation: 'member', subjectEmail: 'ada@example.com'})
    expect(formatSeedTuple(t)).toBe('Tenant:acme#member@email:ada@example.com')
    // Without the prefix a seed tuple is an ordinary tuple.
    expect(parseSeedTuple('Document:d#viewer@Tenant:acme#member')).toEqual(parseTuple('Document:d#viewer@Tenant:acme#member'))
    expect(() => parseSeedTuple('Tenant:acme#member@email:not-an-address')).toThrow(/email:<an email address>/)
    expect(() => parseSeedTuple('Tenant:acme#member@email:')).toThrow(TupleSyntaxError)
    expect(() => parseTuple('Tenant:acme#member@email:ada@example.com')).toThrow(/contains '@'/)
  })
})
