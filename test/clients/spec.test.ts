/** The pure parts of machine clients: what a spec may hold, Hydra's client → iam's view, the rules a client route renders to. */
import {describe, expect, it} from 'vitest'

import {parseMetadata, toMachineClient, validateSpec} from '../../src/clients/index.js'
import {IamError} from '../../src/errors.js'
import {idTokenClaimsTemplate, oathkeeperConfigObject, routeToRule} from '../../src/templates/oathkeeper.js'
import {testConfig} from '../templates/fixture.js'

const spec = {id: 'billing', scopes: ['demo:read'], audience: [], metadata: {tier: 'gold'}}
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn()
  } catch (error) {
    return error instanceof IamError ? `${error.code} ${error.exitCode}` : String(error)
  }
  return undefined
}

describe('machine client specs', () => {
  it('accepts a usable spec and refuses a bad id, scope, metadata key, short secret or lifetime with CLIENT_INVALID (exit 2)', () => {
    expect(codeOf(() => validateSpec(spec))).toBeUndefined()
    for (const bad of [{id: 'a b'}, {scopes: ['demo read']}, {scopes: ['a"b']}, {metadata: {'1x': 'v'}}, {secret: 'short'}, {tokenTtlMs: 10}, {tokenTtlMs: 25 * 3_600_000}, {audience: ['a b']}]) {
      expect(codeOf(() => validateSpec({...spec, ...bad})), JSON.stringify(bad)).toBe('CLIENT_INVALID 2')
    }
  })

  it('--metadata takes key=value pairs (the value may hold "=")', () => {
    expect(parseMetadata(['namespace=acme', 'q=a=b'])).toEqual({namespace: 'acme', q: 'a=b'})
    expect(codeOf(() => parseMetadata(['novalue']))).toBe('CLIENT_INVALID 2')
    expect(codeOf(() => parseMetadata(['=x']))).toBe('CLIENT_INVALID 2')
  })

  it("Hydra's client becomes iam's view: scopes split, Go lifespans as iam durations, never a secret", () => {
    const view = toMachineClient({client_id: 'billing', client_secret: 'never-shown', scope: 'a:read  b:write', metadata: {tier: 'gold', n: 2}, client_credentials_grant_access_token_lifespan: '5m0s', created_at: '2026-12-04T00:00:00Z'})
    expect(view).toEqual({id: 'billing', name: 'billing', scopes: ['a:read', 'b:write'], audience: [], metadata: {tier: 'gold', n: '2'}, tokenTtl: '300s', createdAt: '2026-12-04T00:00:00Z'})
    expect(JSON.stringify(view)).not.toContain('never-shown')
    expect(toMachineClient({client_id: 'x', client_credentials_grant_access_token_lifespan: null}).tokenTtl).toBeUndefined()
  })
})

describe('client routes in Oathkeeper', () => {
  const config = testConfig((c) => (c.hydra.enabled = true))
  const route = {id: 'm', match: 'http://127.0.0.1:4455/machine/<**>', methods: ['GET' as const], upstream: 'http://127.0.0.1:8080', auth: 'client' as const, scopes: ['demo:read'], audience: 'demo-api'}

  it('auth: client is oauth2_introspection alone, with the route\'s scopes; session-or-client picks by the token prefix', () => {
    expect(routeToRule(config, route).authenticators).toEqual([{handler: 'oauth2_introspection', config: {required_scope: ['demo:read']}}])
    expect(routeToRule(config, {...route, auth: 'session-or-client'}).authenticators).toEqual([
      {handler: 'cookie_session'},
      {handler: 'bearer_token', config: {prefix: 'ory_st_'}},
      {handler: 'oauth2_introspection', config: {required_scope: ['demo:read']}},
    ])
  })

  it('introspection: only ory_at_ tokens from Hydra\'s issuer, exact scopes, answers cached for introspectionCache', () => {
    const authn = oathkeeperConfigObject(config).authenticators as Record<string, {config: Record<string, unknown>}>
    expect(authn.oauth2_introspection!.config).toMatchObject({
      introspection_url: 'http://127.0.0.1:4445/admin/oauth2/introspect',
      prefix: 'ory_at_',
      scope_strategy: 'exact',
      trusted_issuers: ['http://127.0.0.1:4444/'],
      cache: {enabled: true, ttl: '5s'},
    })
    expect(oathkeeperConfigObject(testConfig()).authenticators).not.toHaveProperty('oauth2_introspection')
    const uncached = testConfig((c) => Object.assign(c.hydra, {enabled: true, introspectionCacheMs: 0}))
    expect((oathkeeperConfigObject(uncached).authenticators as Record<string, {config: Record<string, unknown>}>).oauth2_introspection!.config.cache).toEqual({enabled: false})
  })

  it('a client id_token is marked machine by the rule itself; session-or-client decides per request', () => {
    const client = idTokenClaimsTemplate(config, 'demo-api', {subject: 'client'})
    expect(client).toContain('"type":"machine","client_id":{{ toJson .Extra.client_id }}')
    expect(client).not.toContain('"email"')
    const either = idTokenClaimsTemplate(config, 'demo-api', {subject: 'session-or-client'})
    expect(either).toMatch(/\{\{ if \.Extra\.client_id \}\}"type":"machine".*\{\{ else \}\}"email":/)
  })
})
