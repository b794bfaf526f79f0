/** Pure text renderer of `iam smoke`: one line per step (status, id, time, what was found; the fix indented below a
 * failure or a warning) and the closing summary line. */
import type {SmokeReport, SmokeStep, StepStatus} from '../smoke/index.js'

const MARK: Record<StepStatus, string> = {ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skipped: 'skip'}

export function formatSmokeStep(step: SmokeStep): string {
  const head = `${MARK[step.status]}  ${step.id.padEnd(16)} ${`${step.ms}ms`.padStart(7)}  ${step.message}`
  return step.fix && (step.status === 'fail' || step.status === 'warn') ? `${head}\n${' '.repeat(32)}fix: ${step.fix}` : head
}

export function formatSmokeSummary(report: SmokeReport): string {
  const count = (status: StepStatus): number => report.steps.filter((s) => s.status === status).length
  const extra = [count('warn') > 0 ? `${count('warn')} warning(s)${report.strict ? ', failing under --strict' : ''}` : '', count('skipped') > 0 ? `${count('skipped')} skipped` : '', report.stubbed.length > 0 ? `stub upstream(s): ${report.stubbed.join(', ')}` : '']
    .filter(Boolean)
    .join(', ')
  const tail = extra ? ` (${extra})` : ''
  if (!report.ok) return `smoke: ${count('fail') + (report.strict ? count('warn') : 0)} step(s) failed${tail}`
  if (count('warn') > 0) return `smoke: no step failed, but not every step is ok${tail} (project ${report.project})`
  return `smoke: every step ok${tail} (project ${report.project})`
}
