import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {durationFlag, projectFlags} from '../../cli/flags.js'
import {verifyProjectToken, type VerifyReport} from '../../token/project.js'

export default class TokenVerify extends BaseCommand<typeof TokenVerify> {
  static override description = `Verify a token and print its claims, or the exact reason it is rejected (exit 1):
invalid_signature, unknown_kid, expired, not_yet_valid, audience_mismatch, issuer_mismatch, malformed, replay (jwks_unavailable when the key set cannot be fetched).`
  static override examples = [
    '<%= config.bin %> token verify eyJhbGciOi...',
    '<%= config.bin %> token verify "$TOKEN" --aud orders-api --iss http://127.0.0.1:4455/',
    '<%= config.bin %> token verify "$TOKEN" --jwks http://127.0.0.1:4456/.well-known/jwks.json --json',
    'echo "$TOKEN" | <%= config.bin %> token verify -',
  ]
  static override args = {
    jwt: Args.string({description: 'The token, or - to read it from stdin.', required: true}),
  }
  static override flags = {
    ...projectFlags,
    jwks: Flags.string({description: 'JWKS URL (e.g. Oathkeeper /.well-known/jwks.json) or file. Default: the project key file.'}),
    aud: Flags.string({description: 'Required audience (repeatable: any of).', multiple: true}),
    iss: Flags.string({description: 'Required issuer (default: tokens.issuer of the project\'s iam.yaml; unchecked outside a project).'}),
    skew: durationFlag({description: 'Tolerated clock skew, e.g. 5s (0s: none). Default: tokens.clockSkew from iam.yaml.', min: 0}),
  }

  async run(): Promise<VerifyReport> {
    const jwt = this.args.jwt === '-' ? await readStdin() : this.args.jwt
    const report = await verifyProjectToken({
      dir: this.flags.dir,
      file: this.flags.file,
      token: jwt.trim(),
      jwks: this.flags.jwks,
      audience: this.flags.aud,
      issuer: this.flags.iss,
      skewMs: this.flags.skew,
    })
    if (!this.jsonEnabled()) {
      this.log(JSON.stringify(report.claims, null, 2))
      for (const note of report.unchecked) this.reporter.warn(note)
    }
    return report
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
