/**
 * Relation tuples and their text form, the one parser every input goes through (CLI arguments, seed files, the
 * `seed:` section of iam.yaml), so a tuple means the same wherever it is written. Pure: no I/O.
 */

export interface SubjectSet {
  namespace: string
  object: string
  /** Empty for a subject set without relation (`Users:bob`). */
  relation: string
}

/** A relation tuple; exactly one of subjectId / subjectSet is set. */
export interface RelationTuple {
  namespace: string
  object: string
  relation: string
  subjectId?: string
  subjectSet?: SubjectSet
}

/** A query over tuples: every field optional (Keto v0.14 needs none; give namespace for speed). */
export interface TupleQuery {
  namespace?: string
  object?: string
  relation?: string
  subjectId?: string
  subjectSet?: SubjectSet
}

// ---------------------------------------------------------------------------------------------------------------
// Text form
//
// Keto's own form is `Namespace:object#relation@subject` where the subject is an id or `Namespace:object#relation`
// (optionally in parentheses). Keto splits on the first ':', then the first '#', then the first '@', and treats a
// subject containing ':' as a subject set — so an id or object containing those characters cannot be written in its
// form. We keep the form byte-for-byte for ordinary values and percent-encode only the characters that would change
// the split (`%`, `:`, `#`, `@`, parentheses, whitespace), so every tuple round-trips.
// ---------------------------------------------------------------------------------------------------------------

const NEEDS_ESCAPE = /[%:#@()\s]/g

export function escapeTuplePart(value: string): string {
  return value.replace(NEEDS_ESCAPE, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  )
}

export class TupleSyntaxError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TupleSyntaxError'
  }
}

function unescapePart(value: string, what: string): string {
  if (!value.includes('%')) return value
  if (/%(?![0-9a-fA-F]{2})/.test(value)) throw new TupleSyntaxError(`${what} "${value}" has a '%' that is not followed by two hex digits (write %25 for a literal '%')`)
  try {
    return decodeURIComponent(value)
  } catch {
    throw new TupleSyntaxError(`${what} "${value}" is not valid percent-encoded UTF-8`)
  }
}

function required(value: string, what: string): string {
  if (value.length === 0) throw new TupleSyntaxError(`${what} is empty`)
  return value
}

export function formatSubjectSet(s: SubjectSet): string {
  const base = `${escapeTuplePart(s.namespace)}:${escapeTuplePart(s.object)}`
  return s.relation === '' ? base : `${base}#${escapeTuplePart(s.relation)}`
}

export function formatTuple(t: RelationTuple): string {
  const subject = t.subjectSet ? formatSubjectSet(t.subjectSet) : escapeTuplePart(t.subjectId ?? '')
  return `${escapeTuplePart(t.namespace)}:${escapeTuplePart(t.object)}#${escapeTuplePart(t.relation)}@${subject}`
}

/** Parses one tuple in text form; throws TupleSyntaxError naming what is wrong. */
export function parseTuple(input: string): RelationTuple {
  const {namespace, object, relation, subject} = splitTuple(input)
  return {namespace, object, relation, ...parseSubject(subject)}
}

/**
 * A seed tuple whose subject names an identity by email (`Tenant:acme#member@email:ada@example.com`): seeding
 * resolves it to that identity's id. Keto never sees this form.
 */
export interface EmailSubjectTuple {
  namespace: string
  object: string
  relation: string
  subjectEmail: string
  subjectId?: undefined
  subjectSet?: undefined
}

/** The subject prefix of the email form; only seed inputs (iam.yaml `seed.tuples`, `iam tuples seed` files) accept it. */
const EMAIL_SUBJECT_PREFIX = 'email:'

/** parseTuple, plus the email subject form of seed inputs (`…@email:ada@example.com`). */
export function parseSeedTuple(input: string): RelationTuple | EmailSubjectTuple {
  const {namespace, object, relation, subject} = splitTuple(input)
  if (!subject.startsWith(EMAIL_SUBJECT_PREFIX)) return {namespace, object, relation, ...parseSubject(subject)}
  const email = unescapePart(subject.slice(EMAIL_SUBJECT_PREFIX.length), 'subject email')
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new TupleSyntaxError(`subject "${subject}" is not ${EMAIL_SUBJECT_PREFIX}<an email address>`)
  return {namespace, object, relation, subjectEmail: email}
}

export function isEmailSubjectTuple(t: RelationTuple | EmailSubjectTuple): t is EmailSubjectTuple {
  return 'subjectEmail' in t && typeof t.subjectEmail === 'string'
}

/** Text form of either kind (the email form shown as written, for messages). */
export function formatSeedTuple(t: RelationTuple | EmailSubjectTuple): string {
  if (!isEmailSubjectTuple(t)) return formatTuple(t)
  return `${escapeTuplePart(t.namespace)}:${escapeTuplePart(t.object)}#${escapeTuplePart(t.relation)}@${EMAIL_SUBJECT_PREFIX}${t.subjectEmail}`
}

function splitTuple(input: string): {namespace: string; object: string; relation: string; subject: string} {
  const s = input.trim()
  const colon = s.indexOf(':')
  if (colon < 0) throw new TupleSyntaxError(`expected "Namespace:object#relation@subject", found no ':' in "${s}"`)
  const hash = s.indexOf('#', colon + 1)
  if (hash < 0) throw new TupleSyntaxError(`expected '#relation' after the object in "${s}"`)
  const at = s.indexOf('@', hash + 1)
  if (at < 0) throw new TupleSyntaxError(`expected '@subject' after the relation in "${s}"`)
  const namespace = unescapePart(required(s.slice(0, colon), 'namespace'), 'namespace')
  const object = unescapePart(required(s.slice(colon + 1, hash), 'object'), 'object')
  const relation = unescapePart(required(s.slice(hash + 1, at), 'relation'), 'relation')
  const subject = s.slice(at + 1)
  if (/\s/.test(s.slice(0, at))) throw new TupleSyntaxError(`unexpected whitespace in "${s}" (write %20 inside a value)`)
  return {namespace, object, relation, subject}
}

/** Parses a subject: an id, or a subject set `Namespace:object[#relation]` (optionally in parentheses). */
export function parseSubject(input: string): {subjectId: string} | {subjectSet: SubjectSet} {
  let subject = required(input.trim(), 'subject')
  if (subject.startsWith('(') && subject.endsWith(')')) subject = required(subject.slice(1, -1), 'subject')
  if (/\s/.test(subject)) throw new TupleSyntaxError(`unexpected whitespace in subject "${subject}" (write %20 inside a value)`)
  if (!subject.includes(':')) {
    if (subject.includes('#') || subject.includes('@')) throw new TupleSyntaxError(`subject id "${subject}" contains '#' or '@' (write %23 / %40)`)
    return {subjectId: unescapePart(subject, 'subject id')}
  }
  const colon = subject.indexOf(':')
  const hash = subject.indexOf('#', colon + 1)
  if (subject.includes('@')) throw new TupleSyntaxError(`subject set "${subject}" contains '@' (write %40)`)
  const namespace = unescapePart(required(subject.slice(0, colon), 'subject set namespace'), 'subject set namespace')
  const object = unescapePart(required(subject.slice(colon + 1, hash < 0 ? undefined : hash), 'subject set object'), 'subject set object')
  const relation = hash < 0 ? '' : unescapePart(required(subject.slice(hash + 1), 'subject set relation'), 'subject set relation')
  return {subjectSet: {namespace, object, relation}}
}

/** Validates a tuple given as an object (YAML/JSON input, snake_case as Keto's API or camelCase). */
export function tupleFromObject(value: unknown): RelationTuple {
  if (typeof value === 'string') return parseTuple(value)
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new TupleSyntaxError('expected a tuple string or an object {namespace, object, relation, subject_id | subject_set}')
  const v = value as Record<string, unknown>
  const str = (key: string, ...alts: string[]): string | undefined => {
    for (const k of [key, ...alts]) {
      const x = v[k]
      if (x === undefined || x === null) continue
      if (typeof x !== 'string') throw new TupleSyntaxError(`"${k}" must be a string`)
      return x
    }
    return undefined
  }
  const need = (key: string): string => {
    const x = str(key)
    if (x === undefined || x === '') throw new TupleSyntaxError(`"${key}" is required`)
    return x
  }
  const tuple: RelationTuple = {namespace: need('namespace'), object: need('object'), relation: need('relation')}
  const subjectId = str('subject_id', 'subjectId')
  const set = v.subject_set ?? v.subjectSet
  if ((subjectId === undefined) === (set === undefined || set === null)) throw new TupleSyntaxError('give exactly one of "subject_id" and "subject_set"')
  if (subjectId !== undefined) {
    if (subjectId === '') throw new TupleSyntaxError('"subject_id" is empty')
    tuple.subjectId = subjectId
  } else {
    const s = set as Record<string, unknown>
    if (typeof s !== 'object' || typeof s.namespace !== 'string' || typeof s.object !== 'string' || !s.namespace || !s.object)
      throw new TupleSyntaxError('"subject_set" needs string "namespace" and "object" (and optionally "relation")')
    if (s.relation !== undefined && typeof s.relation !== 'string') throw new TupleSyntaxError('"subject_set.relation" must be a string')
    tuple.subjectSet = {namespace: s.namespace, object: s.object, relation: (s.relation as string | undefined) ?? ''}
  }
  return tuple
}

export function tuplesEqual(a: RelationTuple, b: RelationTuple): boolean {
  return formatTuple(a) === formatTuple(b)
}
