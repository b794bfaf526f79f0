/**
 * The one way to serve: every `iam serve <server>` command extends ServeCommand. It owns the flags all of them share
 * (`--host`, `--port`, `-C, --dir`, `--log-level`, each readable from `<PREFIX>_HOST` … in the environment), the JSON
 * logger, and the lifetime: start, a port it cannot bind is PORT_UNAVAILABLE (exit 3), then serve until
 * SIGTERM/SIGINT drains it. Each server's `config.ts` maps the settings onto its options with one precedence: flag,
 * then environment, then iam.yaml (-C), then the server's own defaults. No `--json`: a server's output is its log.
 */
import {type Command, Flags} from '@oclif/core'

import {createLogger, parseLogLevel, type Logger} from '../servers/http/index.js'
import {BaseCommand} from './base-command.js'
import {serveUntilSignal} from './serve.js'

export interface ServeFlagOptions {
  /** Environment prefix, e.g. IAM_BATCH_AUTH (→ IAM_BATCH_AUTH_PORT). */
  envPrefix: string
  defaultHost: string
  defaultPort: number
  /** Which iam.yaml port the server takes with -C, e.g. `ports.batchAuth`. */
  portKey: string
}

/** The flags every serve command shares, with the server's env prefix and defaults in their help. */
export function serveFlags(o: ServeFlagOptions) {
  return {
    host: Flags.string({description: `Address to listen on [default: ${o.defaultHost}].`, env: `${o.envPrefix}_HOST`}),
    port: Flags.integer({description: `Port to listen on [default: ${o.portKey} of -C, else ${o.defaultPort}].`, env: `${o.envPrefix}_PORT`}),
    dir: Flags.string({char: 'C', description: 'Project directory (or its iam.yaml) to take ports and settings from.', env: `${o.envPrefix}_DIR`, helpValue: '<dir>'}),
    'log-level': Flags.string({description: 'debug, info, warn or error [default: info].', options: ['debug', 'info', 'warn', 'error'], env: `${o.envPrefix}_LOG_LEVEL`}),
  }
}

export abstract class ServeCommand<T extends typeof Command> extends BaseCommand<T> {
  static override enableJsonFlag = false

  /** JSON lines on stderr, tagged with the service name. */
  protected createLogger(service: string, level: string | undefined): Logger {
    return createLogger({level: parseLogLevel(level ?? 'info'), base: {service}})
  }

  /** Starts the server and serves until a signal; a port it cannot bind is PORT_UNAVAILABLE (exit 3). */
  protected serve(start: () => Promise<{close(): Promise<void>}>, o: {logger: Logger; portMessage: (code: string) => string; suggestion: string}): Promise<never> {
    return serveUntilSignal(start, o)
  }
}
