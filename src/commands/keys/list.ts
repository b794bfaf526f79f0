import {BaseCommand} from '../../cli/base-command.js'
import {projectFlags} from '../../cli/flags.js'
import {listProjectKeys} from '../../keys/project.js'
import type {KeyStatus} from '../../keys/jwks.js'

export default class KeysList extends BaseCommand<typeof KeysList> {
  static override description =
    'List the id_token signing keys: kid, algorithm, created, and role (signing / verify-only until … / prunable since …).'
  static override examples = ['<%= config.bin %> keys list', '<%= config.bin %> keys list --json', '<%= config.bin %> keys list --file ./jwks.json']
  static override flags = {...projectFlags}

  async run(): Promise<Awaited<ReturnType<typeof listProjectKeys>>> {
    const report = await listProjectKeys({dir: this.flags.dir, file: this.flags.file})
    if (!this.jsonEnabled()) {
      const rows = report.keys.map((k) => [k.kid, k.alg, k.createdAt, describeRole(k)])
      const header = ['KID', 'ALG', 'CREATED', 'ROLE']
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)))
      for (const row of [header, ...rows]) this.log(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] as number))).join('  '))
      this.reporter.info(`drain window ${report.drainWindow} (from ${report.settingsSource})`)
    }
    return report
  }
}

function describeRole(k: KeyStatus): string {
  if (k.role === 'signing') return 'signing'
  if (k.role === 'prunable') return `prunable (since ${k.prunableAt})`
  return `verify-only (prunable at ${k.prunableAt})`
}
