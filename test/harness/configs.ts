/**
 * Minimal configs for the real Ory servers the harness starts: loopback only, every port explicit (parallel test
 * files must never collide on a default port), SQLite under the server's temp dir. Pure functions; each config is
 * validated against the server's published config.schema.json in test/harness/configs.test.ts.
 */
import {randomBytes} from 'node:crypto'
import {ORY_VERSION} from '../../src/ory/servers.js'

export type JsonObject = Record<string, unknown>

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Deep merge: objects merge key by key, everything else (arrays included) in `override` replaces `base`. */
export function deepMerge<T extends JsonObject>(base: T, override: JsonObject | undefined): T {
  if (!override) return base
  const out: JsonObject = {...base}
  for (const [key, value] of Object.entries(override)) {
    const current = out[key]
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value
  }
  return out as T
}

export function sqliteDsn(dbPath: string): string {
  return `sqlite://${dbPath}?_fk=true&mode=rwc`
}

// ---------------------------------------------------------------- Keto

export interface KetoNamespace {
  id?: number
  name: string
}

export const DEFAULT_KETO_NAMESPACES: KetoNamespace[] = [
  {id: 0, name: 'User'},
  {id: 1, name: 'Role'},
  {id: 2, name: 'Tenant'},
  {id: 3, name: 'Document'},
]

export interface KetoPorts {
  read: number
  write: number
  metrics: number
  opl: number
}

export function ketoConfig(o: {dsn: string; ports: KetoPorts; namespaces?: KetoNamespace[]; config?: JsonObject}): JsonObject {
  const host = '127.0.0.1'
  const namespaces = (o.namespaces ?? DEFAULT_KETO_NAMESPACES).map((ns, index) => ({id: ns.id ?? index, name: ns.name}))
  return deepMerge(
    {
      version: ORY_VERSION,
      dsn: o.dsn,
      serve: {
        read: {host, port: o.ports.read},
        write: {host, port: o.ports.write},
        metrics: {host, port: o.ports.metrics},
        opl: {host, port: o.ports.opl},
      },
      namespaces,
      limit: {max_batch_check_size: 10},
      log: {level: 'info', format: 'text'},
    },
    o.config,
  )
}

// ---------------------------------------------------------------- Kratos

/** Email + password identity: the email trait is the password login identifier. */
export const DEFAULT_IDENTITY_SCHEMA = {
  $id: 'https://iam.local/schemas/default.schema.json',
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Person',
  type: 'object',
  properties: {
    traits: {
      type: 'object',
      properties: {
        email: {
          type: 'string',
          format: 'email',
          title: 'E-Mail',
          'ory.sh/kratos': {credentials: {password: {identifier: true}}},
        },
      },
      required: ['email'],
      additionalProperties: false,
    },
  },
}

export interface KratosPorts {
  public: number
  admin: number
  /** A loopback port nobody listens on: the courier's SMTP target (mail is never delivered in tests). */
  smtp: number
}

export function randomSecret(length = 32): string {
  return randomBytes(length).toString('base64url').slice(0, length)
}

export function kratosConfig(o: {dsn: string; ports: KratosPorts; identitySchemaUrl: string; config?: JsonObject}): JsonObject {
  const host = '127.0.0.1'
  const publicUrl = `http://${host}:${o.ports.public}/`
  const adminUrl = `http://${host}:${o.ports.admin}/`
  return deepMerge(
    {
      version: ORY_VERSION,
      dsn: o.dsn,
      serve: {
        public: {base_url: publicUrl, host, port: o.ports.public},
        admin: {base_url: adminUrl, host, port: o.ports.admin},
      },
      selfservice: {
        default_browser_return_url: publicUrl,
        allowed_return_urls: [publicUrl],
        methods: {
          // No internet here: the haveibeenpwned lookup would only add a timeout to every registration.
          password: {enabled: true, config: {haveibeenpwned_enabled: false}},
        },
        flows: {
          registration: {enabled: true, after: {password: {hooks: [{hook: 'session'}]}}},
          login: {},
        },
      },
      identity: {default_schema_id: 'default', schemas: [{id: 'default', url: o.identitySchemaUrl}]},
      secrets: {cookie: [randomSecret()], cipher: [randomSecret(32)], default: [randomSecret()]},
      // bcrypt at its minimum cost: the hash strength is not what tests check, and cost 12 costs ~250 ms per login.
      hashers: {algorithm: 'bcrypt', bcrypt: {cost: 4}},
      courier: {smtp: {connection_uri: `smtp://test:test@${host}:${o.ports.smtp}/?disable_starttls=true`}},
      session: {whoami: {required_aal: 'aal1'}, lifespan: '24h'},
      log: {level: 'info', format: 'text', leak_sensitive_values: false},
    },
    o.config,
  )
}

// ---------------------------------------------------------------- Oathkeeper

export interface OathkeeperPorts {
  proxy: number
  api: number
  prometheus: number
}

/** Handlers that need a `config` to be enabled: enabled automatically when the caller configures them. */
const CONFIGURED_HANDLERS: Record<string, string[]> = {
  authenticators: ['cookie_session', 'bearer_token', 'jwt', 'oauth2_client_credentials', 'oauth2_introspection'],
  authorizers: ['remote_json', 'remote', 'keto_engine_acp_ory'],
  mutators: ['id_token', 'cookie', 'hydrator'],
}

export function oathkeeperConfig(o: {ports: OathkeeperPorts; rulesUrl: string; config?: JsonObject}): JsonObject {
  const host = '127.0.0.1'
  const base: JsonObject = {
    version: ORY_VERSION,
    serve: {
      proxy: {host, port: o.ports.proxy},
      api: {host, port: o.ports.api},
      prometheus: {host, port: o.ports.prometheus},
    },
    access_rules: {repositories: [o.rulesUrl], matching_strategy: 'regexp'},
    authenticators: {
      anonymous: {enabled: true, config: {subject: 'guest'}},
      noop: {enabled: true},
      unauthorized: {enabled: true},
    },
    authorizers: {allow: {enabled: true}, deny: {enabled: true}},
    mutators: {noop: {enabled: true}, header: {enabled: true, config: {headers: {}}}},
    errors: {fallback: ['json'], handlers: {json: {enabled: true, config: {verbose: true}}}},
    log: {level: 'info', format: 'text'},
  }
  const enable: JsonObject = {}
  for (const [kind, names] of Object.entries(CONFIGURED_HANDLERS)) {
    const given = o.config?.[kind]
    if (!isPlainObject(given)) continue
    const section: JsonObject = {}
    for (const name of names) if (isPlainObject(given[name])) section[name] = {enabled: true}
    enable[kind] = section
  }
  return deepMerge(deepMerge(base, enable), o.config)
}
