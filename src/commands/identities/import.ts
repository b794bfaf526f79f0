import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {oryFlags} from '../../cli/flags.js'
import {withOry} from '../../admin/context.js'
import {importIdentities, readIdentityFile, type ImportReport} from '../../admin/identities.js'

export default class IdentitiesImport extends BaseCommand<typeof IdentitiesImport> {
  static override description = `Import identities from a YAML or JSON file (idempotent).

The file is a list — or {identities: [...]} — of {email, password?, name?, traits?, roles?, metadata_public?,
metadata_admin?}. Every record is checked before anything is written: an unknown key (with a did-you-mean), a
missing or bad email, … refuses the whole file (IDENTITY_FILE_INVALID, exit 2, each problem as file:line:col).
Identities whose email exists are kept as they are; their missing roles are granted. A record Kratos refuses is
reported and the rest imported: exit code 1 when any failed.`

  static override examples = [
    '<%= config.bin %> identities import users.yaml',
    '<%= config.bin %> identities import users.json --json',
  ]

  static override args = {
    file: Args.string({description: 'YAML or JSON file.', required: true}),
  }

  static override flags = {
    'schema-id': Flags.string({description: 'Identity schema id for new identities.', default: 'default'}),
    ...oryFlags,
  }

  async run(): Promise<ImportReport> {
    const entries = await readIdentityFile(this.args.file)
    const report = await withOry(this.flags, ({keto, kratos}, ctx) => importIdentities({keto, kratos, shape: ctx.roles, schemaId: this.flags['schema-id']}, entries))
    if (!this.jsonEnabled()) {
      for (const i of report.identities) {
        if (i.status === 'failed') this.log(`entry ${i.index! + 1}${i.line ? ` (line ${i.line})` : ''}${i.email ? ` ${i.email}` : ''}: failed: ${i.error}`)
        else this.log(`${i.status}: ${i.email} (${i.id}) roles [${(i.roles ?? []).join(', ')}]`)
      }
      this.log(`${report.created} created, ${report.existing} existing, ${report.failed} failed`)
    }
    if (report.failed > 0) process.exitCode = 1
    return report
  }
}

