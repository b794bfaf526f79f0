import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {oryFlags} from '../../cli/flags.js'
import {withOry} from '../../admin/context.js'
import {revokeRole, type GrantResult} from '../../admin/grants.js'

export default class RolesRevoke extends BaseCommand<typeof RolesRevoke> {
  static override description =
    'Revoke a role from a user (idempotent): deletes the Keto tuple and refreshes the identity\'s metadata_public.roles at once.'

  static override examples = [
    '<%= config.bin %> roles revoke alice@example.com admin',
    '<%= config.bin %> roles revoke 4f1c8a52-0d0e-4a8e-9d59-3f5a0c2b1e77 editor --json',
  ]

  static override args = {
    user: Args.string({description: 'Email (or other login identifier) or Kratos identity id.', required: true}),
    role: Args.string({description: 'Role name.', required: true}),
  }

  static override flags = {...oryFlags}

  async run(): Promise<GrantResult> {
    const result = await withOry(this.flags, ({keto, kratos}, ctx) => revokeRole({keto, kratos, shape: ctx.roles}, this.args.user, this.args.role))
    if (!this.jsonEnabled()) {
      const who = result.email ?? result.identityId
      this.log(result.status === 'deleted' ? `revoked ${result.role} from ${who}` : `${who} did not have ${result.role}`)
      this.log(`  metadata_public.roles: [${result.roles.join(', ')}]${result.metadataChanged ? ' (updated)' : ''}`)
    }
    return result
  }
}
