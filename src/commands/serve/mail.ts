import {Flags} from '@oclif/core'

import {ServeCommand, serveFlags} from '../../cli/serve-command.js'
import {MAIL_CATCHER_DEFAULTS, mailCatcherSettingsFrom, resolveMailCatcherOptions} from '../../servers/mail/config.js'

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
    // iam.yaml is loaded only with -C: the config module (YAML, schema checks) is not needed to serve.
    const fromConfig = f.dir === undefined ? {} : mailCatcherSettingsFrom((await (await import('../../config/load.js')).loadConfigAt(f.dir)).config)
    const logger = this.createLogger('mail', f['log-level'])
    const options = resolveMailCatcherOptions({host: f.host, smtpPort: f['smtp-port'], httpPort: f.port, maxMessages: f['max-messages'], maxSize: f['max-size']}, fromConfig, logger)
    // SMTP and MIME parsing are loaded only to serve, not for --help.
    const {startMailCatcher} = await import('../../servers/mail/server.js')
    await this.serve(() => startMailCatcher(options), {
      logger,
      portMessage: (code) => `Cannot listen on ${options.host} port ${options.smtpPort} (SMTP) or ${options.httpPort} (inbox): ${code}.`,
      suggestion: 'Stop what uses the port, or pass --smtp-port / --port (and point kratos.smtpUrl at the new SMTP port).',
    })
  }
}
