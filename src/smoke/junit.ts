/**
 * The smoke report as JUnit XML, the shape GitLab's `artifacts:reports:junit` and GitHub test-report actions read:
 * one `testcase` per step, named by the step id (unique in a report). A failed step is a `<failure>` whose message is
 * the step's message and whose text adds the fix; a skipped step is `<skipped>`. A warning is a passed case with the
 * warning in `<system-out>` (readers count `<skipped>` as not run), unless the run was `--strict`, where it fails.
 */
import type {SmokeReport, SmokeStep} from './index.js'

function xml(text: string): string {
  return text
    .replaceAll(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/gu, '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
}

function detail(step: SmokeStep): string {
  return step.fix ? `${step.message}\nfix: ${step.fix}` : step.message
}

function testcase(step: SmokeStep, strict: boolean): string {
  const head = `    <testcase classname="iam.smoke" name="${xml(step.id)}" time="${(step.ms / 1000).toFixed(3)}"`
  if (step.status === 'fail' || (step.status === 'warn' && strict)) {
    return `${head}>\n      <failure message="${xml(step.message)}" type="${step.status}">${xml(detail(step))}</failure>\n    </testcase>`
  }
  if (step.status === 'skipped') return `${head}>\n      <skipped message="${xml(step.message)}"/>\n    </testcase>`
  if (step.status === 'warn') return `${head}>\n      <system-out>${xml(`warning: ${detail(step)}`)}</system-out>\n    </testcase>`
  return `${head}>\n      <system-out>${xml(step.message)}</system-out>\n    </testcase>`
}

export function renderJunit(report: SmokeReport): string {
  const failures = report.steps.filter((s) => s.status === 'fail' || (s.status === 'warn' && report.strict)).length
  const skipped = report.steps.filter((s) => s.status === 'skipped').length
  const time = (report.steps.reduce((sum, s) => sum + s.ms, 0) / 1000).toFixed(3)
  const counts = `tests="${report.steps.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${time}"`
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="iam smoke" ${counts}>`,
    `  <testsuite name="iam smoke (${xml(report.project)})" ${counts}>`,
    ...report.steps.map((s) => testcase(s, report.strict)),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n')
}
