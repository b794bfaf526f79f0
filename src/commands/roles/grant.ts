import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {oryFlags} from '../../cli/flags.js'
import {withOry} from '../../admin/context.js'
import {grantRole, type GrantResult} from '../../admin/grants.js'

export default class RolesGrant extends BaseCommand<typeof RolesGrant> {
  static override description =
    'Grant a role to a user (idempotent): writes Role:<role>#member@<identity id> to Keto and refreshes the identity\'s metadata_public.roles at once.'

  static override examples = [
    '<%= config.bin %> roles grant alice@example.com admin',
    '<%= config.bin %> roles grant 4f1c8a52-0d0e-4a8e-9d59-3f5a0c2b1e77 editor --json',
    '<%= config.bin %> roles grant bob@example.com admin --kratos-admin-url http://127.0.0.1:4434 --keto-write-url http://127.0.0.1:4467',
  ]

  static override args = {
    user: Args.string({description: 'Email (or other login identifier) or Kratos identity id.', required: true}),
    role: Args.string({description: 'Role name, e.g. admin.', required: true}),
  }

  static override flags = {...oryFlags}

  async run(): Promise<GrantResult> {
    const result = await withOry(this.flags, ({keto, kratos}, ctx) => grantRole({keto, kratos, shape: ctx.roles}, this.args.user, this.args.role))
    if (!this.jsonEnabled()) {
      const who = result.email ?? result.identityId
      this.log(result.status === 'created' ? `granted ${result.role} to ${who}` : `${who} already has ${result.role}`)
      this.log(`  metadata_public.roles: [${result.roles.join(', ')}]${result.metadataChanged ? ' (updated)' : ''}`)
    }
    return result
  }
}
