import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {serveUntilSignal} from '../../cli/serve.js'
import {resolveOryContext} from '../../seed/context.js'
import {createLogger, parseLogLevel} from '../../servers/http/index.js'
import {loadWebhookSecret, WEBHOOK_SECRET_ENV, WEBHOOK_SECRET_HEADER} from '../../servers/role-webhook/secret.js'
import {HOOK_PATH, INJECT_ROLES_PATH, startRoleWebhook} from '../../servers/role-webhook/server.js'

export default class ServeRoleWebhook extends BaseCommand<typeof ServeRoleWebhook> {
  static override description = `Run the role webhook Kratos calls after login and registration.

It reads the identity's roles from Keto (Role:<role>#member@<identity id>, every page) and writes them to
metadata_public.roles with a JSON Patch that changes nothing else; unchanged roles cause no write.

Endpoints: POST ${HOOK_PATH} {"identity_id": "..."}; POST ${INJECT_ROLES_PATH} {"identity_id", "user_subject"}
(compatible with the public role webhook: roles are read for user_subject when given); GET /health/alive,
/health/ready, /metrics. Every hook call must carry the shared secret in the ${WEBHOOK_SECRET_HEADER} header
(from $${WEBHOOK_SECRET_ENV} or --secret-file); without a valid one the answer is 401 and nothing is touched.

Failure policy when Keto or Kratos fails: by default the hook answers 200 and the login proceeds with the roles
it had (logged, counted in role_webhook_upstream_failures_total). With --strict it answers 424 with a Kratos
message body: Kratos then fails the login, and shows the message when the login hook sets response.parse: true
(or the deprecated can_interrupt: true). Do not set either on the registration hook: Kratos would call it before
the identity is stored. If the webhook itself is unreachable, Kratos fails the login whatever the policy.`

  static override examples = [
    'ROLE_WEBHOOK_SECRET=$(cat .secret) <%= config.bin %> serve role-webhook',
    '<%= config.bin %> serve role-webhook --port 4471 --kratos-admin-url http://127.0.0.1:4434 --keto-read-url http://127.0.0.1:4466 --secret-file ./webhook.secret',
    '<%= config.bin %> serve role-webhook --strict --timeout 1500',
  ]

  static override flags = {
    port: Flags.integer({description: 'Port to listen on. Default: iam.yaml ports.roleWebhook, else 4471.', min: 0, max: 65535}),
    host: Flags.string({description: 'Interface to listen on.', default: '127.0.0.1'}),
    'kratos-admin-url': Flags.string({description: 'Kratos admin API. Default: from iam.yaml ports, else http://127.0.0.1:4434.'}),
    'keto-read-url': Flags.string({description: 'Keto read API. Default: from iam.yaml ports, else http://127.0.0.1:4466.'}),
    strict: Flags.boolean({description: 'Interrupt the Kratos flow when roles cannot be synced (default: let it proceed).'}),
    timeout: Flags.integer({description: 'Deadline of each call to Keto or Kratos, in milliseconds.', default: 2000, min: 50}),
    'secret-file': Flags.string({description: `File holding the shared secret (default: $${WEBHOOK_SECRET_ENV}).`}),
    config: Flags.string({description: 'iam.yaml (or its directory) for ports and the roles namespace. Default: ./iam.yaml when present.'}),
    'page-size': Flags.integer({description: 'Keto page size when listing roles.', min: 1, max: 1000, hidden: true}),
    'log-level': Flags.string({description: 'debug | info | warn | error', default: 'info', options: ['debug', 'info', 'warn', 'error']}),
  }

  async run(): Promise<void> {
    const logger = createLogger({level: parseLogLevel(this.flags['log-level']), base: {service: 'role-webhook'}})
    const secret = await loadWebhookSecret({secretFile: this.flags['secret-file'], warn: (message) => logger.warn(message)})
    const ctx = await resolveOryContext({config: this.flags.config, 'kratos-admin-url': this.flags['kratos-admin-url'], 'keto-read-url': this.flags['keto-read-url']})
    const port = this.flags.port ?? ctx.config?.ports.roleWebhook ?? 4471
    await serveUntilSignal(
      () =>
        startRoleWebhook({
          host: this.flags.host,
          port,
          secret,
          kratosAdminUrl: ctx.kratosAdminUrl,
          ketoReadUrl: ctx.ketoReadUrl,
          shape: ctx.roles,
          strict: this.flags.strict,
          timeoutMs: this.flags.timeout,
          pageSize: this.flags['page-size'],
          logger,
        }),
      {logger, portMessage: (code) => `Cannot listen on ${this.flags.host}:${port} (${code}).`, suggestion: 'Stop what uses the port or pass --port.'},
    )
  }
}
