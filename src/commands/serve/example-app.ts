import {Flags} from '@oclif/core'

import {ServeCommand, serveFlags} from '../../cli/serve-command.js'
import {usageError} from '../../errors.js'
import {portValue} from '../../util/values.js'

const DEFAULT_PORT = 8080

export default class ServeExampleApp extends ServeCommand<typeof ServeExampleApp> {
  static override description = `Run the example app (examples/app/server.mjs): the upstream the starter routes forward to. It verifies the gateway's id_token with the package's exported verifier middleware and greets the signed-in user from its claims (subject, email, roles), saying what the gateway let them into.

\`iam up\` starts it when iam.yaml says exampleApp: true (the starter does). Read its source: it is the pattern for your own service.`

  static override examples = ['<%= config.bin %> serve example-app -C .', '<%= config.bin %> serve example-app --port 8080 --jwks-url http://127.0.0.1:4456/.well-known/jwks.json --issuer http://127.0.0.1:4455/ --audience demo-api']

  static override flags = {
    ...serveFlags({envPrefix: 'IAM_EXAMPLE_APP', defaultHost: '127.0.0.1', defaultPort: DEFAULT_PORT, portKey: 'ports.exampleApp'}),
    'jwks-url': Flags.string({description: "The gateway's JWKS [default: Oathkeeper's API of -C].", env: 'IAM_EXAMPLE_APP_JWKS_URL'}),
    issuer: Flags.string({description: 'Accepted issuer [default: tokens.issuer of -C].', env: 'IAM_EXAMPLE_APP_ISSUER'}),
    audience: Flags.string({description: 'Accepted audience; repeatable [default: the routes’ audiences of -C].', multiple: true, env: 'IAM_EXAMPLE_APP_AUDIENCE'}),
  }

  async run(): Promise<void> {
    const f = this.flags
    const config = f.dir === undefined ? undefined : (await (await import('../../config/load.js')).loadConfigAt(f.dir)).config
    const jwksUrl = f['jwks-url'] ?? (config ? `http://127.0.0.1:${config.ports.oathkeeperApi}/.well-known/jwks.json` : undefined)
    const issuer = f.issuer ?? config?.tokens.issuer
    const audience = f.audience ?? (config ? [...new Set(config.routes.map((r) => r.audience))] : undefined)
    if (!jwksUrl || !issuer || !audience || audience.length === 0) {
      throw usageError('INVALID_FLAG', 'The example app needs the JWKS URL, the issuer and an audience.', {suggestion: 'Pass -C <project>, or --jwks-url, --issuer and --audience.'})
    }
    const port = portValue('port', f.port ?? config?.ports.exampleApp ?? DEFAULT_PORT)
    const host = f.host ?? '127.0.0.1'
    const logger = this.createLogger('example-app', f['log-level'])
    const {startExampleApp} = (await import(new URL('../../../examples/app/server.mjs', import.meta.url).href)) as {
      startExampleApp(o: {host: string; port: number; jwksUrl: string; issuer: string; audience: string[]}): Promise<import('node:http').Server>
    }
    await this.serve(
      async () => {
        const server = await startExampleApp({host, port, jwksUrl, issuer, audience})
        logger.info('example app listening', {host, port})
        return {close: () => new Promise<void>((resolve) => server.close(() => resolve()))}
      },
      {logger, portMessage: (code) => `Cannot listen on ${host} port ${port}: ${code}.`, suggestion: 'Stop what uses the port, or change ports.exampleApp in iam.yaml.'},
    )
  }
}
