import {Flags} from '@oclif/core'

import {ServeCommand, serveFlags} from '../../cli/serve-command.js'
import {resolveUiOptions, UI_DEFAULTS, uiSettingsFrom} from '../../servers/ui/config.js'

export default class ServeUi extends ServeCommand<typeof ServeUi> {
  static override description = `Run the built-in sign-in pages: login, registration, verification, recovery, settings, error and logout, rendered on the server from Kratos' flows (no JavaScript, a strict Content-Security-Policy).

\`iam up\` starts it when kratos.uiUrl is left at its default (the gateway's /ui/); the gateway serves it under /ui/ and Kratos under /.ory/, so pages, Kratos' cookies and the app share one origin. Each page fetches its flow from Kratos with the browser's cookies and posts the form to Kratos through the gateway. Set kratos.uiUrl to use a UI of your own instead.`

  static override examples = ['<%= config.bin %> serve ui -C .', '<%= config.bin %> serve ui --port 4460 --kratos-public-url http://127.0.0.1:4433 --browser-kratos-url http://127.0.0.1:4455/.ory/']

  static override flags = {
    ...serveFlags({envPrefix: 'IAM_UI', defaultHost: UI_DEFAULTS.host, defaultPort: UI_DEFAULTS.port, portKey: 'ports.ui'}),
    'kratos-public-url': Flags.string({description: `Kratos' public API as this server reaches it [default: ${UI_DEFAULTS.kratosPublicUrl}].`, env: 'IAM_UI_KRATOS_PUBLIC_URL'}),
    'browser-kratos-url': Flags.string({description: `Kratos' public API as browsers reach it: the gateway's /.ory/ [default: ${UI_DEFAULTS.browserKratosUrl}].`, env: 'IAM_UI_BROWSER_KRATOS_URL'}),
    'app-url': Flags.string({description: `Where the start page sends a signed-in user [default: ${UI_DEFAULTS.appUrl}].`, env: 'IAM_UI_APP_URL'}),
    'mail-url': Flags.string({description: 'The mail catcher inbox linked from the code pages (development).', env: 'IAM_UI_MAIL_URL'}),
    timeout: Flags.string({description: 'Deadline of each call to Kratos, e.g. 5s [default: 5s].', env: 'IAM_UI_TIMEOUT'}),
  }

  async run(): Promise<void> {
    const f = this.flags
    const fromConfig = f.dir === undefined ? {} : uiSettingsFrom((await (await import('../../config/load.js')).loadConfigAt(f.dir)).config)
    const logger = this.createLogger('ui', f['log-level'])
    const options = resolveUiOptions(
      {host: f.host, port: f.port, kratosPublicUrl: f['kratos-public-url'], browserKratosUrl: f['browser-kratos-url'], appUrl: f['app-url'], mailUrl: f['mail-url'], timeout: f.timeout},
      fromConfig,
      logger,
    )
    const {startUiServer} = await import('../../servers/ui/server.js')
    await this.serve(() => startUiServer(options), {
      logger,
      portMessage: (code) => `Cannot listen on ${options.host} port ${options.port}: ${code}.`,
      suggestion: 'Stop what uses the port, or change ports.ui in iam.yaml (or pass --port).',
    })
  }
}
