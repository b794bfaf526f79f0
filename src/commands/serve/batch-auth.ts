import {Flags} from '@oclif/core'

import {ServeCommand, serveFlags} from '../../cli/serve-command.js'
import {BATCH_AUTH_DEFAULTS, startBatchAuth} from '../../servers/batch-auth/index.js'
import {batchAuthSettingsFrom, resolveBatchAuthOptions} from '../../servers/batch-auth/config.js'

export default class ServeBatchAuth extends ServeCommand<typeof ServeBatchAuth> {
  static override description = `Run batch-auth: OR-authorization over Keto's batch check, for Oathkeeper's remote_json authorizer.

POST / (or /check) with {"tuples": [...]} (Keto's batch check body) answers 200 when any tuple is allowed, 403 when
none is, 400/413/415 for bad input and 502/503/504 when Keto fails (never 200). Also serves GET /health/alive,
/health/ready (Keto reachable) and /metrics (Prometheus). Logs are JSON lines on stderr. SIGTERM/SIGINT drain
in-flight checks, then exit.

Precedence: flags, then environment variables, then iam.yaml (-C), then built-in defaults.

Decision cache (--cache-ttl, off by default): a permission revoked in Keto stays allowed for up to the TTL.`

  static override examples = [
    '<%= config.bin %> serve batch-auth',
    '<%= config.bin %> serve batch-auth --port 4470 --keto-read-url http://127.0.0.1:4466 --timeout 2s',
    '<%= config.bin %> serve batch-auth -C . --max-tuples 50 --cache-ttl 5s',
  ]

  static override flags = {
    ...serveFlags({envPrefix: 'IAM_BATCH_AUTH', defaultHost: BATCH_AUTH_DEFAULTS.host, defaultPort: BATCH_AUTH_DEFAULTS.port, portKey: 'ports.batchAuth'}),
    'keto-read-url': Flags.string({description: `Keto read API base URL [default: from ports.ketoRead or ${BATCH_AUTH_DEFAULTS.ketoReadUrl}].`, env: 'IAM_KETO_READ_URL'}),
    timeout: Flags.string({description: 'Deadline for a whole check, all batches included [default: 2s]. The connect timeout is a quarter of it (at most 1s).', env: 'IAM_BATCH_AUTH_TIMEOUT'}),
    'max-body': Flags.string({description: 'Largest request body, e.g. 64kb [default: 64kb]; larger gets 413.', env: 'IAM_BATCH_AUTH_MAX_BODY'}),
    'max-tuples': Flags.integer({description: `Most tuples in one request [default: ${BATCH_AUTH_DEFAULTS.maxTuples}]; more gets 400.`, env: 'IAM_BATCH_AUTH_MAX_TUPLES'}),
    'max-batch': Flags.integer({description: `Tuples per Keto request: Keto's limit.max_batch_check_size [default: keto.maxBatchCheckSize or ${BATCH_AUTH_DEFAULTS.maxBatch}].`, env: 'IAM_BATCH_AUTH_MAX_BATCH'}),
    'cache-ttl': Flags.string({description: 'Cache decisions per tuple for this long, e.g. 5s [default: 0 = off]. A revoked permission stays allowed up to the TTL.', env: 'IAM_BATCH_AUTH_CACHE_TTL'}),
    'cache-size': Flags.integer({description: `Most cached decisions [default: ${BATCH_AUTH_DEFAULTS.cacheSize}].`, env: 'IAM_BATCH_AUTH_CACHE_SIZE'}),
    connections: Flags.integer({description: `Keep-alive connections to Keto [default: ${BATCH_AUTH_DEFAULTS.connections}].`, env: 'IAM_BATCH_AUTH_CONNECTIONS'}),
  }

  async run(): Promise<void> {
    const f = this.flags
    // iam.yaml is loaded only with -C: the config module (YAML, schema checks) is not needed to serve.
    const fromConfig = f.dir === undefined ? {} : batchAuthSettingsFrom((await (await import('../../config/load.js')).loadConfigAt(f.dir)).config)
    const logger = this.createLogger('batch-auth', f['log-level'])
    const options = resolveBatchAuthOptions(
      {
        host: f.host,
        port: f.port,
        ketoReadUrl: f['keto-read-url'],
        timeout: f.timeout,
        maxBody: f['max-body'],
        maxTuples: f['max-tuples'],
        maxBatch: f['max-batch'],
        cacheTtl: f['cache-ttl'],
        cacheSize: f['cache-size'],
        connections: f.connections,
      },
      fromConfig,
      logger,
    )
    await this.serve(() => startBatchAuth(options), {
      logger,
      portMessage: (code) => `Cannot listen on ${options.host}:${options.port} (${code}).`,
      suggestion: 'Stop what uses the port, or pass --port (and point the remote_json authorizer at the new one).',
    })
  }
}
