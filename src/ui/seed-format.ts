/** Pure text renderer of a seed report, shared by `iam seed` and `iam up --seed`. Never prints passwords. */
import type {SeedReport} from '../seed/apply.js'

export function formatSeedReport(report: SeedReport): string {
  const lines: string[] = []
  for (const i of report.identities.identities) {
    if (i.status === 'failed') lines.push(`identity ${i.email || `#${(i.index ?? 0) + 1}`}: failed: ${i.error}`)
  }
  for (const t of report.tuples.entries) if (t.status === 'failed') lines.push(`tuple ${t.line} (${t.input}): failed: ${t.error}`)
  const id = report.identities
  const tu = report.tuples
  lines.push(`identities: ${id.created} created, ${id.existing} existing, ${id.failed} failed`, `tuples: ${tu.created} created, ${tu.existing} existing, ${tu.failed} failed`)
  return lines.join('\n')
}
