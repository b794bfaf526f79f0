/** Pure text renderer of a seed report, shared by `iam seed` and `iam up --seed`. Never prints passwords. */
import type {SeedReport} from '../seed/apply.js'

export function formatSeedReport(report: SeedReport): string {
  const lines: string[] = []
  for (const i of report.identities.identities) {
    if (i.status === 'failed') lines.push(`identity ${i.email || `#${(i.index ?? 0) + 1}`}: failed: ${i.error}`)
  }
  for (const t of report.tuples.entries) if (t.status === 'failed') lines.push(`tuple ${t.line} (${t.input}): failed: ${t.error}`)
  for (const c of report.clients) if (c.status === 'failed') lines.push(`client ${c.id}: failed: ${c.error}`)
  const id = report.identities
  const tu = report.tuples
  lines.push(`identities: ${id.created} created, ${id.existing} existing, ${id.failed} failed`, `tuples: ${tu.created} created, ${tu.existing} existing, ${tu.failed} failed`)
  if (report.clients.length > 0) {
    const count = (s: string): number => report.clients.filter((c) => c.status === s).length
    lines.push(`clients: ${count('created')} created, ${count('updated')} updated, ${count('unchanged')} unchanged, ${count('failed')} failed`)
  }
  return lines.join('\n')
}
