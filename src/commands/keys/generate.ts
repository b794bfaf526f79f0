import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {generateJwksFile} from '../../keys/generate.js'
import {projectFlags} from '../../cli/flags.js'
import {KEY_ALGORITHMS, publicJwk, signingKey, type KeyAlgorithm} from '../../keys/jwks.js'
import {keyFilePath, loadTokenSettings} from '../../keys/settings.js'
import {readKeySet} from '../../keys/store.js'
import {serializeKeySet} from '../../keys/jwks.js'

export default class KeysGenerate extends BaseCommand<typeof KeysGenerate> {
  static override description =
    'Generate the JWKS Oathkeeper signs id_tokens with: one RS256 (2048-bit) or ES256 key, written atomically with mode 0600. Prints only public information unless --reveal.'
  static override examples = [
    '<%= config.bin %> keys generate',
    '<%= config.bin %> keys generate --algorithm ES256 --dir ./my-project',
    '<%= config.bin %> keys generate --file ./jwks.json --force --json',
  ]
  static override flags = {
    ...projectFlags,
    algorithm: Flags.string({char: 'a', description: 'Signing algorithm. Default: tokens.algorithm from iam.yaml (RS256).', options: [...KEY_ALGORITHMS]}),
    force: Flags.boolean({description: 'Replace an existing key file (tokens signed with its keys stop verifying; prefer `iam keys rotate`).'}),
    reveal: Flags.boolean({description: 'Also print the private JWKS on stdout.'}),
  }

  async run(): Promise<{file: string; kid: string; alg: string; publicJwk: Record<string, string>; privateJwks?: unknown}> {
    const file = keyFilePath(this.flags.dir, this.flags.file)
    const algorithm = (this.flags.algorithm as KeyAlgorithm | undefined) ?? (await loadTokenSettings(this.flags.dir)).algorithm
    if (this.flags.force) this.reporter.warn(`replacing ${file}: tokens signed with its keys will no longer verify`)
    const {kid, alg} = await generateJwksFile(file, {algorithm, force: this.flags.force})
    const set = await readKeySet(file)
    const result = {file, kid, alg, publicJwk: publicJwk(signingKey(set)), ...(this.flags.reveal ? {privateJwks: JSON.parse(serializeKeySet(set)) as unknown} : {})}
    if (!this.jsonEnabled()) {
      this.log(`generated ${alg} signing key ${kid}`)
      this.log(`  file: ${file} (mode 0600)`)
      // Asked for by name: printed with -q too.
      if (this.flags.reveal) this.logValue(serializeKeySet(set).trimEnd())
    }
    return result
  }
}
