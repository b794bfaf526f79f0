import {Flags} from '@oclif/core'

import {positiveInt} from '../../cli/flags.js'
import {ServeCommand, serveFlags} from '../../cli/serve-command.js'
import {usageError} from '../../errors.js'
import {parseDuration} from '../../config/duration.js'
import {parseByteSize} from '../../servers/http/index.js'
import {BATCH_AUTH_DEFAULTS, startBatchAuth, type BatchAuthOptions} from '../../servers/batch-auth/index.js'

/** The iam.yaml values batch-auth takes defaults from (a subset of IamConfig). */
interface ConfigDefaults {
  port?: number
  ketoReadUrl?: string
  maxBatch?: number
}

async function defaultsFromIamYaml(path: string): Promise<ConfigDefaults> {
  // Loaded only with --config: the config module (YAML, schema checks) is not needed to serve.
  const {loadConfigAt} = await import('../../config/load.js')
  const {config} = await loadConfigAt(path)
  return {port: config.ports.batchAuth, ketoReadUrl: `http://127.0.0.1:${config.ports.ketoRead}`, maxBatch: config.keto.maxBatchCheckSize}
}

function duration(name: string, value: string | undefined, allowZero = false): number | undefined {
  if (value === undefined) return undefined
  const ms = parseDuration(value)
  if (ms === undefined || ms < 0 || (!allowZero && ms === 0)) {
    throw usageError('INVALID_FLAG', `--${name} must be a duration like 2s or 500ms (as in iam.yaml), got "${value}".`)
  }
  return ms
}

export default class ServeBatchAuth extends ServeCommand<typeof ServeBatchAuth> {
  static override description = `Run batch-auth: OR-authorization over Keto's batch check, for Oathkeeper's remote_json authorizer.

POST / (or /check) with {"tuples": [...]} (Keto's batch check body) answers 200 when any tuple is allowed, 403 when
none is, 400/413/415 for bad input and 502/503/504 when Keto fails (never 200). Also serves GET /health/alive,
/health/ready (Keto reachable) and /metrics (Prometheus). Logs are JSON lines on stderr. SIGTERM/SIGINT drain
in-flight checks, then exit.

Precedence: flags, then environment variables, then iam.yaml (--config), then built-in defaults.

Decision cache (--cache-ttl, off by default): a permission revoked in Keto stays allowed for up to the TTL.`

  static override examples = [
    '<%= config.bin %> serve batch-auth',
    '<%= config.bin %> serve batch-auth --port 4470 --keto-read-url http://127.0.0.1:4466 --timeout 2s',
    '<%= config.bin %> serve batch-auth --config . --max-tuples 50 --cache-ttl 5s',
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
    const fromConfig = f.config === undefined ? {} : await defaultsFromIamYaml(f.config)
    const d = BATCH_AUTH_DEFAULTS
    const maxBody = f['max-body'] === undefined ? d.maxBodyBytes : parseByteSize(f['max-body'])
    if (maxBody === undefined) throw usageError('INVALID_FLAG', `--max-body must be a size like 64kb or 1mb, got "${f['max-body']}".`)
    const ketoReadUrl = f['keto-read-url'] ?? fromConfig.ketoReadUrl ?? d.ketoReadUrl
    try {
      const u = new URL(ketoReadUrl)
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol')
    } catch {
      throw usageError('INVALID_FLAG', `--keto-read-url must be an http(s) URL, got "${ketoReadUrl}".`)
    }
    const port = this.resolvePort(f.port, fromConfig.port, d.port)
    const logger = this.createLogger('batch-auth', f['log-level'])
    const options: BatchAuthOptions = {
      host: f.host ?? d.host,
      port,
      ketoReadUrl,
      timeoutMs: duration('timeout', f.timeout) ?? d.timeoutMs,
      maxBodyBytes: maxBody,
      maxTuples: positiveInt('max-tuples', f['max-tuples']) ?? d.maxTuples,
      maxBatch: positiveInt('max-batch', f['max-batch']) ?? fromConfig.maxBatch ?? d.maxBatch,
      cacheTtlMs: duration('cache-ttl', f['cache-ttl'], true) ?? d.cacheTtlMs,
      cacheSize: positiveInt('cache-size', f['cache-size']) ?? d.cacheSize,
      connections: positiveInt('connections', f.connections) ?? d.connections,
      logger,
    }
    await this.serve(() => startBatchAuth(options), {
      logger,
      portMessage: (code) => `Cannot listen on ${options.host}:${port} (${code}).`,
      suggestion: 'Stop what uses the port, or pass --port (and point the remote_json authorizer at the new one).',
    })
  }
}
