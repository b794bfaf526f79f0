/**
 * Kratos: kratos.yml, the identity schema and the role web hook. Pure functions of the config.
 *
 * Secrets never appear in kratos.yml; Kratos reads any config key from the environment (ory/x configx: the key
 * upper-cased, `.` → `_`; a string-list key takes a plain value or a JSON array), so the runtime passes
 * SECRETS_COOKIE / SECRETS_CIPHER / SECRETS_DEFAULT, DSN, COURIER_SMTP_CONNECTION_URI (when smtpUrl is a ${VAR}) and,
 * when roles are enabled, the flows' whole `after` sections as JSON objects (SELFSERVICE_FLOWS_LOGIN_AFTER,
 * SELFSERVICE_FLOWS_REGISTRATION_AFTER). Verified against the real Kratos (v1.3.1, and v26.2.0 in the suite): a list-typed key given as env
 * (…_AFTER_HOOKS) arrives as a string and fails validation, an object-typed key is decoded as JSON, and env replaces
 * the key whole — so the section carrying the web hook secret is passed whole. kratos.yml holds the same sections
 * with a placeholder secret, so a server started without that env fails loudly (the role webhook answers 401 and the
 * flow errors) instead of silently skipping roles. See kratosEnv in src/project/env.ts.
 */
import {defaultReturnUrl, kratosBrowserUrl} from '../config/browser.js'
import type {IamConfig} from '../config/model.js'
import {SERVER_RELATIVE} from '../project/layout.js'
import {baseUrl, joinUrl, jsonDocument, loopback, yamlDocument} from './common.js'

/** Path of the role webhook endpoint Kratos calls (agreed with the role-webhook server). */
export const ROLE_WEBHOOK_PATH = '/hooks/kratos'
/** Header carrying the shared secret on web hook calls. */
export const ROLE_WEBHOOK_SECRET_HEADER = 'Authorization'
/** Value of the web hook secret in kratos.yml; the real one comes from env (see module comment). */
export const ROLE_WEBHOOK_SECRET_PLACEHOLDER = 'set-from-env-ROLE_WEBHOOK_SECRET'
export const IDENTITY_SCHEMA_ID = 'default'

export interface KratosHook {
  hook: string
  config?: Record<string, unknown>
}

/** `${VAR}` references are resolved by the runtime and passed as env, never written into the YAML. */
export function isEnvRef(value: string): boolean {
  return /\$\{[A-Za-z_][A-Za-z0-9_]*\}/.test(value)
}

function roleWebHook(config: IamConfig, o: {webhookBaseUrl?: string; secret: string; parse: boolean}): KratosHook {
  return {
    hook: 'web_hook',
    config: {
      url: joinUrl(o.webhookBaseUrl ?? loopback(config.ports.roleWebhook), ROLE_WEBHOOK_PATH),
      method: 'POST',
      body: SERVER_RELATIVE.roleWebhookBody,
      // Authorization: Kratos redacts it in its logs (it logs every other hook header in clear).
      auth: {type: 'api_key', config: {name: ROLE_WEBHOOK_SECRET_HEADER, value: `Bearer ${o.secret}`, in: 'header'}},
      // The webhook patches metadata_public itself through the admin API and answers without an `identity`, so parsing
      // changes nothing on success; after login it lets a --strict refusal show its message in the flow's UI. After
      // registration parsing would make Kratos run the hook before the identity is stored, with nothing to patch.
      response: {ignore: false, parse: o.parse},
    },
  }
}

/** The `after` section of a self-service flow. */
export interface KratosAfter {
  hooks?: KratosHook[]
  password?: {hooks: KratosHook[]}
  code?: {hooks: KratosHook[]}
}

/**
 * The `after` sections of login and registration. Registration ends with `session` (signs the user in; API flows get
 * their session token from it), which Kratos only accepts in a method's own list (`after.password.hooks`), and a
 * method's own list replaces the flow-wide one — so with roles enabled the web hook goes first into each enabled
 * method's list. Login takes the web hook in the flow-wide `after.hooks`, which applies to every method.
 */
export function kratosAfterHooks(
  config: IamConfig,
  o: {webhookBaseUrl?: string; secret?: string} = {},
): {login: KratosAfter | undefined; registration: KratosAfter} {
  const methods = (['password', 'code'] as const).filter((m) => (m === 'password' ? config.kratos.methods.password : config.kratos.methods.code))
  const session: KratosHook = {hook: 'session'}
  if (!config.roles.enabled) {
    return {login: undefined, registration: Object.fromEntries(methods.map((m) => [m, {hooks: [session]}])) as KratosAfter}
  }
  const hookOptions = {webhookBaseUrl: o.webhookBaseUrl, secret: o.secret ?? ROLE_WEBHOOK_SECRET_PLACEHOLDER}
  const afterLogin = roleWebHook(config, {...hookOptions, parse: true})
  const afterRegistration = roleWebHook(config, {...hookOptions, parse: false})
  return {
    login: {hooks: [afterLogin]},
    registration: Object.fromEntries(methods.map((m) => [m, {hooks: [afterRegistration, session]}])) as KratosAfter,
  }
}

function uiUrl(config: IamConfig, path: string): string {
  return joinUrl(config.kratos.uiUrl, path)
}

/** kratos.yml for the native runtime (loopback, ports from iam.yaml, file paths relative to ory/kratos/). */
export function renderKratosConfig(config: IamConfig): string {
  const {kratos, ports} = config
  const hooks = kratosAfterHooks(config)
  const smtp: Record<string, unknown> = {}
  if (!isEnvRef(kratos.smtpUrl)) smtp.connection_uri = kratos.smtpUrl
  smtp.from_address = kratos.fromAddress
  const doc = {
    serve: {
      // Browsers reach Kratos through the gateway (/.ory/): its cookies and redirects are on the app's origin.
      public: {base_url: baseUrl(kratosBrowserUrl(config)), host: '127.0.0.1', port: ports.kratosPublic},
      admin: {base_url: baseUrl(loopback(ports.kratosAdmin)), host: '127.0.0.1', port: ports.kratosAdmin},
    },
    selfservice: {
      default_browser_return_url: baseUrl(defaultReturnUrl(config)),
      allowed_return_urls: [...kratos.allowedReturnUrls],
      methods: {
        password: {enabled: kratos.methods.password, config: {haveibeenpwned_enabled: kratos.passwordBreachCheck}},
        // Recovery and verification send codes, so the code method stays enabled; `methods.code` turns on
        // passwordless login and registration with it.
        code: {enabled: true, passwordless_enabled: kratos.methods.code},
      },
      flows: {
        error: {ui_url: uiUrl(config, 'error')},
        settings: {ui_url: uiUrl(config, 'settings'), privileged_session_max_age: '15m'},
        recovery: {enabled: true, use: 'code', ui_url: uiUrl(config, 'recovery')},
        verification: {enabled: true, use: 'code', ui_url: uiUrl(config, 'verification')},
        logout: {after: {default_browser_return_url: uiUrl(config, 'login')}},
        login: {ui_url: uiUrl(config, 'login'), lifespan: '10m', ...(hooks.login ? {after: hooks.login} : {})},
        registration: {ui_url: uiUrl(config, 'registration'), lifespan: '10m', after: hooks.registration},
      },
    },
    // SameSite=Lax on every cookie Kratos sets (its default too, made explicit: `iam doctor --production` checks it).
    cookies: {same_site: 'Lax'},
    session: {cookie: {same_site: 'Lax'}},
    identity: {
      default_schema_id: IDENTITY_SCHEMA_ID,
      schemas: [{id: IDENTITY_SCHEMA_ID, url: SERVER_RELATIVE.identitySchema}],
    },
    courier: {smtp},
  }
  return yamlDocument(doc)
}

/**
 * The identity schema: email (password identifier, verification and recovery address), optional name.
 * `metadata_public.roles` is written by the role webhook; Kratos does not validate metadata against this schema.
 */
export function renderIdentitySchema(config: IamConfig): string {
  const properties: Record<string, unknown> = {
    email: {
      type: 'string',
      format: 'email',
      title: 'E-Mail',
      minLength: 3,
      maxLength: 320,
      'ory.sh/kratos': {
        credentials: {password: {identifier: true}, ...(config.kratos.methods.code ? {code: {identifier: true, via: 'email'}} : {})},
        verification: {via: 'email'},
        recovery: {via: 'email'},
      },
    },
  }
  if (config.kratos.traits.name) properties.name = {type: 'string', title: 'Name', maxLength: 256}
  return jsonDocument({
    $id: `https://iam.local/schemas/${encodeURIComponent(config.project)}/identity.schema.json`,
    $schema: 'http://json-schema.org/draft-07/schema#',
    $comment:
      'Generated by `iam render` from iam.yaml. Roles live in metadata_public.roles (set by the role webhook, not validated here).',
    title: 'Person',
    type: 'object',
    properties: {traits: {type: 'object', properties, required: ['email'], additionalProperties: false}},
  })
}
