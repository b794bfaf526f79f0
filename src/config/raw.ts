import {isMatchPath, matchUrl} from './addresses.js'
import {parseDuration} from './duration.js'
import {defaultConfig, DEFAULT_RELATION_SUBJECTS} from './defaults.js'
import type {DatabaseConfig, HydraConfig, IamConfig, NamespaceConfig, PortsConfig, RolesConfig, RouteConfig, RuntimePreference, SeedIdentity, TokenAlgorithm} from './model.js'

/** iam.yaml as written (after schema validation): every key optional except the required ones; durations as text. */
export interface RawConfig {
  version: 1
  project: string
  oryVersion?: string
  runtime?: RuntimePreference
  ports?: Partial<PortsConfig>
  database?: 'sqlite' | 'postgres' | {engine: 'postgres'; urls: {kratos: string; keto: string; hydra?: string}}
  gateway?: {publicUrl?: string}
  kratos?: {
    publicUrl?: string
    uiUrl?: string
    allowedReturnUrls?: string[]
    traits?: {name?: boolean}
    methods?: {password?: boolean; code?: boolean}
    passwordBreachCheck?: boolean
    smtpUrl?: string
    fromAddress?: string
  }
  keto?: {namespaces?: (Omit<NamespaceConfig, 'relations'> & {relations?: string[]})[]; maxBatchCheckSize?: number}
  tokens?: {issuer?: string; ttl?: string; algorithm?: TokenAlgorithm; clockSkew?: string; jwksRefresh?: string}
  roles?: Partial<RolesConfig>
  hydra?: {enabled?: boolean; publicUrl?: string; accessTokenTtl?: string; introspectionCache?: string}
  /** Routes as the model holds them, except `match`, which may be a path below gateway.publicUrl. */
  routes?: RouteConfig[]
  exampleApp?: boolean
  seed?: {
    identities?: (Omit<SeedIdentity, 'roles'> & {roles?: string[]})[]
    clients?: {id: string; name?: string; secret: string; scopes?: string[]; audience?: string[]; metadata?: Record<string, string>; tokenTtl?: string}[]
    tuples?: string[]
  }
}

function duration(text: string | undefined, fallback: number): number {
  return text === undefined ? fallback : (parseDuration(text) ?? fallback)
}

function namespace(ns: NonNullable<NonNullable<RawConfig['keto']>['namespaces']>[number]): NamespaceConfig {
  const relations = ns.relations ?? []
  const subjects = Object.fromEntries(relations.map((r) => [r, [...(ns.subjects?.[r] ?? DEFAULT_RELATION_SUBJECTS)]]))
  return {name: ns.name, relations: [...relations], subjects}
}

function route(r: RouteConfig, gatewayUrl: string): RouteConfig {
  const authorization = r.authorization
    ? {
        ...(r.authorization.roles ? {roles: [...r.authorization.roles]} : {}),
        ...(r.authorization.anyOf ? {anyOf: r.authorization.anyOf.map((c) => ({namespace: c.namespace, object: c.object, relation: c.relation}))} : {}),
      }
    : undefined
  return {
    id: r.id,
    match: isMatchPath(r.match) ? matchUrl(gatewayUrl, r.match) : r.match,
    methods: [...r.methods],
    upstream: r.upstream,
    ...(r.stripPath === undefined ? {} : {stripPath: r.stripPath}),
    auth: r.auth,
    ...(r.scopes === undefined ? {} : {scopes: [...r.scopes]}),
    audience: r.audience,
    ...(authorization ? {authorization} : {}),
  }
}

function database(raw: RawConfig['database']): DatabaseConfig {
  if (raw === undefined || raw === 'sqlite') return {engine: 'sqlite'}
  if (raw === 'postgres') return {engine: 'postgres'}
  return {engine: 'postgres', urls: {kratos: raw.urls.kratos, keto: raw.urls.keto, ...(raw.urls.hydra === undefined ? {} : {hydra: raw.urls.hydra})}}
}

/** The resolved model: absent keys from defaultConfig (routes and seed empty when absent), durations in ms. */
export function toModel(raw: RawConfig): IamConfig {
  const d = defaultConfig(raw.project, {ports: raw.ports, uiUrl: raw.kratos?.uiUrl, gatewayUrl: raw.gateway?.publicUrl, hydraUrl: raw.hydra?.publicUrl})
  const h = raw.hydra ?? {}
  const k = raw.kratos ?? {}
  const t = raw.tokens ?? {}
  return {
    version: 1,
    project: raw.project,
    oryVersion: raw.oryVersion ?? d.oryVersion,
    runtime: raw.runtime ?? d.runtime,
    ports: d.ports,
    database: database(raw.database),
    gateway: {...d.gateway},
    kratos: {
      publicUrl: k.publicUrl ?? d.kratos.publicUrl,
      uiUrl: d.kratos.uiUrl,
      allowedReturnUrls: [...(k.allowedReturnUrls ?? d.kratos.allowedReturnUrls)],
      traits: {...d.kratos.traits, ...k.traits},
      methods: {...d.kratos.methods, ...k.methods},
      passwordBreachCheck: k.passwordBreachCheck ?? d.kratos.passwordBreachCheck,
      smtpUrl: k.smtpUrl ?? d.kratos.smtpUrl,
      fromAddress: k.fromAddress ?? d.kratos.fromAddress,
    },
    keto: {
      namespaces: raw.keto?.namespaces ? raw.keto.namespaces.map(namespace) : d.keto.namespaces,
      maxBatchCheckSize: raw.keto?.maxBatchCheckSize ?? d.keto.maxBatchCheckSize,
    },
    tokens: {
      issuer: t.issuer ?? d.tokens.issuer,
      ttlMs: duration(t.ttl, d.tokens.ttlMs),
      algorithm: t.algorithm ?? d.tokens.algorithm,
      clockSkewMs: duration(t.clockSkew, d.tokens.clockSkewMs),
      jwksRefreshMs: duration(t.jwksRefresh, d.tokens.jwksRefreshMs),
    },
    roles: {...d.roles, ...raw.roles},
    hydra: {
      enabled: h.enabled ?? d.hydra.enabled,
      publicUrl: d.hydra.publicUrl,
      accessTokenTtlMs: duration(h.accessTokenTtl, d.hydra.accessTokenTtlMs),
      introspectionCacheMs: duration(h.introspectionCache, d.hydra.introspectionCacheMs),
    } satisfies HydraConfig,
    routes: (raw.routes ?? []).map((r) => route(r, d.gateway.publicUrl)),
    seed: {
      identities: (raw.seed?.identities ?? []).map((i) => ({
        email: i.email,
        ...(i.password === undefined ? {} : {password: i.password}),
        ...(i.name === undefined ? {} : {name: i.name}),
        roles: [...(i.roles ?? [])],
      })),
      clients: (raw.seed?.clients ?? []).map((c) => ({
        id: c.id,
        ...(c.name === undefined ? {} : {name: c.name}),
        secret: c.secret,
        scopes: [...(c.scopes ?? [])],
        audience: [...(c.audience ?? [])],
        metadata: {...c.metadata},
        ...(c.tokenTtl === undefined ? {} : {tokenTtlMs: duration(c.tokenTtl, d.hydra.accessTokenTtlMs)}),
      })),
      tuples: [...(raw.seed?.tuples ?? [])],
    },
    exampleApp: raw.exampleApp ?? false,
  }
}
