import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {formatDuration} from '../../config/duration.js'
import {hydraFlags} from '../../cli/flags.js'
import {revokeTokens, withHydra} from '../../clients/index.js'

export default class ClientsRevoke extends BaseCommand<typeof ClientsRevoke> {
  static override summary = "Revoke every token a machine client holds."
  static override description = `Hydra forgets the client's access tokens at once; the gateway refuses them (401) at most
hydra.introspectionCache later (default 5s). The client itself stays: it can ask for new tokens with its secret.`
  static override examples = ['<%= config.bin %> clients revoke billing-worker']
  static override args = {id: Args.string({description: 'The client id.', required: true})}
  static override flags = {...hydraFlags}

  async run(): Promise<{id: string; revoked: true; refusedWithinMs?: number}> {
    const {bound} = await withHydra(this.flags, async (hydra, ctx) => {
      await revokeTokens(hydra, this.args.id)
      return {bound: ctx.config?.hydra.introspectionCacheMs}
    })
    this.log(`revoked the tokens of ${this.args.id}${bound === undefined ? '' : `; the gateway refuses them within ${formatDuration(bound)}`}`)
    return {id: this.args.id, revoked: true, ...(bound === undefined ? {} : {refusedWithinMs: bound})}
  }
}
