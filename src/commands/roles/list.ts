import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {oryFlags} from '../../cli/flags.js'
import {withOry} from '../../admin/context.js'
import {listRoleAssignments, type RoleAssignment} from '../../admin/grants.js'

export default class RolesList extends BaseCommand<typeof RolesList> {
  static override description = 'List role assignments from Keto (all pages), optionally for one user or one role.'

  static override examples = [
    '<%= config.bin %> roles list',
    '<%= config.bin %> roles list --user alice@example.com',
    '<%= config.bin %> roles list --role admin --json',
  ]

  static override flags = {
    user: Flags.string({char: 'u', description: 'Only this user (email or identity id).'}),
    role: Flags.string({char: 'r', description: 'Only this role.'}),
    ...oryFlags,
  }

  async run(): Promise<{assignments: RoleAssignment[]}> {
    const assignments = await withOry(this.flags, ({keto, kratos}, ctx) =>
      listRoleAssignments({keto, kratos, shape: ctx.roles}, {user: this.flags.user, role: this.flags.role}),
    )
    if (!this.jsonEnabled()) {
      if (assignments.length === 0) this.log('no role assignments')
      const width = Math.max(4, ...assignments.map((a) => a.role.length))
      for (const a of assignments) this.log(`${a.role.padEnd(width)}  ${a.email ? `${a.email} (${a.subject})` : a.subject}`)
    }
    return {assignments}
  }
}
