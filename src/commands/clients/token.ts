import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {hydraFlags} from '../../cli/flags.js'
import {readStdinLine} from '../../cli/secret-input.js'
import {issueToken, withHydra, type IssuedToken} from '../../clients/index.js'
import {ExitCode, IamError} from '../../errors.js'

/** Where `iam clients token` reads the secret when --secret-stdin is not given. */
export const CLIENT_SECRET_ENV = 'IAM_CLIENT_SECRET'

export default class ClientsToken extends BaseCommand<typeof ClientsToken> {
  static override summary = "Get an access token for a machine client (OAuth2 client_credentials) and print it."
  static override description = `Exchanges the client's id and secret at Hydra's token endpoint for an access token (opaque, ory_at_…) to
send to the gateway as \`Authorization: Bearer <token>\`. The secret comes from stdin (--secret-stdin) or
$${CLIENT_SECRET_ENV}, never from an argument. Without --scope the token holds every scope of the client.

No refresh token: the client-credentials grant issues none (RFC 6749 §4.4.3). When the token expires, ask for a new
one. Exit 1 with CLIENT_TOKEN_REFUSED (invalid_client: unknown client or wrong secret; invalid_scope).`

  static override examples = [
    {description: 'Call a machine route', command: 'TOKEN=$(pass show billing | <%= config.bin %> clients token billing-worker --secret-stdin) && curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:4455/machine/x'},
    {description: 'From the environment, as JSON', command: `${CLIENT_SECRET_ENV}=… <%= config.bin %> clients token billing-worker --scope demo:read --json`},
  ]

  static override args = {id: Args.string({description: 'The client id.', required: true})}
  static override flags = {
    'secret-stdin': Flags.boolean({description: `Read the client secret from the first line of stdin (default: $${CLIENT_SECRET_ENV}).`}),
    scope: Flags.string({char: 's', description: 'Ask for this scope only (repeatable). Default: all of the client\'s.', multiple: true}),
    audience: Flags.string({description: 'Ask for this audience (repeatable).', multiple: true}),
    ...hydraFlags,
  }

  async run(): Promise<IssuedToken> {
    const secret = this.flags['secret-stdin'] ? await readStdinLine() : process.env[CLIENT_SECRET_ENV]
    if (!secret) {
      throw new IamError('CLIENT_SECRET_MISSING', `No client secret: ${this.flags['secret-stdin'] ? 'stdin was empty' : `$${CLIENT_SECRET_ENV} is not set`}.`, {
        exitCode: ExitCode.Usage,
        suggestion: `Pipe it in with --secret-stdin or set ${CLIENT_SECRET_ENV}; it is never an argument (the process list and shell history would keep it).`,
      })
    }
    const token = await withHydra(this.flags, (hydra) => issueToken(hydra, {id: this.args.id, secret, scopes: this.flags.scope, audience: this.flags.audience}))
    if (!this.jsonEnabled()) this.logValue(token.accessToken)
    return token
  }
}
