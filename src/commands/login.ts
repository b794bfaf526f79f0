import {Flags} from '@oclif/core'

import {resolveOryContext} from '../admin/context.js'
import {BaseCommand} from '../cli/base-command.js'
import {durationFlag, oryFlags} from '../cli/flags.js'
import {openInbox} from '../cli/mail-inbox.js'
import {readPassword} from '../cli/secret-input.js'
import {usageError} from '../errors.js'
import {KratosPublicClient} from '../ory/kratos-client.js'
import {login, type LoginResult} from '../session/login.js'

export default class Login extends BaseCommand<typeof Login> {
  static override summary = 'Sign in through Kratos and print a session token (or write a curl cookie jar).'

  static override description = `Signs in like a user would, through Kratos' self-service login flow, and prints the session token for
\`Authorization: Bearer\` — so a request through the gateway behaves exactly as the route says for that user:

  TOKEN=$(iam login --email ada@example.com)        # asks for the password without echoing it
  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:4455/admin/x

The password comes from the prompt, --password-stdin or --password-env (never a flag value). With --code, iam asks
Kratos to mail a one-time code and reads it from the mail catcher of \`iam up\` (kratos.methods.code must be on).
With --cookie-jar FILE, iam signs in through the browser flow instead and writes the session cookie as a curl cookie
jar (mode 0600) for \`curl -b FILE\`; nothing is printed then. The token and the jar are secrets: iam prints the token
only here and logs neither. \`iam whoami\` shows the session behind them. Exit 1 when Kratos refuses the login
(LOGIN_REFUSED), 3 when it cannot be reached.`

  static override examples = [
    {description: 'Sign in (password prompt) and call a session route', command: 'TOKEN=$(<%= config.bin %> login --email ada@example.com) && curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:4455/admin/x'},
    {description: 'From a secret store, through stdin', command: 'pass show iam/ada | <%= config.bin %> login --email ada@example.com --password-stdin'},
    {description: 'With the one-time code from the mail catcher', command: '<%= config.bin %> login --email ada@example.com --code'},
    {description: 'A cookie jar for curl', command: '<%= config.bin %> login --email ada@example.com --password-stdin --cookie-jar ada.jar < pw.txt && curl -b ada.jar http://127.0.0.1:4455/admin/x'},
  ]

  static override flags = {
    email: Flags.string({char: 'e', description: 'Email address (the login identifier).', required: true}),
    'password-stdin': Flags.boolean({description: 'Read the password from the first line of stdin.', exclusive: ['password-env', 'code']}),
    'password-env': Flags.string({description: 'Name of an environment variable holding the password.', exclusive: ['password-stdin', 'code']}),
    code: Flags.boolean({description: 'Sign in with a one-time code mailed by Kratos, read from the mail catcher.', exclusive: ['password-stdin', 'password-env']}),
    'cookie-jar': Flags.string({description: 'Write the session cookie to this curl cookie jar (mode 0600) instead of printing a token.', helpValue: '<file>'}),
    wait: durationFlag({description: 'With --code: how long to wait for the mail, e.g. 30s.', default: 30_000, min: 0}),
    'kratos-public-url': Flags.string({description: 'Kratos public API. Default: from iam.yaml ports, else http://127.0.0.1:4433.', helpGroup: 'ORY'}),
    'mail-url': Flags.string({description: 'With --code: the mail catcher. Default: from iam.yaml ports.', env: 'IAM_MAIL_URL', helpGroup: 'ORY'}),
    ...oryFlags,
  }

  async run(): Promise<LoginResult> {
    const {flags} = this
    const ctx = await resolveOryContext(flags)
    const kratosPublic = new KratosPublicClient({publicUrl: ctx.kratosPublicUrl, timeoutMs: flags.timeout})
    try {
      const result = await login(kratosPublic, ctx.kratosPublicUrl, {email: flags.email, secret: await this.secret(), ...(flags['cookie-jar'] ? {cookieJar: flags['cookie-jar']} : {})})
      if (!this.jsonEnabled()) {
        if (result.sessionToken) this.logValue(result.sessionToken)
        else this.log(`signed in as ${result.identity.email ?? result.identity.id}; session cookie written to ${result.cookieJar} (curl -b ${result.cookieJar} …)`)
      }
      return result
    } finally {
      await kratosPublic.close()
    }
  }

  private async secret(): Promise<{password: string} | {code: () => Promise<string>}> {
    const {flags} = this
    if (flags.code) {
      const inbox = await openInbox({dir: flags.dir ?? '.', timeout: flags.timeout, ...(flags['mail-url'] ? {url: flags['mail-url']} : {})})
      // Only a code mailed after this point counts: an older mail may hold a used or expired code.
      const before = await inbox.list({to: flags.email})
      const newerThan = Math.max(0, ...before.messages.map((m) => m.id))
      return {code: async () => (await inbox.waitForCode(flags.email, {waitMs: flags.wait, newerThan})).code}
    }
    const password = await readPassword({...(flags['password-env'] ? {envName: flags['password-env']} : {}), stdin: flags['password-stdin'], prompt: `Password for ${flags.email}: `})
    if (password === undefined) throw usageError('PASSWORD_REQUIRED', 'A password is needed.')
    return {password}
  }
}
