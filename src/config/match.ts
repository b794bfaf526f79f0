/**
 * Route matches: Oathkeeper glob URLs (`<…>` holds a gobwas glob: `*` and `?` stop at `.` and `/`, `**` matches
 * anything, `[a-z]`, `[!a-z]`, `{a,b}`) extended with `{name}`, a named parameter matching one non-empty path segment.
 * This module parses them, finds two matches that accept a common URL (Oathkeeper answers 500 when two rules match
 * one request) and converts a match to Oathkeeper's regexp strategy, where each `<…>` is a capture group.
 *
 * Oathkeeper (v26) matches rules against the *cleaned* path (Go's `path.Clean`: no trailing slash, no `.`, `..` or
 * `//` segments) and forwards that cleaned path upstream. So a match ending in `/<glob>` whose glob accepts the empty
 * string also accepts the path without that slash — `/public/<**>` answers `/public`, `/public/` and
 * `/public/anything` alike (see `optionalTail`) —, and a match whose literal path could only meet an uncleaned path
 * is refused (`uncleanPathProblem`).
 */

export type MatchPart =
  | {kind: 'lit'; text: string}
  | {kind: 'param'; name: string}
  | {kind: 'glob'; source: string; node: GlobNode[]}

type GlobNode =
  | {kind: 'lit'; ch: string}
  | {kind: 'star'; any: boolean} // any: `**`
  | {kind: 'one'} // `?`
  | {kind: 'class'; negated: boolean; ranges: [string, string][]}
  | {kind: 'alt'; options: GlobNode[][]}

export interface ParsedMatch {
  parts: MatchPart[]
  params: string[]
}

export class MatchSyntaxError extends Error {
  constructor(
    message: string,
    /** Offset in the match string. */
    readonly index: number,
  ) {
    super(message)
  }
}

const PARAM_RE = /^[A-Za-z_][A-Za-z0-9_]*$/
const SEPARATORS = ['.', '/']

/** Parses a route match; throws MatchSyntaxError with what is wrong and where. */
export function parseRouteMatch(match: string): ParsedMatch {
  const parts: MatchPart[] = []
  let lit = ''
  const flush = (): void => {
    if (lit) parts.push({kind: 'lit', text: lit})
    lit = ''
  }
  for (let i = 0; i < match.length; i++) {
    const ch = match[i]!
    if (ch === '<') {
      const end = match.indexOf('>', i + 1)
      if (end === -1) throw new MatchSyntaxError('unclosed "<": a glob part must end with ">"', i)
      const source = match.slice(i + 1, end)
      if (source.includes('<')) throw new MatchSyntaxError('nested "<" inside a <…> glob part is not supported', i)
      if (source === '') throw new MatchSyntaxError('empty glob part "<>"', i)
      flush()
      parts.push({kind: 'glob', source, node: parseGlob(source, i + 1)})
      i = end
    } else if (ch === '>') {
      throw new MatchSyntaxError('">" without a matching "<"', i)
    } else if (ch === '{') {
      const end = match.indexOf('}', i + 1)
      const name = end === -1 ? '' : match.slice(i + 1, end)
      if (end === -1 || !PARAM_RE.test(name)) {
        throw new MatchSyntaxError('a parameter is written {name} (letters, digits, underscore)', i)
      }
      flush()
      parts.push({kind: 'param', name})
      i = end
    } else if (ch === '}') {
      throw new MatchSyntaxError('"}" without a matching "{"', i)
    } else if (ch === '?' || ch === '#') {
      throw new MatchSyntaxError(`"${ch}" outside <…>: Oathkeeper matches the URL without query or fragment`, i)
    } else if (/\s/.test(ch)) {
      throw new MatchSyntaxError('whitespace in a URL', i)
    } else {
      lit += ch
    }
  }
  flush()
  checkUrlShape(match, parts)
  return {parts, params: parts.flatMap((p) => (p.kind === 'param' ? [p.name] : []))}
}

/** Scheme and host are required, params are whole path segments and unique. */
function checkUrlShape(match: string, parts: MatchPart[]): void {
  // Render as text where every non-literal is one placeholder char, keeping offsets comparable only for literals.
  let flat = ''
  const origin: number[] = []
  let offset = 0
  for (const part of parts) {
    const len = part.kind === 'lit' ? part.text.length : part.kind === 'param' ? part.name.length + 2 : part.source.length + 2
    if (part.kind === 'lit') {
      for (let k = 0; k < part.text.length; k++) origin.push(offset + k)
      flat += part.text
    } else {
      origin.push(offset)
      flat += part.kind === 'param' ? '\u0001' : '\u0002'
    }
    offset += len
  }
  const schemeEnd = flat.indexOf('://')
  if (schemeEnd === -1 || !/^([a-z][a-z0-9+.-]*|\u0002)$/i.test(flat.slice(0, schemeEnd))) {
    throw new MatchSyntaxError('a match is a path starting with "/" (e.g. /api/<**>) or a full URL starting with a scheme', 0)
  }
  const pathStart = flat.indexOf('/', schemeEnd + 3)
  if (pathStart === schemeEnd + 3) throw new MatchSyntaxError('the URL has no host', origin[schemeEnd + 3] ?? match.length)
  if (pathStart === -1) throw new MatchSyntaxError('the URL has no path: add "/" (or "/<**>") after the host', match.length)
  const seen = new Set<string>()
  let index = 0
  for (const part of parts) {
    if (part.kind === 'param') {
      const flatIndex = origin.indexOf(index)
      if (flatIndex < pathStart) throw new MatchSyntaxError(`parameter {${part.name}} must be in the path`, index)
      const before = flat[flatIndex - 1]
      const after = flat[flatIndex + 1]
      if (before !== '/' || (after !== undefined && after !== '/')) {
        throw new MatchSyntaxError(`parameter {${part.name}} must be a whole path segment, e.g. /tenants/{${part.name}}/`, index)
      }
      if (seen.has(part.name)) throw new MatchSyntaxError(`parameter {${part.name}} appears twice`, index)
      seen.add(part.name)
    }
    index += part.kind === 'lit' ? part.text.length : part.kind === 'param' ? part.name.length + 2 : part.source.length + 2
  }
}

function parseGlob(source: string, base: number): GlobNode[] {
  let i = 0
  const parseSeq = (inAlt: boolean): GlobNode[] => {
    const out: GlobNode[] = []
    while (i < source.length) {
      const ch = source[i]!
      if (inAlt && (ch === ',' || ch === '}')) return out
      if (ch === '*') {
        const any = source[i + 1] === '*'
        out.push({kind: 'star', any})
        i += any ? 2 : 1
      } else if (ch === '?') {
        out.push({kind: 'one'})
        i++
      } else if (ch === '[') {
        const end = source.indexOf(']', i + 1)
        if (end === -1) throw new MatchSyntaxError('unclosed "[" in a glob part', base + i)
        let body = source.slice(i + 1, end)
        const negated = body.startsWith('!')
        if (negated) body = body.slice(1)
        if (body === '') throw new MatchSyntaxError('empty character class', base + i)
        const ranges: [string, string][] = []
        for (let k = 0; k < body.length; k++) {
          if (body[k + 1] === '-' && k + 2 < body.length) {
            ranges.push([body[k]!, body[k + 2]!])
            k += 2
          } else ranges.push([body[k]!, body[k]!])
        }
        out.push({kind: 'class', negated, ranges})
        i = end + 1
      } else if (ch === '{') {
        const start = i
        i++
        const options: GlobNode[][] = []
        for (;;) {
          options.push(parseSeq(true))
          if (i >= source.length) throw new MatchSyntaxError('unclosed "{" in a glob part', base + start)
          if (source[i] === '}') break
          i++ // ','
        }
        i++
        out.push({kind: 'alt', options})
      } else if (ch === '}' || ch === ']') {
        throw new MatchSyntaxError(`unexpected "${ch}" in a glob part`, base + i)
      } else if (ch === '\\') {
        if (i + 1 >= source.length) throw new MatchSyntaxError('dangling "\\" in a glob part', base + i)
        out.push({kind: 'lit', ch: source[i + 1]!})
        i += 2
      } else {
        out.push({kind: 'lit', ch})
        i++
      }
    }
    return out
  }
  return parseSeq(false)
}

// ---------------------------------------------------------------------------------------------------------------
// Overlap: two matches overlap when some URL matches both. Each match becomes a few sequences of character
// matchers (alternatives expanded); a breadth-first walk over pairs of positions finds a common string.

type CharTest = (ch: string) => boolean
type Elem = {star: boolean; test: CharTest}

const MAX_EXPANSIONS = 256

function notIn(chars: string[]): CharTest {
  return (ch) => !chars.includes(ch)
}

function globToSeqs(nodes: GlobNode[]): Elem[][] {
  let seqs: Elem[][] = [[]]
  for (const node of nodes) {
    let next: Elem[][]
    switch (node.kind) {
      case 'lit':
        next = seqs.map((s) => [...s, {star: false, test: (ch) => ch === node.ch}])
        break
      case 'star':
        next = seqs.map((s) => [...s, {star: true, test: node.any ? () => true : notIn(SEPARATORS)}])
        break
      case 'one':
        next = seqs.map((s) => [...s, {star: false, test: notIn(SEPARATORS)}])
        break
      case 'class': {
        const inRanges: CharTest = (ch) => node.ranges.some(([a, b]) => ch >= a && ch <= b)
        next = seqs.map((s) => [...s, {star: false, test: node.negated ? (ch) => !inRanges(ch) : inRanges}])
        break
      }
      case 'alt': {
        const alternatives = node.options.flatMap((o) => globToSeqs(o))
        next = seqs.flatMap((s) => alternatives.map((a) => [...s, ...a]))
        break
      }
    }
    if (next.length > MAX_EXPANSIONS) throw new RangeError('too many alternatives')
    seqs = next
  }
  return seqs
}

function matchToSeqs(parsed: ParsedMatch): Elem[][] {
  const root = withoutOptionalTail(parsed)
  return root ? [...partsToSeqs(parsed), ...partsToSeqs(root)] : partsToSeqs(parsed)
}

function partsToSeqs(parsed: ParsedMatch): Elem[][] {
  let seqs: Elem[][] = [[]]
  for (const part of parsed.parts) {
    let tail: Elem[][]
    if (part.kind === 'lit') tail = [[...part.text].map((c) => ({star: false, test: (ch: string) => ch === c}))]
    else if (part.kind === 'param') tail = [[{star: false, test: notIn(['/'])}, {star: true, test: notIn(['/'])}]]
    else tail = globToSeqs(part.node)
    seqs = seqs.flatMap((s) => tail.map((t) => [...s, ...t]))
    if (seqs.length > MAX_EXPANSIONS) throw new RangeError('too many alternatives')
  }
  return seqs
}

function literalChars(match: string): string[] {
  return [...new Set(match)]
}

const BASE_ALPHABET = [...'xabcdefghijklmnopqrstuvwyz0123456789-_.~/:%@!$&\'()*+,;=ABCDEFGHIJKLMNOPQRSTUVWXYZ']

function commonString(a: Elem[], b: Elem[], alphabet: string[]): string | undefined {
  const key = (i: number, j: number): number => i * (b.length + 1) + j
  const parent = new Map<number, {from: number; ch: string}>()
  const start = key(0, 0)
  parent.set(start, {from: -1, ch: ''})
  const queue: [number, number][] = [[0, 0]]
  const visit = (i: number, j: number, from: number, ch: string): void => {
    const k = key(i, j)
    if (parent.has(k)) return
    parent.set(k, {from, ch})
    queue.push([i, j])
  }
  while (queue.length > 0) {
    const [i, j] = queue.shift()!
    const here = key(i, j)
    if (i === a.length && j === b.length) {
      let out = ''
      for (let k = here; k !== start; ) {
        const p = parent.get(k)!
        out = p.ch + out
        k = p.from
      }
      return out
    }
    if (i < a.length && a[i]!.star) visit(i + 1, j, here, '')
    if (j < b.length && b[j]!.star) visit(i, j + 1, here, '')
    if (i < a.length && j < b.length) {
      const ea = a[i]!
      const eb = b[j]!
      const ch = alphabet.find((c) => ea.test(c) && eb.test(c))
      if (ch !== undefined) visit(ea.star ? i : i + 1, eb.star ? j : j + 1, here, ch)
    }
  }
  return undefined
}

/**
 * A URL both matches accept, or undefined when they are disjoint. Undefined too when a match has too many
 * alternatives to check (the check then stays silent rather than guessing).
 */
export function overlapWitness(a: ParsedMatch, b: ParsedMatch, sources: [string, string] = ['', '']): string | undefined {
  let seqsA: Elem[][]
  let seqsB: Elem[][]
  try {
    seqsA = matchToSeqs(a)
    seqsB = matchToSeqs(b)
  } catch {
    return undefined
  }
  const alphabet = [...new Set([...BASE_ALPHABET, ...literalChars(sources[0]), ...literalChars(sources[1])])]
  for (const sa of seqsA) {
    for (const sb of seqsB) {
      const found = commonString(sa, sb, alphabet)
      if (found !== undefined) return found
    }
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------------------------
// Conversion for the renderer.

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function globNodesToRegex(nodes: GlobNode[]): string {
  return nodes
    .map((node) => {
      switch (node.kind) {
        case 'lit':
          return escapeRegex(node.ch)
        case 'star':
          return node.any ? '.*' : '[^./]*'
        case 'one':
          return '[^./]'
        case 'class': {
          const body = node.ranges.map(([x, y]) => (x === y ? escapeClass(x) : `${escapeClass(x)}-${escapeClass(y)}`)).join('')
          return `[${node.negated ? '^' : ''}${body}]`
        }
        case 'alt':
          return `(?:${node.options.map((o) => globNodesToRegex(o)).join('|')})`
      }
    })
    .join('')
}

function escapeClass(ch: string): string {
  return /[\]\\^-]/.test(ch) ? `\\${ch}` : ch
}

export interface OathkeeperRegexpMatch {
  /** `match.url` for `access_rules.matching_strategy: regexp`: literal text plus `<regex>` parts. */
  url: string
  /** One entry per `<…>` part, in order (each is one capture group; the converted regexes use only non-capturing
   * groups inside): the parameter name, or null for an unnamed glob part. */
  groups: (string | null)[]
  /** Parameter name → index in `.MatchContext.RegexpCaptureGroups`. */
  params: Record<string, number>
}

/** Converts a route match to Oathkeeper's regexp strategy; `{name}` becomes the group `<[^/]+>`. */
export function toOathkeeperRegexp(match: string): OathkeeperRegexpMatch {
  const parsed = parseRouteMatch(match)
  const tail = optionalTail(parsed)
  let url = ''
  const groups: (string | null)[] = []
  const params: Record<string, number> = {}
  parsed.parts.forEach((part, index) => {
    if (part.kind === 'lit') url += tail && index === parsed.parts.length - 2 ? part.text.slice(0, -1) : part.text
    else if (part.kind === 'param') {
      params[part.name] = groups.length
      groups.push(part.name)
      url += '<[^/]+>'
    } else {
      groups.push(null)
      // The optional tail keeps its slash inside the group: `/public<(?:/.*)?>` accepts `/public` and `/public/x`.
      url += tail && index === parsed.parts.length - 1 ? `<(?:/(?:${globNodesToRegex(part.node)}))?>` : `<${globNodesToRegex(part.node)}>`
    }
  })
  return {url, groups, params}
}

/**
 * The trailing `/<glob>` of a match whose glob accepts the empty string, below the root path: the part of the match
 * a cleaned path may leave out entirely. Undefined when the match has no such tail.
 */
export function optionalTail(parsed: ParsedMatch): {glob: Extract<MatchPart, {kind: 'glob'}>} | undefined {
  const last = parsed.parts.at(-1)
  const before = parsed.parts.at(-2)
  if (last?.kind !== 'glob' || before?.kind !== 'lit' || !before.text.endsWith('/')) return undefined
  if (!new RegExp(`^(?:${globNodesToRegex(last.node)})$`).test('')) return undefined
  // The root slash stays: the cleaned root path is "/".
  const flat = flatten({parts: parsed.parts.slice(0, -1), params: []}).slice(0, -1)
  const hostStart = flat.indexOf('://')
  if (hostStart === -1 || !flat.slice(hostStart + 3).includes('/')) return undefined
  return {glob: last}
}

/** The match without its optional tail (what the route's root path must match), when it has one. */
function withoutOptionalTail(parsed: ParsedMatch): ParsedMatch | undefined {
  if (!optionalTail(parsed)) return undefined
  const parts = parsed.parts.slice(0, -1)
  const lit = parts.at(-1) as Extract<MatchPart, {kind: 'lit'}>
  const trimmed = lit.text.slice(0, -1)
  return {parts: [...parts.slice(0, -1), ...(trimmed ? [{kind: 'lit' as const, text: trimmed}] : [])], params: parsed.params}
}

/** The match as text with each `{param}` and `<glob>` replaced by one placeholder character. */
function flatten(parsed: ParsedMatch): string {
  return parsed.parts.map((p) => (p.kind === 'lit' ? p.text : p.kind === 'param' ? '\u0001' : '\u0002')).join('')
}

/**
 * Why a match can never apply to a cleaned path, or undefined: its literal path holds `//`, a `.` or `..` segment,
 * or ends in `/` (other than the root path or an optional tail).
 */
export function uncleanPathProblem(parsed: ParsedMatch): string | undefined {
  const flat = flatten(parsed)
  const hostStart = flat.indexOf('://')
  const pathStart = hostStart === -1 ? -1 : flat.indexOf('/', hostStart + 3)
  if (pathStart === -1) return undefined
  const path = flat.slice(pathStart)
  if (path.includes('//')) return 'the path holds "//"'
  if (/\/\.{1,2}(\/|$)/.test(path)) return 'the path holds a "." or ".." segment'
  if (path.length > 1 && path.endsWith('/')) return 'the path ends in "/"'
  return undefined
}

/**
 * A concrete URL the match accepts, with `param(name)` as each `{name}` (it must be one non-empty path segment) and
 * the shortest string each `<…>` glob accepts — for a match with an optional tail, the route's root path.
 * Undefined when a glob has too many alternatives to search.
 */
export function exampleUrl(match: string, param: (name: string) => string): string | undefined {
  const parsed = parseRouteMatch(match)
  return exampleOf(withoutOptionalTail(parsed) ?? parsed, param)
}

/** Non-empty texts tried for a tail glob when a URL below a route's root is wanted. */
const BELOW_CANDIDATES = ['smoke', 'x', '0', 'smoke.json', 'smoke/x']

/**
 * A URL below the route's root for a match with an optional tail (`/public/<**>` → `/public/smoke`), so a caller can
 * probe both; undefined for a match without one.
 */
export function exampleUrlBelow(match: string, param: (name: string) => string): string | undefined {
  const parsed = parseRouteMatch(match)
  const tail = optionalTail(parsed)
  if (!tail) return undefined
  const regex = new RegExp(`^(?:${globNodesToRegex(tail.glob.node)})$`)
  const text = BELOW_CANDIDATES.find((candidate) => regex.test(candidate))
  if (text === undefined) return undefined
  const head = exampleOf({parts: parsed.parts.slice(0, -1), params: parsed.params}, param)
  return head === undefined ? undefined : head + text
}

function exampleOf(parsed: ParsedMatch, param: (name: string) => string): string | undefined {
  let url = ''
  for (const part of parsed.parts) {
    if (part.kind === 'lit') url += part.text
    else if (part.kind === 'param') url += param(part.name)
    else {
      const only: ParsedMatch = {parts: [part], params: []}
      const witness = overlapWitness(only, only)
      if (witness === undefined) return undefined
      url += witness
    }
  }
  return url
}
