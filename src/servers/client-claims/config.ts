/**
 * The token hook's settings → its options, with iam's precedence: what was given (a flag, or its environment
 * variable) wins, then what iam.yaml says, then CLIENT_CLAIMS_DEFAULTS. Pure; a bad value is a usage error naming the
 * setting. The key is not a setting: it comes from the environment or a file, never a flag.
 */
import type {IamConfig} from '../../config/model.js'
import {HYDRA_DEFAULT_ADMIN_URL} from '../../ory/hydra-client.js'
import {durationValue, httpUrlValue, portValue, precedence} from '../../util/values.js'
import type {Logger} from '../http/index.js'
import type {ClientClaimsOptions} from './server.js'

export const CLIENT_CLAIMS_DEFAULTS = {host: '127.0.0.1', port: 4472, hydraAdminUrl: HYDRA_DEFAULT_ADMIN_URL, timeoutMs: 2000, minTimeoutMs: 50} as const

export interface ClientClaimsSettings {
  host?: string
  port?: number
  hydraAdminUrl?: string
  timeout?: string
}

/** What the hook takes from iam.yaml: its port and Hydra's admin API on loopback. */
export function clientClaimsSettingsFrom(config: IamConfig): ClientClaimsSettings {
  return {port: config.ports.clientClaims, hydraAdminUrl: `http://127.0.0.1:${config.ports.hydraAdmin}`}
}

export function resolveClientClaimsOptions(given: ClientClaimsSettings, fromConfig: ClientClaimsSettings, o: {secret: string; logger: Logger}): ClientClaimsOptions {
  const d = CLIENT_CLAIMS_DEFAULTS
  const pick = precedence(given, fromConfig)
  return {
    host: pick('host') ?? d.host,
    port: portValue('port', pick('port') ?? d.port),
    secret: o.secret,
    hydraAdminUrl: httpUrlValue('hydra-admin-url', pick('hydraAdminUrl') ?? d.hydraAdminUrl),
    timeoutMs: durationValue('timeout', pick('timeout'), {min: d.minTimeoutMs}) ?? d.timeoutMs,
    logger: o.logger,
  }
}
