import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {hydraFlags} from '../../cli/flags.js'
import {rotateSecret, withHydra, type MachineClient} from '../../clients/index.js'

export default class ClientsRotateSecret extends BaseCommand<typeof ClientsRotateSecret> {
  static override summary = "Replace a machine client's secret and print the new one, once."
  static override description = `The old secret is refused from now on (invalid_client); access tokens already issued stay valid until they
expire — revoke them too with \`iam clients revoke <id>\` when the old secret leaked.`
  static override examples = ['<%= config.bin %> clients rotate-secret billing-worker', 'NEW=$(<%= config.bin %> clients rotate-secret billing-worker -q)']
  static override args = {id: Args.string({description: 'The client id.', required: true})}
  static override flags = {...hydraFlags}

  async run(): Promise<{client: MachineClient; secret: string}> {
    const result = await withHydra(this.flags, (hydra) => rotateSecret(hydra, this.args.id))
    if (!this.jsonEnabled()) {
      this.log(`new secret for ${result.client.id} (shown once; the old one no longer works):`)
      this.logValue(result.secret)
    }
    return result
  }
}
