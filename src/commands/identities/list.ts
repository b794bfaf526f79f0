import {BaseCommand} from '../../cli/base-command.js'
import {oryFlags} from '../../cli/flags.js'
import {withOry} from '../../admin/context.js'
import {identityEmail} from '../../admin/grants.js'
import {currentRoles} from '../../roles/sync.js'

interface IdentityRow {
  id: string
  email?: string
  state?: string
  roles: string[]
}

export default class IdentitiesList extends BaseCommand<typeof IdentitiesList> {
  static override description = 'List Kratos identities (all pages) with the roles stored in their metadata_public.'

  static override examples = ['<%= config.bin %> identities list', '<%= config.bin %> identities list --json']

  static override flags = {...oryFlags}

  async run(): Promise<{identities: IdentityRow[]; count: number}> {
    const identities = await withOry(this.flags, ({kratos}) => kratos.listAll())
    const rows = identities.map((i) => {
      const email = identityEmail(i)
      return {id: i.id, ...(email ? {email} : {}), ...(typeof i.state === 'string' ? {state: i.state} : {}), roles: currentRoles(i) ?? []}
    })
    if (!this.jsonEnabled()) {
      if (rows.length === 0) this.log('no identities')
      for (const r of rows) this.log(`${r.id}  ${r.email ?? '-'}  [${r.roles.join(', ')}]${r.state && r.state !== 'active' ? `  (${r.state})` : ''}`)
    }
    return {identities: rows, count: rows.length}
  }
}
