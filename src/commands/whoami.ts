import {Flags} from '@oclif/core'

import {resolveOryContext} from '../admin/context.js'
import {BaseCommand} from '../cli/base-command.js'
import {oryFlags} from '../cli/flags.js'
import {readStdinLine} from '../cli/secret-input.js'
import {usageError} from '../errors.js'
import {KratosPublicClient} from '../ory/kratos-client.js'
import {whoami, type WhoamiResult} from '../session/login.js'

export default class Whoami extends BaseCommand<typeof Whoami> {
  static override summary = 'Show the Kratos session behind a session token or a curl cookie jar.'

  static override description = `Asks Kratos (GET /sessions/whoami) who a session token from \`iam login\` (in $IAM_SESSION_TOKEN or on stdin
with --token-stdin, never a flag value) or a cookie jar from \`iam login --cookie-jar\` belongs to: the identity, its
roles, how and until when it is signed in. Exit 1 (SESSION_INVALID) when Kratos knows no active session for it.`

  static override examples = [
    {description: 'The token from iam login, in the environment', command: 'export IAM_SESSION_TOKEN=$(<%= config.bin %> login --email ada@example.com) && <%= config.bin %> whoami'},
    {description: 'A cookie jar', command: '<%= config.bin %> whoami --cookie-jar ada.jar --json'},
  ]

  static override flags = {
    'token-stdin': Flags.boolean({description: 'Read the session token from the first line of stdin.', exclusive: ['cookie-jar']}),
    'cookie-jar': Flags.string({description: 'A curl cookie jar written by iam login --cookie-jar.', helpValue: '<file>', exclusive: ['token-stdin']}),
    'kratos-public-url': Flags.string({description: 'Kratos public API. Default: from iam.yaml ports, else http://127.0.0.1:4433.', helpGroup: 'ORY'}),
    ...oryFlags,
  }

  async run(): Promise<WhoamiResult> {
    const {flags} = this
    const credential = flags['cookie-jar'] ? {cookieJar: flags['cookie-jar']} : {sessionToken: await this.token()}
    const ctx = await resolveOryContext(flags)
    const kratosPublic = new KratosPublicClient({publicUrl: ctx.kratosPublicUrl, timeoutMs: flags.timeout})
    try {
      const result = await whoami(kratosPublic, ctx.kratosPublicUrl, credential)
      if (!this.jsonEnabled()) {
        const {identity, session} = result
        this.log(`${identity.email ?? '(no email trait)'} (${identity.id})`)
        this.log(`  roles: [${identity.roles.join(', ')}]`)
        this.log(`  session ${session.id}: ${session.active ? 'active' : 'inactive'}, signed in with ${session.methods.join(', ') || '?'}${session.aal ? ` (${session.aal})` : ''}${session.expiresAt ? `, until ${session.expiresAt}` : ''}`)
      }
      return result
    } finally {
      await kratosPublic.close()
    }
  }

  private async token(): Promise<string> {
    if (this.flags['token-stdin']) {
      const line = (await readStdinLine()).trim()
      if (line) return line
      throw usageError('SESSION_TOKEN_MISSING', 'stdin held no session token.')
    }
    const token = process.env.IAM_SESSION_TOKEN?.trim()
    if (token) return token
    throw usageError('SESSION_TOKEN_MISSING', 'No session token: set IAM_SESSION_TOKEN, pipe it with --token-stdin, or pass --cookie-jar.', {suggestion: 'TOKEN=$(iam login --email <email>) gives one.'})
  }
}
