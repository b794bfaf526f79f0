/** The smoke report as the Markdown table a GitHub Actions job shows (`$GITHUB_STEP_SUMMARY`): status, step, message. */
import type {SmokeReport, StepStatus} from './index.js'

const ICON: Record<StepStatus, string> = {ok: '✅ ok', warn: '⚠️ warning', fail: '❌ fail', skipped: '⏭️ skipped'}

function cell(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('|', '\\|').replaceAll(/\r?\n/g, '<br>')
}

export function renderStepSummary(report: SmokeReport): string {
  const count = (status: StepStatus): number => report.steps.filter((s) => s.status === status).length
  const verdict = report.ok ? 'passed' : 'failed'
  const rows = report.steps.map((s) => `| ${ICON[s.status]} | \`${cell(s.id)}\` | ${cell(s.fix && s.status !== 'ok' ? `${s.message}<br>fix: ${s.fix}` : s.message)} |`)
  return [
    `### iam smoke (${cell(report.project)}): ${verdict}`,
    '',
    `${count('ok')} ok, ${count('warn')} warning(s), ${count('fail')} failed, ${count('skipped')} skipped${report.strict ? ' (--strict: warnings fail)' : ''}`,
    '',
    '| status | step | message |',
    '| --- | --- | --- |',
    ...rows,
    '',
    '',
  ].join('\n')
}
