import {badRequest, HttpError} from '../http/index.js'

/** One permission check, exactly as Keto's batch check takes it (`relationship` in Keto's OpenAPI). */
export interface SubjectSet {
  namespace: string
  object: string
  relation: string
}
export type Tuple =
  | {namespace: string; object: string; relation: string; subject_id: string; subject_set?: undefined}
  | {namespace: string; object: string; relation: string; subject_set: SubjectSet; subject_id?: undefined}

const TUPLE_KEYS = new Set(['namespace', 'object', 'relation', 'subject_id', 'subject_set'])
const SET_KEYS = new Set(['namespace', 'object', 'relation'])

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v
}

function requireString(o: Record<string, unknown>, key: string, path: string, allowEmpty = false): void {
  const v = o[key]
  if (v === undefined) throw badRequest(`${path}.${key} is required.`, `${path}.${key}`)
  if (typeof v !== 'string') throw badRequest(`${path}.${key} must be a string, got ${typeName(v)}.`, `${path}.${key}`)
  if (!allowEmpty && v.length === 0) throw badRequest(`${path}.${key} must not be empty.`, `${path}.${key}`)
}

function rejectUnknownKeys(o: Record<string, unknown>, allowed: Set<string>, path: string): void {
  for (const key in o) {
    if (!allowed.has(key)) {
      const field = path === '' ? key : `${path}.${key}`
      throw badRequest(`Unknown field ${field}; allowed: ${[...allowed].join(', ')}.`, field)
    }
  }
}

/**
 * Validates a batch check body `{"tuples": [...]}` by hand (faster than a schema library on this path) and returns
 * the tuples, which are then exactly Keto's shape and safe to re-serialise. Throws a 400 HttpError naming the field.
 */
export function parseCheckRequest(body: unknown, o: {maxTuples: number}): Tuple[] {
  if (!isObject(body)) throw badRequest(`The body must be a JSON object {"tuples": [...]}, got ${typeName(body)}.`, 'body')
  for (const key in body) if (key !== 'tuples') throw badRequest(`Unknown field ${key}; the body has only "tuples".`, key)
  const tuples = body.tuples
  if (tuples === undefined) throw badRequest('tuples is required.', 'tuples')
  if (!Array.isArray(tuples)) throw badRequest(`tuples must be an array, got ${typeName(tuples)}.`, 'tuples')
  if (tuples.length === 0) throw badRequest('tuples must not be empty: there is nothing to authorize.', 'tuples')
  if (tuples.length > o.maxTuples) {
    throw new HttpError(400, 'TOO_MANY_TUPLES', `tuples has ${tuples.length} entries; the limit is ${o.maxTuples}.`, {
      field: 'tuples',
      details: {limit: o.maxTuples},
    })
  }
  for (let i = 0; i < tuples.length; i++) {
    const t: unknown = tuples[i]
    const path = `tuples[${i}]`
    if (!isObject(t)) throw badRequest(`${path} must be an object, got ${typeName(t)}.`, path)
    rejectUnknownKeys(t, TUPLE_KEYS, path)
    requireString(t, 'namespace', path)
    requireString(t, 'object', path)
    requireString(t, 'relation', path)
    const hasId = t.subject_id !== undefined
    const hasSet = t.subject_set !== undefined
    if (hasId && hasSet) throw badRequest(`${path}.subject_id and ${path}.subject_set are both set; give exactly one.`, `${path}.subject_id`)
    if (!hasId && !hasSet) throw badRequest(`${path}.subject_id or ${path}.subject_set is required: the tuple needs a subject.`, `${path}.subject_id`)
    if (hasId) {
      requireString(t, 'subject_id', path)
    } else {
      const set = t.subject_set
      const setPath = `${path}.subject_set`
      if (!isObject(set)) throw badRequest(`${setPath} must be an object, got ${typeName(set)}.`, setPath)
      rejectUnknownKeys(set, SET_KEYS, setPath)
      requireString(set, 'namespace', setPath)
      requireString(set, 'object', setPath)
      // Keto allows an empty relation in a subject set (the object itself).
      requireString(set, 'relation', setPath, true)
    }
  }
  return tuples as Tuple[]
}
