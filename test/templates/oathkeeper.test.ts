import {parse} from 'yaml'
import {ORY_VERSION} from '../../src/ory/servers.js'
import {describe, expect, it} from 'vitest'

import type {RouteConfig} from '../../src/config/model.js'
import {renderOathkeeperComposeConfig} from '../../src/templates/compose.js'
import {
  anyOfPayload,
  idTokenClaimsTemplate,
  OATHKEEPER_JWKS_TTL_MS,
  renderOathkeeperConfig,
  renderOathkeeperRules,
  rolesSubjectFrom,
  type OathkeeperRule,
} from '../../src/templates/oathkeeper.js'
import {testConfig} from './fixture.js'
import {oryConfigErrors} from './ory-schema.js'

type Doc = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

describe('oathkeeper.yml', () => {
  const doc = parse(renderOathkeeperConfig(testConfig())) as Doc

  it('proxy and api on the configured loopback ports; rules from rules.json with the regexp strategy', () => {
    expect(doc.serve).toEqual({proxy: {host: '127.0.0.1', port: 14455}, api: {host: '127.0.0.1', port: 14456}, prometheus: {host: '127.0.0.1', port: 14457}})
    expect(doc.access_rules).toEqual({matching_strategy: 'regexp', repositories: ['file://./rules.json']})
    expect(doc.errors.fallback).toEqual(['json'])
    expect(doc.errors.handlers.json.enabled).toBe(true)
  })

  it('session authenticators ask Kratos whoami with the path preserved, subject = identity id, extra = whole session', () => {
    for (const name of ['cookie_session', 'bearer_token']) {
      expect(doc.authenticators[name].enabled).toBe(true)
      expect(doc.authenticators[name].config).toMatchObject({
        check_session_url: 'http://127.0.0.1:14433/sessions/whoami',
        preserve_path: true,
        extra_from: '@this',
        subject_from: 'identity.id',
      })
    }
    expect(doc.authenticators.cookie_session.config.only).toEqual(['ory_kratos_session'])
    expect(doc.authenticators.anonymous).toEqual({enabled: true, config: {subject: 'guest'}})
  })

  it('the JWKS is re-read after jwks_ttl (the fetcher the id_token mutator shares)', () => {
    expect(doc.authenticators.jwt).toEqual({enabled: false, config: {jwks_urls: ['file://./jwks.json'], jwks_ttl: `${OATHKEEPER_JWKS_TTL_MS / 1000}s`}})
  })

  it('authorizers allow, deny and remote_json to batch-auth; mutators noop, header and id_token', () => {
    expect(doc.authorizers.allow.enabled && doc.authorizers.deny.enabled).toBe(true)
    expect(doc.authorizers.remote_json.config.remote).toBe('http://127.0.0.1:14470/check')
    expect(doc.mutators.noop.enabled && doc.mutators.header.enabled).toBe(true)
    expect(doc.mutators.id_token.config).toEqual({
      issuer_url: 'http://127.0.0.1:14455/',
      jwks_url: 'file://./jwks.json',
      ttl: '60s',
      claims: idTokenClaimsTemplate(testConfig()),
    })
  })

  it('the compose variant reaches Kratos and batch-auth by service name and listens on all interfaces', () => {
    const compose = parse(renderOathkeeperComposeConfig(testConfig())) as Doc
    expect(compose.serve.proxy.host).toBe('0.0.0.0')
    expect(compose.authenticators.bearer_token.config.check_session_url).toBe('http://kratos:14433/sessions/whoami')
    expect(compose.authorizers.remote_json.config.remote).toBe('http://batch-auth:14470/check')
    expect(compose.access_rules.repositories).toEqual(['file://./rules.compose.json'])
  })

  for (const version of [ORY_VERSION]) {
    it(`both variants validate against the Oathkeeper ${version} config schema`, () => {
      expect(oryConfigErrors('oathkeeper', version, doc)).toEqual([])
      expect(oryConfigErrors('oathkeeper', version, parse(renderOathkeeperComposeConfig(testConfig())))).toEqual([])
    })
  }

  it('is deterministic', () => {
    expect(renderOathkeeperConfig(testConfig())).toBe(renderOathkeeperConfig(testConfig()))
  })
})

describe('id_token claims', () => {
  it('aud per route, a per-request jti (defeats the token cache) and roles from metadata_public', () => {
    const claims = idTokenClaimsTemplate(testConfig(), 'orders')
    expect(claims.startsWith('{"aud":["orders"],"jti":"{{ uuidv4 }}","roles":')).toBe(true)
    expect(claims).toContain('{{ with .metadata_public }}{{ with .roles }}')
    expect(idTokenClaimsTemplate(testConfig((c) => (c.roles.enabled = false)), 'x')).toBe('{"aud":["x"],"jti":"{{ uuidv4 }}"}')
  })

  it('refuses template delimiters in literals', () => {
    expect(() => idTokenClaimsTemplate(testConfig(), 'a{{b')).toThrow(/must not contain/)
  })
})

describe('rules.json', () => {
  const rules = JSON.parse(renderOathkeeperRules(testConfig())) as OathkeeperRule[]
  const byId = Object.fromEntries(rules.map((r) => [r.id, r]))

  it('one rule per route, in order, matches converted to the regexp strategy; a trailing /<**> also takes the route root', () => {
    expect(rules.map((r) => r.id)).toEqual(['public', 'admin', 'tenant', 'app', 'iam-ory', 'iam-ui'])
    // Oathkeeper matches the cleaned path, where `/public/` arrives as `/public`.
    expect(byId.public!.match).toEqual({url: 'http://127.0.0.1:14455/public<(?:/(?:.*))?>', methods: ['GET', 'HEAD']})
    expect(byId.tenant!.match.url).toBe('http://127.0.0.1:14455/tenants/<[^/]+><(?:/(?:.*))?>')
    expect(byId.public!.upstream).toEqual({url: 'http://127.0.0.1:8080', preserve_host: false})
    for (const rule of rules.filter((r) => !r.id.startsWith('iam-'))) {
      // Session routes also carry the signed-in user's email.
      expect(rule.mutators).toEqual([{handler: 'id_token', config: {claims: idTokenClaimsTemplate(testConfig(), 'demo-api', {subject: rule.id !== 'public' ? 'session' : 'none'})}}])
    }
    expect(idTokenClaimsTemplate(testConfig(), 'demo-api', {subject: 'session'})).toContain('"email":{{ $email := "" }}')
  })

  it("the gateway's browser rules: /.ory/ → Kratos' public API (prefix stripped), /ui/ → the sign-in pages; anonymous, allow, noop (no id_token for Kratos)", () => {
    expect(byId['iam-ory']).toMatchObject({
      match: {url: 'http://127.0.0.1:14455/.ory<(?:/(?:.*))?>'},
      upstream: {url: 'http://127.0.0.1:14433', preserve_host: false, strip_path: '/.ory'},
    })
    expect(byId['iam-ui']).toMatchObject({match: {url: 'http://127.0.0.1:14455/ui<(?:/(?:.*))?>'}, upstream: {url: 'http://127.0.0.1:4460', preserve_host: false}})
    for (const id of ['iam-ory', 'iam-ui']) {
      expect(byId[id]).toMatchObject({authenticators: [{handler: 'anonymous'}, {handler: 'noop'}], authorizer: {handler: 'allow'}, mutators: [{handler: 'noop'}]})
    }
    const ownUi = JSON.parse(renderOathkeeperRules(testConfig((c) => (c.kratos.uiUrl = 'https://login.example.com/')))) as OathkeeperRule[]
    expect(ownUi.map((r) => r.id)).not.toContain('iam-ui')
  })

  it('anonymous → anonymous + allow; session → cookie_session then bearer_token', () => {
    expect(byId.public!.authenticators).toEqual([{handler: 'anonymous'}, {handler: 'noop'}])
    expect(byId.public!.authorizer).toEqual({handler: 'allow'})
    expect(byId.tenant!.authenticators.map((a) => a.handler)).toEqual(['cookie_session', 'bearer_token'])
  })

  it('roles → the session authenticators only yield a subject when metadata_public.roles has a role', () => {
    const subjectFrom = rolesSubjectFrom(['admin'])
    expect(byId.admin!.authenticators).toEqual([
      {handler: 'cookie_session', config: {subject_from: subjectFrom}},
      {handler: 'bearer_token', config: {subject_from: subjectFrom}},
    ])
    expect(byId.admin!.authorizer).toEqual({handler: 'allow'})
    expect(rolesSubjectFrom(['a', 'b'])).toBe(
      '[[@this].#(identity.metadata_public.roles.#(=="a"))#.identity.id,[@this].#(identity.metadata_public.roles.#(=="b"))#.identity.id,active]|@flatten|0',
    )
  })

  it('anyOf → remote_json with one tuple per check, {param} read from the capture group (unless the forwarded path has an encoded slash), subject JSON-encoded', () => {
    expect(byId.tenant!.authorizer.handler).toBe('remote_json')
    expect(byId.tenant!.authorizer.config!.payload).toBe(
      '{"tuples":[{"namespace":"Role","object":"admin","relation":"member","subject_id":{{ toJson .Subject }}},' +
        '{"namespace":"Tenant","object":{{ if (regexMatch "(?i)%2f" .MatchContext.URL.EscapedPath) }}{{ .MatchContext.URL.EscapedPath | toJson }}' +
        '{{ else }}{{ (printIndex .MatchContext.RegexpCaptureGroups 0) | toJson }}{{ end }},"relation":"member","subject_id":{{ toJson .Subject }}}]}',
    )
  })

  it('a {param} inside a longer object and a second parameter', () => {
    const route: RouteConfig = {
      id: 'doc',
      match: 'http://127.0.0.1:4455/t/{tenant}/docs/{doc}',
      methods: ['GET'],
      upstream: 'http://127.0.0.1:1',
      auth: 'session',
      audience: 'a',
      authorization: {anyOf: [{namespace: 'Doc', object: '{tenant}:{doc}', relation: 'view'}]},
    }
    expect(anyOfPayload(route)).toContain(
      '{{ else }}{{ printf "%s%s%s" (printIndex .MatchContext.RegexpCaptureGroups 0) ":" (printIndex .MatchContext.RegexpCaptureGroups 1) | toJson }}{{ end }}',
    )
    expect(() => anyOfPayload({...route, authorization: {anyOf: [{namespace: 'Doc', object: '{nope}', relation: 'view'}]}})).toThrow(/does not define/)
  })

  it('strip_path is passed through; the compose variant rewrites loopback upstreams', () => {
    const config = testConfig((c) => (c.routes[0]!.stripPath = '/public'))
    expect((JSON.parse(renderOathkeeperRules(config)) as OathkeeperRule[])[0]!.upstream.strip_path).toBe('/public')
  })

  it('is deterministic', () => {
    expect(renderOathkeeperRules(testConfig())).toBe(renderOathkeeperRules(testConfig()))
  })
})
