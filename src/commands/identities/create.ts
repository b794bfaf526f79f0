import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {usageError} from '../../errors.js'
import {oryFlags} from '../../cli/flags.js'
import {withOry} from '../../admin/context.js'
import {ensureIdentity, validateIdentitySpec, type IdentityOutcome} from '../../admin/identities.js'

export default class IdentitiesCreate extends BaseCommand<typeof IdentitiesCreate> {
  static override description = `Create a Kratos identity with a password, and grant it roles (idempotent).

When an identity with this email exists it is kept as it is (its password is not changed) and only the missing
roles are granted. The password may come from --password-env or stdin (--password-stdin) to keep it out of the
shell history.`

  static override examples = [
    {description: 'Read the password without echoing it, keep it out of the shell history', command: "read -rsp 'Password: ' ALICE_PW && export ALICE_PW && <%= config.bin %> identities create --email alice@example.com --password-env ALICE_PW --role admin"},
    {description: 'From a secret store, through stdin', command: 'pass show iam/bob | <%= config.bin %> identities create --email bob@example.com --password-stdin --role editor --role viewer --json'},
  ]

  static override flags = {
    email: Flags.string({char: 'e', description: 'Email address (the login identifier).', required: true}),
    password: Flags.string({char: 'p', description: 'Password (visible in the process list; prefer --password-env).', exclusive: ['password-env', 'password-stdin']}),
    'password-env': Flags.string({description: 'Name of an environment variable holding the password.', exclusive: ['password', 'password-stdin']}),
    'password-stdin': Flags.boolean({description: 'Read the password from the first line of stdin.', exclusive: ['password', 'password-env']}),
    name: Flags.string({description: 'traits.name, when the identity schema has it.'}),
    role: Flags.string({char: 'r', description: 'Role to grant. Repeatable.', multiple: true, default: []}),
    'schema-id': Flags.string({description: 'Identity schema id.', default: 'default'}),
    ...oryFlags,
  }

  async run(): Promise<IdentityOutcome> {
    const password = await this.password()
    let spec
    try {
      spec = validateIdentitySpec({email: this.flags.email, password, roles: this.flags.role, ...(this.flags.name ? {name: this.flags.name} : {})})
    } catch (error) {
      throw usageError('IDENTITY_INVALID', (error as Error).message)
    }
    const outcome = await withOry(this.flags, ({keto, kratos}, ctx) => ensureIdentity({keto, kratos, shape: ctx.roles, schemaId: this.flags['schema-id']}, spec))
    if (!this.jsonEnabled()) {
      this.log(`${outcome.status === 'created' ? 'created' : 'exists'}: ${outcome.email} (${outcome.id})`)
      this.log(`  roles: [${(outcome.roles ?? []).join(', ')}]${outcome.granted && outcome.granted.length > 0 ? `, newly granted: ${outcome.granted.join(', ')}` : ''}`)
    }
    return outcome
  }

  private async password(): Promise<string | undefined> {
    if (this.flags.password !== undefined) return this.flags.password
    const envName = this.flags['password-env']
    if (envName !== undefined) {
      const value = process.env[envName]
      if (!value) throw usageError('PASSWORD_ENV_MISSING', `The environment variable ${envName} is not set.`)
      return value
    }
    if (this.flags['password-stdin']) {
      const chunks: Buffer[] = []
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
      const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? ''
      if (!line) throw usageError('PASSWORD_EMPTY', 'stdin held no password.')
      return line
    }
    return undefined
  }
}
