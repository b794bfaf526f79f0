import {ORY_VERSION} from '../ory/servers.js'
import {derivedAddresses, matchUrl} from './addresses.js'
import type {HttpMethod, IamConfig, NamespaceConfig, PortsConfig, RouteConfig} from './model.js'

/**
 * The one place defaults live. `defaultConfig(project)` is the starter configuration `iam init --yes` writes,
 * including one example route of each kind; iam.yaml keys that are absent take their value from it (see
 * parseConfig), except `routes` and `seed`, which are empty when absent.
 */

export const DEFAULT_PORTS: Readonly<PortsConfig> = Object.freeze({
  kratosPublic: 4433,
  kratosAdmin: 4434,
  ketoRead: 4466,
  ketoWrite: 4467,
  ketoMetrics: 4468,
  ketoOpl: 4469,
  oathkeeperProxy: 4455,
  oathkeeperApi: 4456,
  oathkeeperMetrics: 4457,
  batchAuth: 4470,
  roleWebhook: 4471,
  mailUi: 4436,
  mailSmtp: 1025,
  postgres: 4432,
  ui: 4460,
  exampleApp: 8080,
  hydraPublic: 4444,
  hydraAdmin: 4445,
  clientClaims: 4472,
})

/** Where the example routes forward to with the default ports: the example app (later, the user's own application). */
export const EXAMPLE_UPSTREAM = 'http://127.0.0.1:8080'

/** Subject types of a relation whose `subjects` are not declared. */
export const DEFAULT_RELATION_SUBJECTS: readonly string[] = Object.freeze(['User'])

const WRITE_METHODS: HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']

export interface DefaultBasis {
  /** Ports the derived URLs use (publicUrl, issuer, SMTP URL, route matches). */
  ports?: Partial<PortsConfig>
  /** gateway.publicUrl when set; the issuer and the example routes' matches follow it. */
  gatewayUrl?: string
  /** kratos.uiUrl when set (default: the built-in pages under the gateway's /ui/). */
  uiUrl?: string
  /** When false the admin example route checks Keto (anyOf) instead of session roles. Default true. */
  roles?: boolean
  /** hydra.publicUrl when set. */
  hydraUrl?: string
  /** Hydra on, with the starter machine route (`iam init --machine-clients`). Default false. */
  machineClients?: boolean
}

export function defaultNamespaces(): NamespaceConfig[] {
  return [
    {name: 'User', relations: [], subjects: {}},
    {name: 'Role', relations: ['member'], subjects: {member: ['User']}},
    {name: 'Tenant', relations: ['member'], subjects: {member: ['User']}},
  ]
}

/** The complete starter model for a project; URLs are derived from the ports in `basis`. */
export function defaultConfig(project: string, basis: DefaultBasis = {}): IamConfig {
  const ports: PortsConfig = {...DEFAULT_PORTS, ...basis.ports}
  const addresses = derivedAddresses(ports, basis.gatewayUrl)
  const uiUrl = basis.uiUrl ?? addresses.uiUrl
  const rolesEnabled = basis.roles ?? true
  return {
    version: 1,
    project,
    oryVersion: ORY_VERSION,
    runtime: 'auto',
    ports,
    database: {engine: 'sqlite'},
    gateway: {publicUrl: addresses.gatewayUrl},
    kratos: {
      publicUrl: addresses.kratosPublicUrl,
      uiUrl,
      // The built-in pages return anywhere on the gateway's origin; a UI of your own returns to itself.
      allowedReturnUrls: basis.uiUrl === undefined ? addresses.allowedReturnUrls : [uiUrl],
      traits: {name: true},
      methods: {password: true, code: false},
      passwordBreachCheck: true,
      smtpUrl: addresses.smtpUrl,
      fromAddress: 'no-reply@example.com',
    },
    keto: {namespaces: defaultNamespaces(), maxBatchCheckSize: 10},
    tokens: {
      issuer: addresses.issuer,
      ttlMs: 60_000,
      algorithm: 'RS256',
      clockSkewMs: 5_000,
      jwksRefreshMs: 30_000,
    },
    roles: {enabled: rolesEnabled, namespace: 'Role', relation: 'member', strict: false},
    hydra: {enabled: basis.machineClients ?? false, publicUrl: basis.hydraUrl ?? addresses.hydraPublicUrl, accessTokenTtlMs: 15 * 60_000, introspectionCacheMs: 5_000},
    routes: [
      ...exampleRoutes(project, addresses.gatewayUrl, rolesEnabled, `http://127.0.0.1:${ports.exampleApp}`),
      ...(basis.machineClients ? [machineRoute(project, addresses.gatewayUrl, `http://127.0.0.1:${ports.exampleApp}`)] : []),
    ],
    seed: {identities: [], clients: [], tuples: []},
    // The starter runs the example app its routes point at; an iam.yaml without the key runs none.
    exampleApp: true,
  }
}

/** The scope the starter machine route asks of a client's token. */
export function machineScope(project: string): string {
  return `${project}:read`
}

/** `iam init --machine-clients`: a route services call with a Hydra access token holding the project's read scope. */
function machineRoute(project: string, gatewayUrl: string, upstream: string): RouteConfig {
  return {id: 'machine', match: matchUrl(gatewayUrl, '/machine/<**>'), methods: ['GET', 'POST'], upstream, auth: 'client', scopes: [machineScope(project)], audience: `${project}-api`}
}

function exampleRoutes(project: string, gatewayUrl: string, rolesEnabled: boolean, upstream: string): RouteConfig[] {
  const audience = `${project}-api`
  const adminCheck = {namespace: 'Role', object: 'admin', relation: 'member'}
  return [
    {id: 'public', match: matchUrl(gatewayUrl, '/public/<**>'), methods: ['GET', 'HEAD'], upstream, auth: 'anonymous', audience},
    {
      id: 'admin',
      match: matchUrl(gatewayUrl, '/admin/<**>'),
      methods: [...WRITE_METHODS],
      upstream,
      auth: 'session',
      audience,
      // Without the role webhook sessions carry no roles, so ask Keto for the same fact instead.
      authorization: rolesEnabled ? {roles: ['admin']} : {anyOf: [adminCheck]},
    },
    {
      id: 'tenant',
      match: matchUrl(gatewayUrl, '/tenants/{tenant}/<**>'),
      methods: [...WRITE_METHODS],
      upstream,
      auth: 'session',
      audience,
      authorization: {anyOf: [adminCheck, {namespace: 'Tenant', object: '{tenant}', relation: 'member'}]},
    },
    // The signed-in area the sign-in pages return to (kratos' default return URL is gateway + /app/).
    {id: 'app', match: matchUrl(gatewayUrl, '/app/<**>'), methods: ['GET', 'POST'], upstream, auth: 'session', audience},
  ]
}
