import {readFile} from 'node:fs/promises'
import {isMap, isScalar, isSeq, LineCounter, parseDocument, type Node} from 'yaml'

import {ExitCode, IamError, type ErrorCode} from '../errors.js'

/** One item of a YAML/JSON list, with the 1-based line it starts on. */
export interface ListItem {
  index: number
  line: number
  /** 1-based column the item starts at. */
  column: number
  value: unknown
  /** For an item that is a map: where each of its keys is written (1-based), so a problem can name its key. */
  keys: Record<string, {line: number; column: number}>
}

/**
 * Parses YAML (or JSON, which is YAML) holding a list — or a map with the list under `key` — and returns the items
 * with their lines, so per-item errors can name them. A malformed document or a wrong shape throws `code` (exit 2).
 */
export function parseYamlList(text: string, o: {source: string; key: string; code: ErrorCode}): ListItem[] {
  const counter = new LineCounter()
  const doc = parseDocument(text, {lineCounter: counter, prettyErrors: false})
  const invalid = (message: string, line?: number): IamError =>
    new IamError(o.code, `${o.source}${line ? `:${line}` : ''}: ${message}`, {exitCode: ExitCode.Usage, details: {file: o.source, ...(line ? {line} : {})}})
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!
    throw invalid(e.message.split('\n')[0] ?? e.message, e.linePos?.[0]?.line)
  }
  let list: Node | null | undefined = doc.contents as Node | null
  const shape = `expected a list of ${o.key} (or {${o.key}: [...]}).`
  if (isMap(list)) {
    if (!list.has(o.key)) throw invalid(shape)
    list = list.get(o.key, true) as Node | undefined
  }
  if (list === null || list === undefined) return []
  if (!isSeq(list)) throw invalid(shape)
  return list.items.map((item, index) => {
    const node = item as Node
    const pos = node.range ? counter.linePos(node.range[0]) : {line: 0, col: 0}
    const keys: ListItem['keys'] = {}
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = pair.key as Node | null
        const at = key?.range ? counter.linePos(key.range[0]) : pos
        keys[String(isScalar(key) ? key.value : key)] = {line: at.line, column: at.col}
      }
    }
    return {index, line: pos.line, column: pos.col, value: isScalar(node) ? node.value : node.toJSON(), keys}
  })
}

/** Reads a UTF-8 file ('-' reads stdin); an unreadable file is a usage error naming it. */
export async function readInputFile(path: string): Promise<string> {
  try {
    if (path !== '-') return await readFile(path, 'utf8')
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks).toString('utf8')
  } catch (error) {
    throw new IamError('FILE_UNREADABLE', `Cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      exitCode: ExitCode.Usage,
      details: {file: path},
    })
  }
}
