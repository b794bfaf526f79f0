import {usageError} from '../errors.js'
import {parseTuple, TupleSyntaxError} from '../ory/tuple-text.js'
import type {TupleEntry, TupleReport} from '../admin/tuples.js'

/**
 * Tuples given on the command line. A malformed one is a usage error (exit 2) before anything is written — unlike a
 * seed file, where bad lines are reported and the rest applied.
 */
export function tuplesFromArgs(argv: string[]): TupleEntry[] {
  return argv.map((input, i) => {
    try {
      return {line: i + 1, input, tuple: parseTuple(input)}
    } catch (error) {
      if (error instanceof TupleSyntaxError) throw usageError('TUPLE_INVALID', `argument ${i + 1} "${input}": ${error.message}`)
      throw error
    }
  })
}

export function printTupleReport(out: {log(message: string): void}, report: TupleReport): void {
  for (const e of report.entries) {
    if (e.status === 'failed') out.log(`line ${e.line}: failed: ${e.error ?? 'unknown error'}${e.input ? `  (${e.input})` : ''}`)
  }
  const parts = (['created', 'existing', 'deleted', 'absent', 'failed'] as const).filter((k) => report[k] > 0 || k === 'failed').map((k) => `${report[k]} ${k}`)
  out.log(parts.join(', '))
}
