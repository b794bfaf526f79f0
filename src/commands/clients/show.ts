import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {hydraFlags} from '../../cli/flags.js'
import {showClient, withHydra, type MachineClient} from '../../clients/index.js'
import {formatClient} from '../../ui/clients-format.js'

export default class ClientsShow extends BaseCommand<typeof ClientsShow> {
  static override summary = 'Show one machine client: scopes, audience, metadata, token lifetime (never its secret).'
  static override description = 'Exit 1 with CLIENT_NOT_FOUND when Hydra has no client with this id.'
  static override examples = ['<%= config.bin %> clients show billing-worker', '<%= config.bin %> clients show billing-worker --json']
  static override args = {id: Args.string({description: 'The client id.', required: true})}
  static override flags = {...hydraFlags}

  async run(): Promise<{client: MachineClient}> {
    const client = await withHydra(this.flags, (hydra) => showClient(hydra, this.args.id))
    if (!this.jsonEnabled()) this.log(formatClient(client))
    return {client}
  }
}
