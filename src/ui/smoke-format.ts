/** Pure text renderer of one `iam smoke` step: status, id, time, what was found; the fix indented below a failure. */
import type {SmokeStep, StepStatus} from '../smoke/index.js'

const MARK: Record<StepStatus, string> = {ok: 'ok  ', fail: 'FAIL', skipped: 'skip'}

export function formatSmokeStep(step: SmokeStep): string {
  const head = `${MARK[step.status]}  ${step.id.padEnd(16)} ${`${step.ms}ms`.padStart(7)}  ${step.message}`
  return step.fix && step.status === 'fail' ? `${head}\n${' '.repeat(32)}fix: ${step.fix}` : head
}
