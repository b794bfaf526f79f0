/** Text of `iam clients list` and `show`. Pure; secrets are never part of a MachineClient. */
import type {MachineClient} from '../clients/index.js'

const metadataText = (m: Record<string, string>): string =>
  Object.entries(m)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')

export function formatClients(clients: MachineClient[]): string {
  if (clients.length === 0) return 'no machine clients (create one with `iam clients create <id> --scope …`)'
  const rows = clients.map((c) => [c.id, c.scopes.join(' ') || '-', metadataText(c.metadata) || '-', c.tokenTtl ?? 'default'])
  const header = ['CLIENT', 'SCOPES', 'METADATA', 'TOKEN TTL']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  return [header, ...rows].map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n')
}

export function formatClient(c: MachineClient): string {
  return [
    `client    ${c.id}${c.name !== c.id ? ` (${c.name})` : ''}`,
    `scopes    ${c.scopes.join(' ') || '-'}`,
    `audience  ${c.audience.join(' ') || '-'}`,
    `metadata  ${metadataText(c.metadata) || '-'}`,
    `token ttl ${c.tokenTtl ?? 'hydra.accessTokenTtl'}`,
    ...(c.createdAt ? [`created   ${c.createdAt}`] : []),
  ].join('\n')
}
