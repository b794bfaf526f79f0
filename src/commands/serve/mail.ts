import {Flags} from '@oclif/core'

import {positiveInt} from '../../cli/flags.js'
import {ServeCommand, serveFlags} from '../../cli/serve-command.js'
import {usageError} from '../../errors.js'
import {parseByteSize} from '../../servers/http/index.js'
import {MAIL_CATCHER_DEFAULTS} from '../../servers/mail/defaults.js'

export default class ServeMail extends ServeCommand<typeof ServeMail> {
  static override description = `Run the mail catcher: an SMTP server that keeps every mail Kratos sends (nothing is relayed) and an inbox to read them.

The native runtime starts it when kratos.smtpUrl points at ports.mailSmtp on this machine (the default); the compose runtime runs Mailpit instead. The inbox: GET / (a page, text only), GET /api/messages?to=<email>&limit=<n> (JSON, newest first, each with the one-time "code" found in it), GET /api/messages/latest?to=<email> (404 when none), DELETE /api/messages (?to=<email>: only that recipient's), plus /health/alive, /health/ready and /metrics. Messages live in memory, the oldest dropped past --max-messages or 64 MB in all; a mail larger than --max-size is refused (SMTP 552). Logs are JSON lines on stderr, without subjects or bodies (they carry codes).`

  static override examples = [
    '<%= config.bin %> serve mail',
    '<%= config.bin %> serve mail --smtp-port 1025 --port 4436',
    'curl -s "http://127.0.0.1:4436/api/messages/latest?to=ada@example.com" | jq -r .code',
  ]

  static override flags = {
    ...serveFlags({envPrefix: 'IAM_MAIL', defaultHost: MAIL_CATCHER_DEFAULTS.host, defaultPort: MAIL_CATCHER_DEFAULTS.httpPort, portKey: 'ports.mailUi (the inbox)'}),
    'smtp-port': Flags.integer({description: `SMTP port [default: ports.mailSmtp or ${MAIL_CATCHER_DEFAULTS.smtpPort}].`, min: 0, max: 65535, env: 'IAM_MAIL_SMTP_PORT'}),
    'max-messages': Flags.integer({description: `Messages kept in memory; the oldest go first [default: ${MAIL_CATCHER_DEFAULTS.maxMessages}].`, env: 'IAM_MAIL_MAX_MESSAGES'}),
    'max-size': Flags.string({description: 'Largest mail accepted, e.g. 1mb [default: 1mb]; larger is refused with SMTP 552.', env: 'IAM_MAIL_MAX_SIZE'}),
  }

  async run(): Promise<void> {
    const f = this.flags
    const d = MAIL_CATCHER_DEFAULTS
    let fromConfig: {smtpPort?: number; httpPort?: number} = {}
    if (f.config !== undefined) {
      // Loaded only with --config: the config module (YAML, schema checks) is not needed to serve.
      const {loadConfigAt} = await import('../../config/load.js')
      const {config} = await loadConfigAt(f.config)
      fromConfig = {smtpPort: config.ports.mailSmtp, httpPort: config.ports.mailUi}
    }
    const maxMessageBytes = f['max-size'] === undefined ? d.maxMessageBytes : parseByteSize(f['max-size'])
    if (maxMessageBytes === undefined) throw usageError('INVALID_FLAG', `--max-size must be a size like 512kb or 1mb, got "${f['max-size']}".`)
    const smtpPort = f['smtp-port'] ?? fromConfig.smtpPort ?? d.smtpPort
    const httpPort = this.resolvePort(f.port, fromConfig.httpPort, d.httpPort)
    const host = f.host ?? d.host
    const logger = this.createLogger('mail', f['log-level'])
    // SMTP and MIME parsing are loaded only to serve, not for --help.
    const {startMailCatcher} = await import('../../servers/mail/server.js')
    await this.serve(
      () =>
        startMailCatcher({
          host,
          smtpPort,
          httpPort,
          maxMessages: positiveInt('max-messages', f['max-messages']) ?? d.maxMessages,
          maxMessageBytes,
          logger,
        }),
      {
        logger,
        portMessage: (code) => `Cannot listen on ${host} port ${smtpPort} (SMTP) or ${httpPort} (inbox): ${code}.`,
        suggestion: 'Stop what uses the port, or pass --smtp-port / --port (and point kratos.smtpUrl at the new SMTP port).',
      },
    )
  }
}
