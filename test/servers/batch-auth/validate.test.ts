import {describe, expect, it} from 'vitest'

import {HttpError} from '../../../src/servers/http/index.js'
import {parseCheckRequest} from '../../../src/servers/batch-auth/index.js'

const t = {namespace: 'Role', object: 'admin', relation: 'member', subject_id: 'u1'}

function fieldOf(body: unknown, maxTuples = 100): {status: number; code: string; field?: string; message: string} {
  try {
    parseCheckRequest(body, {maxTuples})
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError)
    const e = error as HttpError
    return {status: e.status, code: e.code, field: e.field, message: e.message}
  }
  throw new Error('expected a validation error')
}

describe('parseCheckRequest', () => {
  it('accepts subject ids and subject sets, returning the tuples unchanged', () => {
    const set = {namespace: 'Tenant', object: 'a', relation: 'member', subject_set: {namespace: 'Role', object: 'admin', relation: 'member'}}
    expect(parseCheckRequest({tuples: [t, set]}, {maxTuples: 2})).toEqual([t, set])
    const emptyRel = {...set, subject_set: {namespace: 'Group', object: 'g', relation: ''}}
    expect(parseCheckRequest({tuples: [emptyRel]}, {maxTuples: 2})).toHaveLength(1)
  })

  it.each([
    ['a non-object body', [t], 'body'],
    ['null', null, 'body'],
    ['a string', 'x', 'body'],
    ['an unknown top-level key', {tuples: [t], extra: 1}, 'extra'],
    ['missing tuples', {}, 'tuples'],
    ['tuples not an array', {tuples: {}}, 'tuples'],
    ['an empty list', {tuples: []}, 'tuples'],
    ['a tuple that is not an object', {tuples: [t, 5]}, 'tuples[1]'],
    ['a missing namespace', {tuples: [{...t, namespace: undefined}]}, 'tuples[0].namespace'],
    ['a numeric object', {tuples: [{...t, object: 7}]}, 'tuples[0].object'],
    ['an empty relation', {tuples: [{...t, relation: ''}]}, 'tuples[0].relation'],
    ['an unknown tuple key', {tuples: [{...t, subject: 'x'}]}, 'tuples[0].subject'],
    ['no subject', {tuples: [{namespace: 'a', object: 'b', relation: 'c'}]}, 'tuples[0].subject_id'],
    ['both subjects', {tuples: [{...t, subject_set: {namespace: 'a', object: 'b', relation: 'c'}}]}, 'tuples[0].subject_id'],
    ['a null subject_id', {tuples: [{...t, subject_id: null}]}, 'tuples[0].subject_id'],
    ['an empty subject_id', {tuples: [{...t, subject_id: ''}]}, 'tuples[0].subject_id'],
    ['a subject_set array', {tuples: [{namespace: 'a', object: 'b', relation: 'c', subject_set: []}]}, 'tuples[0].subject_set'],
    ['a subject_set without object', {tuples: [{namespace: 'a', object: 'b', relation: 'c', subject_set: {namespace: 'x', relation: 'y'}}]}, 'tuples[0].subject_set.object'],
    ['a subject_set with an unknown key', {tuples: [{namespace: 'a', object: 'b', relation: 'c', subject_set: {namespace: 'x', object: 'o', relation: 'y', z: 1}}]}, 'tuples[0].subject_set.z'],
  ])('rejects %s with a 400 naming the field', (_name, body, field) => {
    const e = fieldOf(body)
    expect(e.status).toBe(400)
    expect(e.field).toBe(field)
    expect(e.message).toContain(field === 'body' ? 'body' : field)
  })

  it('rejects more tuples than the limit', () => {
    const e = fieldOf({tuples: [t, t, t]}, 2)
    expect(e).toMatchObject({status: 400, code: 'TOO_MANY_TUPLES', field: 'tuples'})
  })

  it('does not treat inherited properties as fields', () => {
    expect(() => parseCheckRequest(JSON.parse('{"tuples":[{"namespace":"a","object":"b","relation":"c","subject_id":"d","__proto__":{"x":1}}]}'), {maxTuples: 5})).toThrow(/__proto__/)
  })
})
