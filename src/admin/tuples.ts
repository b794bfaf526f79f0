import {extname} from 'node:path'

import {didYouMean} from '../config/issues.js'
import type {IamConfig} from '../config/model.js'
import {isIamError, usageError} from '../errors.js'
import type {KetoClient} from '../ory/keto-client.js'
import {
  formatSeedTuple,
  formatTuple,
  isEmailSubjectTuple,
  parseSeedTuple,
  tupleFromObject,
  TupleSyntaxError,
  type EmailSubjectTuple,
  type RelationTuple,
} from '../ory/tuple-text.js'
import {isUnreachable} from '../ory/request.js'
import {parseYamlList, readInputFile} from '../seed/yaml-list.js'

/** One entry of a tuple file: where it was, what it said, and the tuple or why it is not one. */
export interface TupleEntry {
  /** 1-based line in the source (for YAML/JSON: the line the item starts on). */
  line: number
  input: string
  tuple?: RelationTuple
  /** A seed tuple naming its subject by email (`…@email:ada@example.com`), resolved to an identity id when applied. */
  emailTuple?: EmailSubjectTuple
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
    entries.push(toEntry(i + 1, stripped, () => parseSeedTuple(stripped)))
  })
  return entries
}

function stripComment(line: string): string {
  const m = /(^|\s)#/.exec(line)
  return m ? line.slice(0, m.index) : line
}

function toEntry(line: number, input: string, parse: () => RelationTuple | EmailSubjectTuple): TupleEntry {
  try {
    const parsed = parse()
    return isEmailSubjectTuple(parsed) ? {line, input, emailTuple: parsed} : {line, input, tuple: parsed}
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
    toEntry(line, typeof value === 'string' ? value : JSON.stringify(value), () => (typeof value === 'string' ? parseSeedTuple(value) : tupleFromObject(value))),
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
export async function applyTuples(
  keto: Pick<KetoClient, 'exists' | 'create' | 'delete'>,
  entries: TupleEntry[],
  o: {mode?: 'add' | 'delete'; resolveEmail?: EmailResolver} = {},
): Promise<TupleReport> {
  const mode = o.mode ?? 'add'
  const report: TupleReport = {created: 0, existing: 0, deleted: 0, absent: 0, failed: 0, entries: []}
  for (const given of entries) {
    const entry = given.emailTuple ? await resolveEmailSubject(given, o.resolveEmail) : given
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

/** The id of the identity with this email, or undefined when there is none. */
type EmailResolver = (email: string) => Promise<string | undefined>

async function resolveEmailSubject(entry: TupleEntry, resolve: EmailResolver | undefined): Promise<TupleEntry> {
  const t = entry.emailTuple!
  const written = formatSeedTuple(t)
  if (!resolve) return {line: entry.line, input: entry.input, error: `${written}: a subject given by email is resolved only when seeding`}
  const id = await resolve(t.subjectEmail)
  if (id === undefined) return {line: entry.line, input: entry.input, error: `${written}: no identity has the email ${t.subjectEmail} (create it first, e.g. in seed.identities)`}
  return {line: entry.line, input: entry.input, tuple: {namespace: t.namespace, object: t.object, relation: t.relation, subjectId: id}}
}

/** Namespaces the rendered OPL declares: iam.yaml's, plus `User` (always declared, without relations). */
function declaredNamespaces(config: IamConfig): Map<string, string[]> {
  const index = new Map<string, string[]>([['User', []]])
  for (const ns of config.keto.namespaces) index.set(ns.name, ns.relations)
  return index
}

/** Why Keto cannot hold this tuple under iam.yaml's keto.namespaces, or undefined when it can. */
function undeclaredProblem(config: IamConfig, tuple: RelationTuple | EmailSubjectTuple): string | undefined {
  const index = declaredNamespaces(config)
  const names = [...index.keys()]
  const relationOf = (namespace: string, relation: string, what: string): string | undefined => {
    const relations = index.get(namespace)
    if (relations === undefined) return `${what}namespace "${namespace}" is not declared in keto.namespaces${didYouMean(namespace, names)}; declared: ${names.join(', ')}`
    if (relation !== '' && !relations.includes(relation)) {
      return `namespace ${namespace} has no relation "${relation}"${didYouMean(relation, relations)}; its relations: ${relations.length > 0 ? relations.join(', ') : '(none)'}`
    }
    return undefined
  }
  return relationOf(tuple.namespace, tuple.relation, '') ?? (tuple.subjectSet ? relationOf(tuple.subjectSet.namespace, tuple.subjectSet.relation, 'subject ') : undefined)
}

/**
 * With an iam.yaml in play, refuses (TUPLE_UNDECLARED, exit 2, before any call to Keto) tuples naming a namespace or
 * relation it does not declare, each with its place (`file:line`, or `argument N`). Without an iam.yaml: no check.
 */
export function refuseUndeclared(config: IamConfig | undefined, entries: TupleEntry[], o: {source?: string; configPath?: string} = {}): void {
  if (!config) return
  const problems: {line: number; where: string; input: string; message: string}[] = []
  for (const entry of entries) {
    const tuple = entry.tuple ?? entry.emailTuple
    const message = tuple && undeclaredProblem(config, tuple)
    if (!message) continue
    problems.push({line: entry.line, where: o.source ? `${o.source}:${entry.line}` : `argument ${entry.line}`, input: entry.input, message})
  }
  if (problems.length === 0) return
  const file = o.configPath ?? 'iam.yaml'
  throw usageError('TUPLE_UNDECLARED', `${problems.length === 1 ? 'A tuple names' : `${problems.length} tuples name`} what ${file} does not declare (nothing was written):\n${problems.map((p) => `  ${p.where}: ${p.input}: ${p.message}`).join('\n')}`, {
    suggestion: `Fix the tuple, or declare the namespace and relation under keto.namespaces in ${file} (then \`iam up\` renders them for Keto).`,
    details: {...(o.source ? {file: o.source, line: problems[0]!.line} : {}), errors: problems.map(({where, input, message}) => ({where, input, message}))},
  })
}
