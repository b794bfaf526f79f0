/** Pure text renderer of `iam doctor`: one line per check, its fix indented below it. */
import type {CheckStatus, DoctorCheck, DoctorReport} from '../doctor/index.js'

const MARK: Record<CheckStatus, string> = {ok: 'ok  ', warn: 'warn', fail: 'FAIL'}

/** A check, with where it was found (`iam doctor --production` names file and key). */
type Located = DoctorCheck & {file?: string; key?: string}

export function formatDoctorReport(report: DoctorReport, o: {production?: boolean} = {}): string {
  const width = Math.max(...report.checks.map((c) => c.id.length))
  const where = (c: Located): string => (c.file && c.status !== 'ok' ? `${c.file}${c.key ? ` ${c.key}` : ''}: ` : '')
  const lines = report.checks.flatMap((c: Located) => [`${MARK[c.status]}  ${c.id.padEnd(width)}  ${where(c)}${c.message}`, ...(c.fix && c.status !== 'ok' ? [`${' '.repeat(width + 8)}fix: ${c.fix}`] : [])])
  const failed = report.checks.filter((c) => c.status === 'fail').length
  const warned = report.checks.filter((c) => c.status === 'warn').length
  const ready = o.production ? 'ready for production as far as files can tell' : 'ready for `iam up`'
  lines.push('', failed === 0 ? `${ready}${warned > 0 ? ` (${warned} warning${warned > 1 ? 's' : ''})` : ''}` : `${failed} check${failed > 1 ? 's' : ''} failed`)
  return lines.join('\n')
}
