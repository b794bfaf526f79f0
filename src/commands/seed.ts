import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {usageError} from '../errors.js'
import {applySeed, type SeedReport} from '../seed/apply.js'
import {oryFlags} from '../cli/flags.js'
import {withOry} from '../admin/context.js'
import {formatSeedReport} from '../ui/seed-format.js'

export default class Seed extends BaseCommand<typeof Seed> {
  static override description = `Apply the seed: section of iam.yaml: identities (with their roles), tuples, then machine clients
(in Hydra, with hydra.enabled; a client's secret is a \${VAR} and is never printed). Idempotent.

Passwords may be \${ENV_VAR} references, resolved from the environment at this point. A tuple may name a seeded
identity by email (Tenant:acme#member@email:ada@example.com): it is written with that identity's id. Exit code 1 when
some entry failed (the rest is still applied), 2 when iam.yaml is invalid (e.g. a tuple naming an undeclared
namespace or an email not in seed.identities, with its line), 3 when Kratos or Keto is unreachable.`

  static override examples = ['<%= config.bin %> seed', '<%= config.bin %> seed -C ./my-project --json']

  static override flags = {
    'schema-id': Flags.string({description: 'Identity schema id for new identities.', default: 'default'}),
    ...oryFlags,
  }

  async run(): Promise<SeedReport> {
    const report = await withOry(this.flags, ({keto, kratos, hydra, hydraPublic}, ctx) => {
      if (!ctx.config) throw usageError('CONFIG_NOT_FOUND', 'No iam.yaml here: iam seed applies its seed: section.', {suggestion: 'Run it in the project directory, pass -C <dir>, or run iam init.'})
      return applySeed({keto, kratos, hydra, hydraPublic, shape: ctx.roles, schemaId: this.flags['schema-id']}, ctx.config.seed)
    })
    if (!this.jsonEnabled()) this.log(formatSeedReport(report))
    if (report.failed) process.exitCode = 1
    return report
  }
}
