/** Pure text renderer of `iam doctor`: one line per check, its fix indented below it. */
import type {CheckStatus, DoctorReport} from '../doctor/index.js'

const MARK: Record<CheckStatus, string> = {ok: 'ok  ', warn: 'warn', fail: 'FAIL'}

export function formatDoctorReport(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((c) => c.id.length))
  const lines = report.checks.flatMap((c) => [`${MARK[c.status]}  ${c.id.padEnd(width)}  ${c.message}`, ...(c.fix && c.status !== 'ok' ? [`${' '.repeat(width + 8)}fix: ${c.fix}`] : [])])
  const failed = report.checks.filter((c) => c.status === 'fail').length
  const warned = report.checks.filter((c) => c.status === 'warn').length
  lines.push('', failed === 0 ? `ready for \`iam up\`${warned > 0 ? ` (${warned} warning${warned > 1 ? 's' : ''})` : ''}` : `${failed} check${failed > 1 ? 's' : ''} failed`)
  return lines.join('\n')
}
