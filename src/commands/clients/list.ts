import {BaseCommand} from '../../cli/base-command.js'
import {hydraFlags} from '../../cli/flags.js'
import {listClients, withHydra, type MachineClient} from '../../clients/index.js'
import {formatClients} from '../../ui/clients-format.js'

export default class ClientsList extends BaseCommand<typeof ClientsList> {
  static override summary = "List the machine clients in Hydra (never their secrets)."
  static override examples = ['<%= config.bin %> clients list', '<%= config.bin %> clients list --json']
  static override flags = {...hydraFlags}

  async run(): Promise<{clients: MachineClient[]}> {
    const clients = await withHydra(this.flags, (hydra) => listClients(hydra))
    if (!this.jsonEnabled()) this.log(formatClients(clients))
    return {clients}
  }
}
