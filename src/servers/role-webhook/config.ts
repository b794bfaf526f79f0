/**
 * The role webhook's settings → its options, with iam's precedence: what was given (a flag, or its environment
 * variable) wins, then what iam.yaml says, then ROLE_WEBHOOK_DEFAULTS. Pure; a bad value is a usage error naming the
 * setting. The secret is not a setting: it comes from the environment or a file (secret.ts), never a flag.
 */
import type {IamConfig} from '../../config/model.js'
import {KETO_DEFAULT_READ_URL} from '../../ory/keto-client.js'
import {KRATOS_DEFAULT_ADMIN_URL} from '../../ory/kratos-client.js'
import {DEFAULT_ROLE_SHAPE} from '../../roles/sync.js'
import {durationValue, httpUrlValue, portValue, precedence} from '../../util/values.js'
import type {Logger} from '../http/index.js'
import type {RoleWebhookOptions} from './server.js'

export const ROLE_WEBHOOK_DEFAULTS = {
  host: '127.0.0.1',
  port: 4471,
  kratosAdminUrl: KRATOS_DEFAULT_ADMIN_URL,
  ketoReadUrl: KETO_DEFAULT_READ_URL,
  timeoutMs: 2000,
  /** Shorter deadlines fail healthy servers on a loaded machine. */
  minTimeoutMs: 50,
} as const

export interface RoleWebhookSettings {
  host?: string
  port?: number
  kratosAdminUrl?: string
  ketoReadUrl?: string
  rolesNamespace?: string
  rolesRelation?: string
  strict?: boolean
  timeout?: string
  pageSize?: number
}

/** What the role webhook takes from iam.yaml: its port, the Ory APIs on loopback, where roles live. */
export function roleWebhookSettingsFrom(config: IamConfig): RoleWebhookSettings {
  return {
    port: config.ports.roleWebhook,
    kratosAdminUrl: `http://127.0.0.1:${config.ports.kratosAdmin}`,
    ketoReadUrl: `http://127.0.0.1:${config.ports.ketoRead}`,
    rolesNamespace: config.roles.namespace,
    rolesRelation: config.roles.relation,
  }
}

export function resolveRoleWebhookOptions(given: RoleWebhookSettings, fromConfig: RoleWebhookSettings, o: {secret: string; logger: Logger}): RoleWebhookOptions {
  const d = ROLE_WEBHOOK_DEFAULTS
  const pick = precedence(given, fromConfig)
  const pageSize = pick('pageSize')
  return {
    host: pick('host') ?? d.host,
    port: portValue('port', pick('port') ?? d.port),
    secret: o.secret,
    kratosAdminUrl: httpUrlValue('kratos-admin-url', pick('kratosAdminUrl') ?? d.kratosAdminUrl),
    ketoReadUrl: httpUrlValue('keto-read-url', pick('ketoReadUrl') ?? d.ketoReadUrl),
    shape: {namespace: pick('rolesNamespace') ?? DEFAULT_ROLE_SHAPE.namespace, relation: pick('rolesRelation') ?? DEFAULT_ROLE_SHAPE.relation},
    strict: pick('strict') ?? false,
    timeoutMs: durationValue('timeout', pick('timeout'), {min: d.minTimeoutMs}) ?? d.timeoutMs,
    ...(pageSize === undefined ? {} : {pageSize}),
    logger: o.logger,
  }
}
