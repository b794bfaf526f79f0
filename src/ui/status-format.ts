/** Pure text renderers for `iam status` and the summary `iam up` prints. Never prints secret values. */
import type {Endpoint} from '../plan/services.js'
import type {StatusReport} from '../runtime/types.js'

/** Left-aligned columns separated by two spaces; the header row first. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n') + '\n'
}

export function formatStatusTable(report: StatusReport): string {
  const rows = report.services.map((s) => [
    s.name,
    s.state,
    s.pid !== undefined ? String(s.pid) : (s.container ?? '-'),
    Object.entries(s.ports)
      .map(([name, port]) => `${name}:${port}`)
      .join(' ') || '-',
    s.version ?? '-',
    s.health ?? '-',
  ])
  const idHeader = report.runtime === 'compose' ? 'CONTAINER' : 'PID'
  const summary = report.healthy ? 'all services ready' : `${report.services.filter((s) => s.state !== 'ready').map((s) => `${s.name} ${s.state}`).join(', ')}`
  return `${formatTable(['SERVICE', 'STATE', idHeader, 'PORTS', 'VERSION', 'HEALTH'], rows)}\n${report.runtime} runtime, project ${report.project}: ${summary}\n`
}

/** `KEY=value` lines ready for `>> .env` / `$GITHUB_ENV`. */
export function formatEnv(list: Endpoint[]): string {
  return list.map((e) => `${e.env}=${e.url}`).join('\n') + '\n'
}

export function formatEndpoints(list: Endpoint[], o: {secretsFile: string}): string {
  const table = formatTable(
    ['ENDPOINT', 'URL'],
    list.map((e) => [e.label, e.url]),
  )
  return `${table}\nSecrets: ${o.secretsFile} (mode 0600; values are never printed)\n`
}
