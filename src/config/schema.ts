import {DURATION_PATTERN} from './duration.js'

/**
 * JSON Schema (draft-07) of iam.yaml as written by users: structure, types, enums and ranges. Cross-field rules
 * (unique ports and ids, overlapping routes, declared namespaces, `${VAR}` placement) live in validate.ts. Defaults
 * are deliberately absent: they live in defaults.ts only. Exported so editors can validate iam.yaml
 * (`# yaml-language-server: $schema=<path to this schema as JSON>`).
 */

const str = (description: string, extra: Record<string, unknown> = {}) => ({type: 'string', minLength: 1, description, ...extra})
const port = (description: string) => ({type: 'integer', minimum: 1, maximum: 65535, description})
const bool = (description: string) => ({type: 'boolean', description})
const duration = (description: string) => ({type: 'string', pattern: DURATION_PATTERN, description: `${description} Format: 500ms, 5s, 10m, 1h.`})
const object = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...extra,
})

export const IDENTIFIER_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$'
export const PROJECT_PATTERN = '^[a-z0-9][a-z0-9_-]*$'
export const ROUTE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$'
/** An OAuth2 scope token (RFC 6749 §3.3): printable ASCII without space, `"` or a backslash. */
export const SCOPE_PATTERN = '^[!#-\\[\\]-~]+$'
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const

const namespaceName = {type: 'string', pattern: IDENTIFIER_PATTERN, description: 'A Keto namespace (an OPL class name).'}
const relationName = {type: 'string', pattern: IDENTIFIER_PATTERN, description: 'A relation name.'}

export const iamConfigJsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://github.com/iam-stack/iam/schemas/iam.yaml.json',
  title: 'iam.yaml',
  description: 'One declarative file the whole Ory stack (Kratos, Keto, Oathkeeper) is rendered from.',
  ...object(
    {
      version: {const: 1, description: 'Schema version of iam.yaml itself.'},
      project: str('Project name; also the compose project name.', {pattern: PROJECT_PATTERN}),
      oryVersion: str('The Ory version every runtime runs (compose images and native binaries).', {pattern: '^v[0-9]+\\.[0-9]+\\.[0-9]+([-+].*)?$'}),
      runtime: {enum: ['auto', 'compose', 'native'], description: 'auto: compose when a Docker engine answers, native otherwise.'},
      ports: object({
        kratosPublic: port('Kratos public API.'),
        kratosAdmin: port('Kratos admin API.'),
        ketoRead: port('Keto read API.'),
        ketoWrite: port('Keto write API.'),
        ketoMetrics: port('Keto Prometheus metrics.'),
        ketoOpl: port('Keto Ory Permission Language syntax API.'),
        oathkeeperProxy: port('Oathkeeper proxy (the gateway).'),
        oathkeeperApi: port('Oathkeeper API (decisions, JWKS).'),
        oathkeeperMetrics: port('Oathkeeper Prometheus metrics.'),
        batchAuth: port('Embedded batch-auth server.'),
        roleWebhook: port('Embedded role webhook.'),
        mailUi: port('Mail catcher web UI.'),
        mailSmtp: port('Mail catcher SMTP.'),
        postgres: port('The PostgreSQL server iam runs with `database: postgres` (loopback).'),
        ui: port('Built-in sign-in pages (iam serve ui), reached through the gateway under /ui/.'),
        exampleApp: port('The example app (iam serve example-app) the starter routes point at.'),
        hydraPublic: port("Hydra's public API (token endpoint), with hydra.enabled."),
        hydraAdmin: port("Hydra's admin API (clients, introspection), loopback only."),
        clientClaims: port("Embedded token hook (iam serve client-claims): the client's metadata into its tokens."),
      }),
      hydra: object({
        enabled: bool('Run Hydra for OAuth2 machine clients (client_credentials) and accept their tokens on client routes.'),
        publicUrl: str("Hydra's public URL: its token endpoint's base and its tokens' issuer (default http://127.0.0.1:<ports.hydraPublic>/)."),
        accessTokenTtl: duration('Lifetime of the access tokens Hydra issues (default 15m).'),
        introspectionCache: duration('How long the gateway keeps an introspection answer: a revoked token is refused within it (default 5s; 0s: ask every time).'),
      }),
      database: {
        description:
          'Where Kratos and Keto keep their data. sqlite (default): a file per server under .iam/data. postgres: a PostgreSQL server iam runs (initdb into its own folder, loopback, password in .env). {engine: postgres, urls: {kratos, keto}}: your own server, one database per Ory server, URLs usually ${VAR}; iam never creates or drops anything there.',
        oneOf: [
          {enum: ['sqlite', 'postgres']},
          object(
            {
              engine: {const: 'postgres'},
              urls: object(
                {
                  kratos: str("Kratos' database, e.g. ${KRATOS_DSN} = postgres://user:password@host:5432/kratos?sslmode=require."),
                  keto: str("Keto's database, e.g. ${KETO_DSN}."),
                  hydra: str("Hydra's database (with hydra.enabled), e.g. ${HYDRA_DSN}."),
                },
                {required: ['kratos', 'keto']},
              ),
            },
            {required: ['engine', 'urls']},
          ),
        ],
      },
      gateway: object({
        publicUrl: str("The gateway's public base URL as clients address it (default http://127.0.0.1:<ports.oathkeeperProxy>); route matches and the default issuer follow it."),
      }),
      kratos: object({
        publicUrl: str("Kratos' public base URL as browsers and the gateway see it (default http://127.0.0.1:<ports.kratosPublic>/). May be ${VAR}."),
        uiUrl: str('Self-service UI base URL (login, registration pages). May be ${VAR}.'),
        allowedReturnUrls: {type: 'array', items: str('An allowed return URL. May be ${VAR}.'), description: 'URLs Kratos may redirect to after a flow.'},
        traits: object({name: bool('Ask for an optional `name` trait besides the required email.')}),
        methods: object({password: bool('Password login.'), code: bool('One-time code login by email.')}),
        passwordBreachCheck: bool("Check new passwords against Have I Been Pwned's range API (needs internet; off where there is none)."),
        smtpUrl: str('SMTP connection URI for courier mails (default: the bundled catcher on ports.mailSmtp). May be ${VAR}.'),
        fromAddress: str('Sender address of courier mails.'),
      }),
      keto: object({
        namespaces: {
          type: 'array',
          minItems: 1,
          items: object(
            {
              name: namespaceName,
              relations: {type: 'array', items: relationName, uniqueItems: true},
              subjects: {
                type: 'object',
                description: 'Subject types per relation: a namespace (`User`) or a subject set (`Role#member`). Default [User].',
                propertyNames: {pattern: IDENTIFIER_PATTERN},
                additionalProperties: {type: 'array', minItems: 1, items: {type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*(#[A-Za-z_][A-Za-z0-9_]*)?$'}},
              },
            },
            {required: ['name']},
          ),
        },
        maxBatchCheckSize: {type: 'integer', minimum: 1, maximum: 1000, description: "Keto's limit.max_batch_check_size."},
      }),
      tokens: object({
        issuer: str('`iss` of minted id_tokens (default: gateway.publicUrl + "/"). May be ${VAR}.'),
        ttl: duration('id_token lifetime.'),
        algorithm: {enum: ['RS256', 'ES256'], description: 'Signing algorithm of the JWKS.'},
        clockSkew: duration('Clock skew verifiers tolerate.'),
        jwksRefresh: duration('How often verifiers refetch the JWKS.'),
      }),
      roles: object({
        enabled: bool('Copy Keto roles into sessions (role webhook) and id_token claims.'),
        namespace: namespaceName,
        relation: relationName,
        strict: bool('When Keto cannot be read during login/registration: false lets the flow through with the roles the identity had, true interrupts it.'),
      }),
      routes: {
        type: 'array',
        items: object(
          {
            id: str('Unique rule id.', {pattern: ROUTE_ID_PATTERN}),
            match: str('Path pattern below gateway.publicUrl, e.g. /tenants/{tenant}/<**> ({name} is one path segment, <**> anything); a full URL is read when it names the gateway.'),
            methods: {type: 'array', minItems: 1, uniqueItems: true, items: {enum: [...HTTP_METHODS]}},
            upstream: str('Upstream base URL. May be ${VAR}.'),
            stripPath: str('Path prefix removed before forwarding.', {pattern: '^/'}),
            auth: {
              enum: ['anonymous', 'session', 'client', 'session-or-client'],
              description: 'session: Kratos cookie or session token. client: a Hydra access token (hydra.enabled). session-or-client: either.',
            },
            scopes: {type: 'array', minItems: 1, uniqueItems: true, items: str('An OAuth2 scope.', {pattern: SCOPE_PATTERN}), description: 'client / session-or-client routes: scopes a client token must hold (all of them).'},
            audience: str('`aud` of the id_token minted for this route.'),
            authorization: object({
              roles: {type: 'array', minItems: 1, uniqueItems: true, items: str('A role name.'), description: 'Allowed when the session has any of these roles.'},
              anyOf: {
                type: 'array',
                minItems: 1,
                description: 'Allowed when any of these Keto checks is allowed for the subject.',
                items: object(
                  {namespace: namespaceName, object: str('Object; may use {param} from the match.'), relation: relationName},
                  {required: ['namespace', 'object', 'relation']},
                ),
              },
            }),
          },
          {required: ['id', 'match', 'methods', 'upstream', 'auth', 'audience']},
        ),
      },
      exampleApp: bool('Run the example app (examples/app: greets the signed-in user from the id_token) on ports.exampleApp with iam up.'),
      seed: object({
        identities: {
          type: 'array',
          items: object(
            {
              email: str('Login email.'),
              password: str('Password; use ${VAR} to keep it out of the file.'),
              name: str('Display name (needs kratos.traits.name).'),
              roles: {type: 'array', uniqueItems: true, items: str('A role name.')},
            },
            {required: ['email']},
          ),
        },
        clients: {
          type: 'array',
          items: object(
            {
              id: str('The client id (stable: services name it).', {pattern: ROUTE_ID_PATTERN}),
              name: str('Display name (default: the id).'),
              secret: str('The client secret, at least 24 characters: use ${VAR} to keep it out of the file.'),
              scopes: {type: 'array', uniqueItems: true, items: str('An OAuth2 scope.', {pattern: SCOPE_PATTERN})},
              audience: {type: 'array', uniqueItems: true, items: str('An audience the client may ask for.')},
              metadata: {type: 'object', additionalProperties: {type: 'string'}, description: 'Free claims for its tokens, e.g. {namespace: acme, tier: gold}.'},
              tokenTtl: duration("Its access tokens' lifetime (default hydra.accessTokenTtl)."),
            },
            {required: ['id', 'secret']},
          ),
        },
        tuples: {type: 'array', items: str('Keto text form: Namespace:object#relation@subject.')},
      }),
    },
    {required: ['version', 'project']},
  ),
} as const
