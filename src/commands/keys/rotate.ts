import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {projectFlags} from '../../cli/flags.js'
import {KEY_ALGORITHMS, type KeyAlgorithm} from '../../keys/jwks.js'
import {rotateProjectKeys, type RotateReport} from '../../keys/project.js'

export default class KeysRotate extends BaseCommand<typeof KeysRotate> {
  static override description = `Make a new key the id_token signing key without failing a request.

The new key is appended last in the JWKS (the key Oathkeeper signs with); the previous keys stay published for verification until \`iam keys prune\`. The file is replaced atomically (mode 0600). The running Oathkeeper picks the new key up by itself within its JWKS reload TTL (authenticators.jwt.config.jwks_ttl): no restart.`
  static override examples = [
    '<%= config.bin %> keys rotate',
    '<%= config.bin %> keys rotate --algorithm ES256',
    '<%= config.bin %> keys rotate --dir ./my-project --json',
  ]
  static override flags = {
    ...projectFlags,
    algorithm: Flags.string({char: 'a', description: "Algorithm of the new key. Default: the current signing key's.", options: [...KEY_ALGORITHMS]}),
  }

  async run(): Promise<RotateReport> {
    const report = await rotateProjectKeys({dir: this.flags.dir, file: this.flags.file, algorithm: this.flags.algorithm as KeyAlgorithm | undefined})
    if (!this.jsonEnabled()) {
      this.log(`new signing key: ${report.kid} (${report.alg})`)
      this.log(`previous key ${report.previousKid} is now verify-only; prune it after ${report.prunableAt}`)
      this.log(`  drain window ${report.drainWindow}`)
      this.log(`Oathkeeper: ${report.reload.native}`)
      this.log(`compose: ${report.reload.compose}`)
    }
    return report
  }
}
