/**
 * Keto's relation-tuple text form: `Namespace:object#relation@subject` where the subject is a subject id or a
 * subject set `Namespace:object#relation` (optionally in parentheses, as Keto prints it).
 */

export type TupleSubject = {subject_id: string} | {subject_set: {namespace: string; object: string; relation: string}}

export type ParsedTuple = {namespace: string; object: string; relation: string} & TupleSubject

export class TupleSyntaxError extends Error {}

/** Parses one tuple; throws TupleSyntaxError naming what is missing. */
export function parseTupleString(text: string): ParsedTuple {
  const s = text.trim()
  const colon = s.indexOf(':')
  const hash = s.indexOf('#', colon + 1)
  const at = s.indexOf('@', hash + 1)
  if (colon <= 0 || hash === -1 || at === -1) {
    throw new TupleSyntaxError(`"${text}" is not a relation tuple: expected Namespace:object#relation@subject`)
  }
  const namespace = s.slice(0, colon)
  const object = s.slice(colon + 1, hash)
  const relation = s.slice(hash + 1, at)
  let subject = s.slice(at + 1)
  if (object === '') throw new TupleSyntaxError(`"${text}": the object (between ":" and "#") is empty`)
  if (relation === '') throw new TupleSyntaxError(`"${text}": the relation (between "#" and "@") is empty`)
  if (subject === '') throw new TupleSyntaxError(`"${text}": the subject (after "@") is empty`)
  if (subject.startsWith('(') && subject.endsWith(')')) subject = subject.slice(1, -1)
  const sColon = subject.indexOf(':')
  const sHash = subject.indexOf('#', sColon + 1)
  if (sColon > 0 && sHash !== -1) {
    const set = {namespace: subject.slice(0, sColon), object: subject.slice(sColon + 1, sHash), relation: subject.slice(sHash + 1)}
    if (set.object === '') throw new TupleSyntaxError(`"${text}": the subject set's object is empty`)
    return {namespace, object, relation, subject_set: set}
  }
  return {namespace, object, relation, subject_id: subject}
}

export function formatTuple(t: ParsedTuple): string {
  const subject = 'subject_id' in t ? t.subject_id : `${t.subject_set.namespace}:${t.subject_set.object}#${t.subject_set.relation}`
  return `${t.namespace}:${t.object}#${t.relation}@${subject}`
}
