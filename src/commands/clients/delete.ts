import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {hydraFlags} from '../../cli/flags.js'
import {deleteClient, withHydra} from '../../clients/index.js'

export default class ClientsDelete extends BaseCommand<typeof ClientsDelete> {
  static override summary = 'Delete a machine client: its secret and its tokens stop working.'
  static override description = `The gateway refuses its tokens within hydra.introspectionCache (a cached introspection answer lives that long).
Exit 1 with CLIENT_NOT_FOUND when there is no such client, unless --if-exists.`
  static override examples = ['<%= config.bin %> clients delete billing-worker', '<%= config.bin %> clients delete billing-worker --if-exists --json']
  static override args = {id: Args.string({description: 'The client id.', required: true})}
  static override flags = {
    'if-exists': Flags.boolean({description: 'Succeed (deleted: false) when there is no such client.'}),
    ...hydraFlags,
  }

  async run(): Promise<{id: string; deleted: boolean}> {
    const {deleted} = await withHydra(this.flags, (hydra) => deleteClient(hydra, this.args.id, {ifExists: this.flags['if-exists']}))
    this.log(deleted ? `deleted client ${this.args.id}` : `no client ${this.args.id}: nothing to delete`)
    return {id: this.args.id, deleted}
  }
}
