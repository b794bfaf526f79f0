import {extname} from 'node:path'

import {isIamError} from '../errors.js'
import type {KetoClient} from '../ory/keto-client.js'
import {formatTuple, parseTuple, tupleFromObject, TupleSyntaxError, type RelationTuple} from '../ory/tuple-text.js'
import {isUnreachable} from '../ory/request.js'
import {parseYamlList, readInputFile} from '../seed/yaml-list.js'

/** One entry of a tuple file: where it was, what it said, and the tuple or why it is not one. */
export interface TupleEntry {
  /** 1-based line in the source (for YAML/JSON: the line the item starts on). */
  line: number
  input: string
  tuple?: RelationTuple
  error?: string
}

/**
 * Parses the text form: one tuple per line, blank lines and comments ignored. A comment is a `#` at the start of a
 * line or after whitespace — inside a tuple `#` separates object and relation and is never preceded by a space.
 */
export function parseTupleText(text: string): TupleEntry[] {
  const entries: TupleEntry[] = []
  const lines = text.split(/\r?\n/)
  lines.forEach((raw, i) => {
    const stripped = stripComment(raw).trim()
    if (stripped.length === 0) return
    entries.push(toEntry(i + 1, stripped, () => parseTuple(stripped)))
  })
  return entries
}

function stripComment(line: string): string {
  const m = /(^|\s)#/.exec(line)
  return m ? line.slice(0, m.index) : line
}

function toEntry(line: number, input: string, parse: () => RelationTuple): TupleEntry {
  try {
    return {line, input, tuple: parse()}
  } catch (error) {
    if (error instanceof TupleSyntaxError) return {line, input, error: error.message}
    throw error
  }
}

/**
 * Parses YAML or JSON (JSON is YAML): a list — or `{tuples: [...]}` — of tuple strings or objects
 * `{namespace, object, relation, subject_id | subject_set}`. A malformed document is a usage error; a bad item is a
 * bad entry with its line.
 */
export function parseTupleDocument(text: string, source = 'input'): TupleEntry[] {
  return parseYamlList(text, {source, key: 'tuples', code: 'TUPLE_FILE_INVALID'}).map(({line, value}) =>
    toEntry(line, typeof value === 'string' ? value : JSON.stringify(value), () => tupleFromObject(value)),
  )
}

/** YAML/JSON by extension (or by a leading `[`, `{` or `-`), else the text form. */
export function parseTupleSource(text: string, name: string): TupleEntry[] {
  const ext = extname(name).toLowerCase()
  if (ext === '.json' || ext === '.yaml' || ext === '.yml') return parseTupleDocument(text, name)
  if (ext === '' || ext === '.txt' || ext === '.tuples' || ext === '.keto') {
    const first = text.split(/\r?\n/).map((l) => stripComment(l).trim()).find((l) => l.length > 0)
    if (first && (first.startsWith('[') || first.startsWith('{') || first.startsWith('- '))) return parseTupleDocument(text, name)
    return parseTupleText(text)
  }
  return parseTupleText(text)
}

export async function readTupleFile(path: string): Promise<TupleEntry[]> {
  return parseTupleSource(await readInputFile(path), path === '-' ? 'stdin' : path)
}

export type TupleStatus = 'created' | 'existing' | 'deleted' | 'absent' | 'failed'

export interface TupleOutcome {
  line: number
  input: string
  tuple?: string
  status: TupleStatus
  error?: string
}

export interface TupleReport {
  created: number
  existing: number
  deleted: number
  absent: number
  failed: number
  entries: TupleOutcome[]
}

/**
 * Writes (or deletes) every well-formed entry, idempotently: an existing tuple is counted as `existing` and not
 * written again. Bad lines and tuples Keto refuses are `failed` with their line; Keto being unreachable aborts
 * (ORY_UNREACHABLE, exit 3) since every other entry would fail the same way.
 */
export async function applyTuples(keto: Pick<KetoClient, 'exists' | 'create' | 'delete'>, entries: TupleEntry[], o: {mode?: 'add' | 'delete'} = {}): Promise<TupleReport> {
  const mode = o.mode ?? 'add'
  const report: TupleReport = {created: 0, existing: 0, deleted: 0, absent: 0, failed: 0, entries: []}
  for (const entry of entries) {
    if (!entry.tuple) {
      report.failed++
      report.entries.push({line: entry.line, input: entry.input, status: 'failed', error: entry.error})
      continue
    }
    const text = formatTuple(entry.tuple)
    let status: TupleStatus
    try {
      const exists = await keto.exists(entry.tuple)
      if (mode === 'add') {
        if (!exists) await keto.create(entry.tuple)
        status = exists ? 'existing' : 'created'
      } else {
        if (exists) await keto.delete(entry.tuple)
        status = exists ? 'deleted' : 'absent'
      }
    } catch (error) {
      if (isUnreachable(error) || !isIamError(error)) throw error
      report.failed++
      report.entries.push({line: entry.line, input: entry.input, tuple: text, status: 'failed', error: error.message})
      continue
    }
    report[status]++
    report.entries.push({line: entry.line, input: entry.input, tuple: text, status})
  }
  return report
}
