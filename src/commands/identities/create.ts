import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {usageError} from '../../errors.js'
import {oryFlags} from '../../cli/flags.js'
import {readPassword} from '../../cli/secret-input.js'
import {withOry} from '../../admin/context.js'
import {ensureIdentity, validateIdentitySpec, type IdentityOutcome} from '../../admin/identities.js'

export default class IdentitiesCreate extends BaseCommand<typeof IdentitiesCreate> {
  static override description = `Create a Kratos identity with a password, and grant it roles (idempotent).

When an identity with this email exists it is kept as it is and only the missing roles are granted. When a password
is given for it, it is compared by a password login through Kratos' public API (Kratos never returns passwords or
hashes; the session the login creates is revoked at once): a different password (or none) is refused with
IDENTITY_PASSWORD_DIFFERS, exit 1, nothing changed — unless --update-password, which sets the given one through the
admin API. The password is never printed. It may come from --password-env or stdin (--password-stdin) to keep it
out of the shell history.`

  static override examples = [
    {description: 'Read the password without echoing it, keep it out of the shell history', command: "read -rsp 'Password: ' ALICE_PW && export ALICE_PW && <%= config.bin %> identities create --email alice@example.com --password-env ALICE_PW --role admin"},
    {description: 'From a secret store, through stdin', command: 'pass show iam/bob | <%= config.bin %> identities create --email bob@example.com --password-stdin --role editor --role viewer --json'},
    {description: 'Reset the password of an existing identity (without the flag a different password is refused)', command: 'pass show iam/bob | <%= config.bin %> identities create --email bob@example.com --password-stdin --update-password'},
  ]

  static override flags = {
    email: Flags.string({char: 'e', description: 'Email address (the login identifier).', required: true}),
    password: Flags.string({char: 'p', description: 'Password (visible in the process list; prefer --password-env).', exclusive: ['password-env', 'password-stdin']}),
    'password-env': Flags.string({description: 'Name of an environment variable holding the password.', exclusive: ['password', 'password-stdin']}),
    'password-stdin': Flags.boolean({description: 'Read the password from the first line of stdin.', exclusive: ['password', 'password-env']}),
    name: Flags.string({description: 'traits.name, when the identity schema has it.'}),
    role: Flags.string({char: 'r', description: 'Role to grant. Repeatable.', multiple: true, default: []}),
    'schema-id': Flags.string({description: 'Identity schema id.', default: 'default'}),
    'update-password': Flags.boolean({description: 'When the identity exists with another password (or none), set the given one instead of failing.'}),
    'kratos-public-url': Flags.string({description: 'Kratos public API, for the password comparison. Default: from iam.yaml ports, else http://127.0.0.1:4433.', helpGroup: 'ORY'}),
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
    const existingPassword = this.flags['update-password'] ? 'update' : 'check'
    const outcome = await withOry(this.flags, ({keto, kratos, kratosPublic}, ctx) =>
      ensureIdentity({keto, kratos, kratosPublic, shape: ctx.roles, schemaId: this.flags['schema-id']}, spec, {existingPassword}),
    )
    if (!this.jsonEnabled()) {
      this.log(`${outcome.status === 'created' ? 'created' : 'exists'}: ${outcome.email} (${outcome.id})${outcome.password ? `, password ${outcome.password === 'same' ? 'unchanged (the same)' : 'updated'}` : ''}`)
      this.log(`  roles: [${(outcome.roles ?? []).join(', ')}]${outcome.granted && outcome.granted.length > 0 ? `, newly granted: ${outcome.granted.join(', ')}` : ''}`)
    }
    return outcome
  }

  private async password(): Promise<string | undefined> {
    if (this.flags.password !== undefined) return this.flags.password
    return readPassword({...(this.flags['password-env'] === undefined ? {} : {envName: this.flags['password-env']}), stdin: this.flags['password-stdin']})
  }
}
