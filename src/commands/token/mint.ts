import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {durationFlag, projectFlags} from '../../cli/flags.js'
import {mintProjectToken, type MintReport} from '../../token/project.js'

export default class TokenMint extends BaseCommand<typeof TokenMint> {
  static override description =
    "Mint a token shaped like Oathkeeper's id_token (iss, sub, aud, iat, nbf, exp, jti; kid header), signed with the current signing key, to test services without the gateway. Prints the token on stdout."
  static override examples = [
    '<%= config.bin %> token mint --sub user-123 --aud orders-api',
    '<%= config.bin %> token mint --sub user-123 --aud admin-api --role admin --ttl 5m',
    `<%= config.bin %> token mint --sub user-123 --aud orders-api --claims '{"tenant":"acme"}' --json`,
    'curl -H "Authorization: Bearer $(<%= config.bin %> token mint --sub u1 --aud orders-api)" http://127.0.0.1:8080/orders',
  ]
  static override flags = {
    ...projectFlags,
    sub: Flags.string({description: 'Subject (the identity id).', required: true}),
    aud: Flags.string({description: 'Audience (repeatable): the route audience the service expects.', required: true, multiple: true}),
    role: Flags.string({description: 'A role for the `roles` claim (repeatable; the claim is present when roles are enabled in iam.yaml).', multiple: true}),
    claims: Flags.string({description: 'Extra claims as a JSON object; they win over --role.'}),
    ttl: durationFlag({description: 'Lifetime, e.g. 60s or 5m. Default: tokens.ttl from iam.yaml.'}),
    iss: Flags.string({description: 'Issuer. Default: tokens.issuer from iam.yaml.'}),
  }

  async run(): Promise<MintReport> {
    const report = await mintProjectToken({
      dir: this.flags.dir,
      file: this.flags.file,
      subject: this.flags.sub,
      audience: this.flags.aud,
      claimsJson: this.flags.claims,
      roles: this.flags.role,
      ttlMs: this.flags.ttl,
      issuer: this.flags.iss,
    })
    if (!this.jsonEnabled()) this.logValue(report.token)
    return report
  }
}
