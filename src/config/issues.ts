import {isAlias, isMap, isPair, isScalar, isSeq, Scalar, type Document, type LineCounter, type Node as YamlNode, type Pair} from 'yaml'

import {usageError, type IamError} from '../errors.js'

export type ConfigPath = (string | number)[]

/** One problem found in iam.yaml, located in the file. */
export interface ConfigIssue {
  file: string
  /** 1-based. */
  line: number
  /** 1-based. */
  column: number
  /** Where in the model, e.g. `routes[2].authorization.anyOf[0].object`. */
  path: string
  message: string
  /** What would be accepted instead (enum values, a range, a format). */
  allowed?: string[]
}

/** An issue before it is located: `at: 'key'` points at the key of the last path segment, else at its value. */
export interface RawIssue {
  path: ConfigPath
  message: string
  allowed?: string[]
  at?: 'key' | 'value'
  /** Offset inside the value's text (e.g. the column of a syntax error inside a route match). */
  offset?: number
}

export function formatPath(path: ConfigPath): string {
  let out = ''
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`
  return out === '' ? '(top level)' : out
}

/** Maps model paths to line/column through the YAML document's node ranges. */
export class Locator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly file: string,
  ) {}

  locate(issue: RawIssue): ConfigIssue {
    const offset = this.offsetOf(issue)
    const pos = this.lines.linePos(offset)
    return {
      file: this.file,
      line: pos.line,
      column: pos.col,
      path: formatPath(issue.path),
      message: issue.message,
      ...(issue.allowed ? {allowed: issue.allowed} : {}),
    }
  }

  private offsetOf(issue: RawIssue): number {
    let node: unknown = this.doc.contents
    let pair: Pair | undefined
    let complete = true
    for (const seg of issue.path) {
      node = this.deref(node)
      if (isMap(node)) {
        const found = node.items.find((p) => isPair(p) && String(isScalar(p.key) ? p.key.value : p.key) === String(seg))
        if (!found) {
          complete = false
          break
        }
        pair = found
        node = found.value
      } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
        pair = undefined
        node = node.items[seg]
      } else {
        complete = false
        break
      }
    }
    node = this.deref(node)
    const start = (n: unknown): number | undefined => (n && typeof n === 'object' && 'range' in n ? (n as YamlNode).range?.[0] : undefined)
    if (complete && issue.at === 'key' && pair) return start(pair.key) ?? 0
    const valueStart = start(node) ?? (pair ? start(pair.key) : undefined) ?? 0
    if (complete && issue.offset !== undefined && isScalar(node)) {
      const quoted = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE ? 1 : 0
      return valueStart + quoted + issue.offset
    }
    // A value that does not exist (a default) is reported at its closest existing parent.
    return valueStart
  }

  private deref(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.doc) : node
  }
}

export function positionText(issue: ConfigIssue): string {
  return `${issue.file}:${issue.line}:${issue.column}`
}

export function formatIssue(issue: ConfigIssue): string {
  const allowed = issue.allowed && issue.allowed.length > 0 ? ` (allowed: ${issue.allowed.join(', ')})` : ''
  return `${positionText(issue)}: ${issue.path}: ${issue.message}${allowed}`
}

/** One IamError CONFIG_INVALID (exit 2) listing every issue; details carry them for --json. */
export function configInvalid(file: string, issues: ConfigIssue[]): IamError {
  const sorted = [...issues].sort((a, b) => a.line - b.line || a.column - b.column)
  const first = sorted[0]!
  const head = sorted.length === 1 ? `${file} is invalid:` : `${file} has ${sorted.length} errors:`
  return usageError('CONFIG_INVALID', `${head}\n${sorted.map((i) => `  ${formatIssue(i)}`).join('\n')}`, {
    suggestion: `Fix ${sorted.length === 1 ? 'it' : 'them'} in ${file}; every key is described in the comments \`iam init\` writes.`,
    details: {file: first.file, line: first.line, column: first.column, errors: sorted},
  })
}

/** "did you mean" candidates: same letters ignoring case/_/-, or a small edit distance. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string): string => s.toLowerCase().replace(/[-_\s]/g, '')
  const exact = candidates.find((c) => norm(c) === norm(word))
  if (exact) return exact
  let best: string | undefined
  let bestDistance = Infinity
  for (const c of candidates) {
    const d = editDistance(norm(word), norm(c))
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  const limit = Math.max(1, Math.floor(word.length / 3))
  return bestDistance <= limit ? best : undefined
}

/** Edit distance where swapping two neighbouring letters (`emial` → `email`) is one edit, like a typo is. */
function editDistance(a: string, b: string): number {
  let before: number[] = []
  let prev = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) cur[j] = Math.min(cur[j]!, before[j - 2]! + 1)
    }
    before = prev
    prev = cur
  }
  return prev[b.length]!
}

export function didYouMean(word: string, candidates: readonly string[]): string {
  const guess = closest(word, candidates)
  return guess ? ` (did you mean "${guess}"?)` : ''
}
