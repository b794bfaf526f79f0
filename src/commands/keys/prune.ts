import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {projectFlags} from '../../cli/flags.js'
import {pruneProjectKeys} from '../../keys/project.js'

export default class KeysPrune extends BaseCommand<typeof KeysPrune> {
  static override description =
    'Remove retired keys whose drain window (token TTL + clock skew + verifier JWKS refresh + Oathkeeper JWKS reload, from iam.yaml) has passed. Never removes the signing key.'
  static override examples = [
    '<%= config.bin %> keys prune --dry-run',
    '<%= config.bin %> keys prune',
    '<%= config.bin %> keys prune --force   # also keys still draining: tokens they signed stop verifying',
  ]
  static override flags = {
    ...projectFlags,
    'dry-run': Flags.boolean({description: 'Show what would be removed; change nothing.'}),
    force: Flags.boolean({description: 'Also remove retired keys still inside their drain window.'}),
  }

  async run(): Promise<Awaited<ReturnType<typeof pruneProjectKeys>>> {
    const report = await pruneProjectKeys({dir: this.flags.dir, file: this.flags.file, dryRun: this.flags['dry-run'], force: this.flags.force})
    for (const k of report.early) {
      this.reporter.warn(`${report.dryRun ? 'would prune' : 'pruned'} ${k.kid} before its drain window ends (${k.prunableAt}): tokens it signed that are still valid will be rejected with unknown_kid`)
    }
    if (!this.jsonEnabled()) {
      const verb = report.dryRun ? 'would remove' : 'removed'
      if (report.pruned.length === 0) this.log('nothing to prune')
      for (const k of report.pruned) this.log(`${verb} ${k.kid} (${k.alg}, retired ${k.retiredAt})`)
      for (const k of report.kept.filter((s) => s.role === 'verify-only')) this.log(`kept ${k.kid}: draining until ${k.prunableAt}`)
    }
    return report
  }
}
