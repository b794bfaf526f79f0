import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {oryFlags} from '../../cli/flags.js'
import {withOry} from '../../admin/context.js'
import {listIdentityRoles, listRoleAssignments, type IdentityRoles, type RoleAssignment} from '../../admin/grants.js'
import {usageError} from '../../errors.js'

export default class RolesList extends BaseCommand<typeof RolesList> {
  static override description = `List role assignments from Keto (all pages), optionally only one role.

With a user (email or identity id): that identity's roles, read from Keto (the email is looked up in Kratos).`

  static override examples = [
    {description: 'Every assignment', command: '<%= config.bin %> roles list'},
    {description: "One identity's roles", command: '<%= config.bin %> roles list alice@example.com'},
    {description: 'By identity id, as JSON', command: '<%= config.bin %> roles list 4f1c8a52-0d0e-4a8e-9d59-3f5a0c2b1e77 --json'},
    {description: 'Who has one role', command: '<%= config.bin %> roles list --role admin --json'},
  ]

  static override args = {
    user: Args.string({description: 'Email (or other login identifier) or Kratos identity id: list only its roles.'}),
  }

  static override flags = {
    user: Flags.string({char: 'u', description: 'Only this user (email or identity id); the same as the argument.'}),
    role: Flags.string({char: 'r', description: 'Only this role.'}),
    ...oryFlags,
  }

  async run(): Promise<{assignments: RoleAssignment[]} | IdentityRoles> {
    if (this.args.user !== undefined && this.flags.user !== undefined && this.args.user !== this.flags.user) {
      throw usageError('USAGE', `Two users: the argument ${this.args.user} and --user ${this.flags.user}.`, {suggestion: 'Pass one: iam roles list <email|id>.'})
    }
    const user = this.args.user ?? this.flags.user
    if (user !== undefined && this.flags.role === undefined) {
      // One identity: its roles, and its assignments as before (so `--user` keeps its JSON).
      const result = await withOry(this.flags, ({keto, kratos}, ctx) => listIdentityRoles({keto, kratos, shape: ctx.roles}, user))
      if (!this.jsonEnabled()) {
        this.log(`${result.email ? `${result.email} (${result.identityId})` : result.identityId}: ${result.roles.length === 0 ? 'no roles' : result.roles.join(', ')}`)
      }
      return result
    }
    const assignments = await withOry(this.flags, ({keto, kratos}, ctx) => listRoleAssignments({keto, kratos, shape: ctx.roles}, {user, role: this.flags.role}))
    if (!this.jsonEnabled()) {
      if (assignments.length === 0) this.log('no role assignments')
      const width = Math.max(4, ...assignments.map((a) => a.role.length))
      for (const a of assignments) this.log(`${a.role.padEnd(width)}  ${a.email ? `${a.email} (${a.subject})` : a.subject}`)
    }
    return {assignments}
  }
}
