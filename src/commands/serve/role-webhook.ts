import {Flags} from '@oclif/core'

import {ServeCommand, serveFlags} from '../../cli/serve-command.js'
import {resolveOryContext} from '../../admin/context.js'
import {loadWebhookSecret} from '../../servers/http/webhook-secret.js'
import {resolveRoleWebhookOptions, ROLE_WEBHOOK_DEFAULTS, roleWebhookSettingsFrom} from '../../servers/role-webhook/config.js'
import {HOOK_PATH, INJECT_ROLES_PATH, startRoleWebhook, WEBHOOK_SECRET_ENV} from '../../servers/role-webhook/server.js'

export default class ServeRoleWebhook extends ServeCommand<typeof ServeRoleWebhook> {
  static override description = `Run the role webhook Kratos calls after login and registration.

It reads the identity's roles from Keto (Role:<role>#member@<identity id>, every page) and writes them to
metadata_public.roles with a JSON Patch that changes nothing else; unchanged roles cause no write.

Endpoints: POST ${HOOK_PATH} {"identity_id": "..."}; POST ${INJECT_ROLES_PATH} {"identity_id", "user_subject"}
(compatible with the public role webhook: roles are read for user_subject when given); GET /health/alive,
/health/ready, /metrics. Every hook call must carry the shared secret as \`Authorization: Bearer <secret>\` (the one header Kratos redacts in its logs)
(from $${WEBHOOK_SECRET_ENV} or --secret-file); without a valid one the answer is 401 and nothing is touched.

Failure policy when Keto or Kratos fails: by default the hook answers 200 and the login proceeds with the roles
it had (logged, counted in role_webhook_upstream_failures_total). With --strict it answers 424 with a Kratos
message body: Kratos then fails the login, and shows the message when the login hook sets response.parse: true
(or the deprecated can_interrupt: true). Do not set either on the registration hook: Kratos would call it before
the identity is stored. If the webhook itself is unreachable, Kratos fails the login whatever the policy.`

  static override examples = [
    'ROLE_WEBHOOK_SECRET=$(cat .secret) <%= config.bin %> serve role-webhook',
    '<%= config.bin %> serve role-webhook --port 4471 --kratos-admin-url http://127.0.0.1:4434 --keto-read-url http://127.0.0.1:4466 --secret-file ./webhook.secret',
    '<%= config.bin %> serve role-webhook --strict --timeout 1500ms',
  ]

  static override flags = {
    ...serveFlags({envPrefix: 'IAM_ROLE_WEBHOOK', defaultHost: ROLE_WEBHOOK_DEFAULTS.host, defaultPort: ROLE_WEBHOOK_DEFAULTS.port, portKey: 'ports.roleWebhook (of -C, else ./iam.yaml)'}),
    'kratos-admin-url': Flags.string({description: 'Kratos admin API. Default: from iam.yaml ports, else http://127.0.0.1:4434.'}),
    'keto-read-url': Flags.string({description: 'Keto read API. Default: from iam.yaml ports, else http://127.0.0.1:4466.'}),
    strict: Flags.boolean({description: 'Interrupt the Kratos flow when roles cannot be synced (default: let it proceed).'}),
    timeout: Flags.string({description: 'Deadline of each call to Keto or Kratos, a duration as in iam.yaml (e.g. 2s, 1500ms) [default: 2s].', env: 'IAM_ROLE_WEBHOOK_TIMEOUT'}),
    'secret-file': Flags.string({description: `File holding the shared secret (default: $${WEBHOOK_SECRET_ENV}).`}),
    'roles-namespace': Flags.string({description: 'Keto namespace roles live in. Default: iam.yaml roles.namespace, else Role.'}),
    'roles-relation': Flags.string({description: 'Relation of a role member. Default: iam.yaml roles.relation, else member.'}),
    'page-size': Flags.integer({description: 'Keto page size when listing roles.', min: 1, max: 1000, hidden: true}),
  }

  async run(): Promise<void> {
    const f = this.flags
    const logger = this.createLogger('role-webhook', f['log-level'])
    const secret = await loadWebhookSecret({envName: WEBHOOK_SECRET_ENV, server: 'The role webhook', secretFile: f['secret-file'], warn: (message) => logger.warn(message)})
    // -C, else ./iam.yaml when present (the native runtime starts it in the project directory).
    const {config} = await resolveOryContext({dir: f.dir})
    const options = resolveRoleWebhookOptions(
      {
        host: f.host,
        port: f.port,
        kratosAdminUrl: f['kratos-admin-url'],
        ketoReadUrl: f['keto-read-url'],
        rolesNamespace: f['roles-namespace'],
        rolesRelation: f['roles-relation'],
        strict: f.strict,
        timeout: f.timeout,
        pageSize: f['page-size'],
      },
      config ? roleWebhookSettingsFrom(config) : {},
      {secret, logger},
    )
    await this.serve(() => startRoleWebhook(options), {
      logger,
      portMessage: (code) => `Cannot listen on ${options.host}:${options.port} (${code}).`,
      suggestion: 'Stop what uses the port or pass --port.',
    })
  }
}
