import {Flags} from '@oclif/core'

import {ServeCommand, serveFlags} from '../../cli/serve-command.js'
import {resolveOryContext} from '../../admin/context.js'
import {CLIENT_CLAIMS_DEFAULTS, clientClaimsSettingsFrom, resolveClientClaimsOptions} from '../../servers/client-claims/config.js'
import {loadWebhookSecret} from '../../servers/http/webhook-secret.js'
import {CLIENT_CLAIMS_PATH, CLIENT_CLAIMS_SECRET_ENV} from '../../servers/client-claims/protocol.js'
import {startClientClaims} from '../../servers/client-claims/server.js'

export default class ServeClientClaims extends ServeCommand<typeof ServeClientClaims> {
  static override description = `Run Hydra's token hook: it puts a machine client's metadata into the tokens Hydra issues to it.

On every client_credentials token request Hydra POSTs to ${CLIENT_CLAIMS_PATH}; the answer is the client's metadata
(read from Hydra's admin API then), which Hydra keeps with the token and returns in introspection, where the gateway
copies it into the id_token (claim \`metadata\`). Other grants are left alone (204).

Hydra must present the shared key as \`Authorization: Bearer <key>\` ($${CLIENT_CLAIMS_SECRET_ENV}, or --secret-file); without
it the answer is 401. When the client cannot be read the answer is 503 and Hydra issues no token (fail closed).
\`iam up\` runs it with hydra.enabled. GET /health/alive, /health/ready (Hydra answers), /metrics.`

  static override examples = [`${CLIENT_CLAIMS_SECRET_ENV}=$(cat .key) <%= config.bin %> serve client-claims --hydra-admin-url http://127.0.0.1:4445`]

  static override flags = {
    ...serveFlags({envPrefix: 'IAM_CLIENT_CLAIMS', defaultHost: CLIENT_CLAIMS_DEFAULTS.host, defaultPort: CLIENT_CLAIMS_DEFAULTS.port, portKey: 'ports.clientClaims'}),
    'hydra-admin-url': Flags.string({description: "Hydra's admin API. Default: from iam.yaml ports, else http://127.0.0.1:4445."}),
    timeout: Flags.string({description: "Deadline of the call to Hydra's admin API, e.g. 2s [default: 2s].", env: 'IAM_CLIENT_CLAIMS_TIMEOUT'}),
    'secret-file': Flags.string({description: `File holding the shared key (default: $${CLIENT_CLAIMS_SECRET_ENV}).`}),
  }

  async run(): Promise<void> {
    const f = this.flags
    const logger = this.createLogger('client-claims', f['log-level'])
    const secret = await loadWebhookSecret({secretFile: f['secret-file'], envName: CLIENT_CLAIMS_SECRET_ENV, server: 'The token hook (client-claims)', warn: (m) => logger.warn(m)})
    const {config} = await resolveOryContext({dir: f.dir})
    const options = resolveClientClaimsOptions({host: f.host, port: f.port, hydraAdminUrl: f['hydra-admin-url'], timeout: f.timeout}, config ? clientClaimsSettingsFrom(config) : {}, {secret, logger})
    await this.serve(() => startClientClaims(options), {
      logger,
      portMessage: (code) => `Cannot listen on ${options.host}:${options.port} (${code}).`,
      suggestion: 'Stop what uses the port or pass --port.',
    })
  }
}
