import {describe, expect, it} from 'vitest'

import {parseConfig} from '../../src/config/load.js'
import {issueOf, issuesOf, MINIMAL, withRoutes} from './helpers.js'

const route = (id: string, match: string, extra = '', methods = '[GET]'): string =>
  `  - id: ${id}\n    match: ${match}\n    methods: ${methods}\n    upstream: http://127.0.0.1:8080\n    auth: session\n    audience: api\n${extra}`

describe('routes', () => {
  it('route ids are unique', () => {
    const issue = issueOf(withRoutes(route('a', 'http://127.0.0.1:4455/a') + route('a', 'http://127.0.0.1:4455/b')))
    expect(issue).toMatchObject({line: 10, column: 9, path: 'routes[1].id', message: 'route id "a" is already used by routes[0]'})
  })

  it('a syntax error in a match is located inside the string', () => {
    const issue = issueOf(withRoutes(route('a', 'http://127.0.0.1:4455/a/<**')))
    expect(issue).toMatchObject({line: 5, column: 36, path: 'routes[0].match', message: 'invalid match: unclosed "<": a glob part must end with ">"'})
    const quoted = issueOf(withRoutes(route('a', '"http://127.0.0.1:4455/t/x{id}"')))
    expect(quoted).toMatchObject({line: 5, column: 38, message: expect.stringContaining('whole path segment')})
  })

  it.each([
    ['a/<**>', 'a path starting with "/"'],
    ['http:///a', 'no host'],
    ['http://127.0.0.1:4455', 'no path'],
    ['http://127.0.0.1:4455/a?x=1', 'without query'],
    ['http://127.0.0.1:4455/{a}/{a}', 'appears twice'],
    ['http://127.0.0.1:4455/a/<[a-z>', 'unclosed "["'],
    ['http://127.0.0.1:4455/a/>', 'without a matching "<"'],
    ['"http://127.0.0.1:4455/a/{1x}"', 'parameter is written {name}'],
  ])('rejects the match %s', (match, message) => {
    expect(issueOf(withRoutes(route('a', match))).message).toContain(message)
  })

  it('two routes with the same match and a common method overlap', () => {
    const issue = issueOf(withRoutes(route('a', 'http://127.0.0.1:4455/a/<**>', '', '[GET, POST]') + route('b', 'http://127.0.0.1:4455/a/<**>', '', '[POST]')))
    expect(issue).toMatchObject({line: 11, column: 12, path: 'routes[1].match'})
    expect(issue.message).toBe(
      'overlaps route "a" (routes[0]): both match POST http://127.0.0.1:4455/a/; Oathkeeper answers 500 when two rules match one request, so make the matches or the methods disjoint',
    )
  })

  it('a wildcard route overlaps a more specific one, and the error shows a URL both match', () => {
    const issue = issueOf(withRoutes(route('users', 'http://127.0.0.1:4455/api/users') + route('api', 'http://127.0.0.1:4455/api/<**>')))
    expect(issue.message).toContain('both match GET http://127.0.0.1:4455/api/users;')
    const param = issueOf(withRoutes(route('t', '"http://127.0.0.1:4455/t/{id}/x"') + route('u', 'http://127.0.0.1:4455/t/<*>/<**>')))
    expect(param.message).toMatch(/both match GET http:\/\/127\.0\.0\.1:4455\/t\/[^/.]+\/x;/)
  })

  it('disjoint matches, or the same match with disjoint methods, are fine', () => {
    const config = parseConfig(
      withRoutes(
        route('a', 'http://127.0.0.1:4455/a/<**>') +
          route('a-post', 'http://127.0.0.1:4455/a/<**>', '', '[POST]') +
          route('b', 'http://127.0.0.1:4455/b/<**>') +
          route('one', '"http://127.0.0.1:4455/t/{id}"') +
          route('deeper', '"http://127.0.0.1:4455/t/{id}/x"') +
          route('path-form', '/e/<**>') +
          route('dotted', 'http://127.0.0.1:4455/files/<*>.txt') +
          route('alternatives', 'http://127.0.0.1:4455/<{c,d}>/x'),
      ),
    )
    expect(config.routes).toHaveLength(8)
  })

  it('a match written as a path lies below the gateway; a full URL naming another host:port is refused with the path as the fix', () => {
    const config = parseConfig(withRoutes(route('a', '/a/<**>') + route('b', 'http://127.0.0.1:4455/b/<**>')))
    expect(config.routes.map((r) => r.match)).toEqual(['http://127.0.0.1:4455/a/<**>', 'http://127.0.0.1:4455/b/<**>'])
    const other = issueOf(withRoutes(route('a', 'http://localhost:4455/a/<**>')))
    expect(other).toMatchObject({line: 5, path: 'routes[0].match'})
    expect(other.message).toContain("names http://localhost:4455, but the gateway's public URL is http://127.0.0.1:4455")
    expect(other.allowed).toEqual(['match: /a/<**> (a path; the host part follows gateway.publicUrl)'])
    // An older file whose matches kept the default port after ports: moved.
    const moved = issueOf(`${MINIMAL}ports: {oathkeeperProxy: 5455}\nroutes:\n${route('a', 'http://127.0.0.1:4455/a/<**>')}`)
    expect(moved.message).toContain('http://127.0.0.1:5455 (from ports.oathkeeperProxy)')
  })

  it('glob * stops at dots, ** does not', () => {
    expect(parseConfig(withRoutes(route('a', 'http://127.0.0.1:4455/f/<*>') + route('b', 'http://127.0.0.1:4455/f/x.<**>'))).routes).toHaveLength(2)
    expect(issueOf(withRoutes(route('a', 'http://127.0.0.1:4455/f/<**>') + route('b', 'http://127.0.0.1:4455/f/x.<**>'))).message).toContain('both match GET http://127.0.0.1:4455/f/x.;')
    expect(parseConfig(withRoutes(route('a', 'http://127.0.0.1:4455/f/<*>') + route('b', 'http://127.0.0.1:4455/f/<*>.txt'))).routes).toHaveLength(2)
  })

  it('anyOf objects may only use parameters of the match', () => {
    const issue = issueOf(
      withRoutes(route('t', '"http://127.0.0.1:4455/tenants/{tenant}/<**>"', '    authorization:\n      anyOf:\n        - {namespace: Tenant, object: "org-{tenat}", relation: member}\n')),
    )
    expect(issue).toMatchObject({line: 12, column: 44, path: 'routes[0].authorization.anyOf[0].object', allowed: ['{tenant}']})
    expect(issue.message).toBe('parameter {tenat} is not declared in this route\'s match (did you mean "tenant"?)')
  })

  it('anyOf checks name declared namespaces and relations', () => {
    const issues = issuesOf(
      withRoutes(route('t', 'http://127.0.0.1:4455/t/<**>', '    authorization:\n      anyOf:\n        - {namespace: Tenants, object: x, relation: member}\n        - {namespace: Tenant, object: x, relation: owner}\n')),
    )
    expect(issues).toMatchObject([
      {line: 12, column: 23, message: 'namespace "Tenants" is not declared in keto.namespaces (did you mean "Tenant"?)', allowed: ['User', 'Role', 'Tenant']},
      {line: 13, column: 52, message: 'namespace Tenant has no relation "owner"', allowed: ['member']},
    ])
  })

  it('roles and anyOf together are refused, and so is authorization on an anonymous route', () => {
    const both = issueOf(withRoutes(route('t', 'http://127.0.0.1:4455/t/<**>', '    authorization:\n      roles: [admin]\n      anyOf: [{namespace: Role, object: admin, relation: member}]\n')))
    expect(both).toMatchObject({line: 10, column: 5, message: expect.stringContaining('either roles or anyOf, not both')})
    const anonymous = issueOf(withRoutes(route('t', 'http://127.0.0.1:4455/t/<**>', '    authorization:\n      roles: [admin]\n').replace('auth: session', 'auth: anonymous')))
    expect(anonymous).toMatchObject({line: 10, message: 'an anonymous route has no subject to authorize'})
  })

  it('roles need roles.enabled', () => {
    const issue = issueOf(`${withRoutes(route('t', 'http://127.0.0.1:4455/t/<**>', '    authorization:\n      roles: [admin]\n'))}roles:\n  enabled: false\n`)
    expect(issue).toMatchObject({line: 11, column: 7, path: 'routes[0].authorization.roles'})
  })

  it('stripPath must be a prefix of the match path', () => {
    expect(issueOf(withRoutes(route('a', 'http://127.0.0.1:4455/api/<**>', '    stripPath: /v1\n')))).toMatchObject({line: 10, message: expect.stringContaining('not a prefix')})
    expect(parseConfig(withRoutes(route('a', 'http://127.0.0.1:4455/api/<**>', '    stripPath: /api\n'))).routes[0]!.stripPath).toBe('/api')
  })

  it('upstreams must be http(s) URLs', () => {
    const issue = issueOf(withRoutes(route('a', 'http://127.0.0.1:4455/a').replace('http://127.0.0.1:8080', 'ftp://x')))
    expect(issue).toMatchObject({line: 7, column: 15, message: '"ftp://x" uses ftp', allowed: ['http://…', 'https://…']})
  })
})

describe('environment references', () => {
  it('are kept verbatim in URL and secret fields', () => {
    const config = parseConfig(`${MINIMAL}kratos:\n  smtpUrl: \${SMTP_URL}\n  publicUrl: https://\${HOST:-localhost}/\ntokens:\n  issuer: \${ISSUER}\n`)
    expect(config.kratos.smtpUrl).toBe('${SMTP_URL}')
    expect(config.kratos.publicUrl).toBe('https://${HOST:-localhost}/')
    expect(config.tokens.issuer).toBe('${ISSUER}')
  })

  it('are refused elsewhere, naming the fields that allow them', () => {
    const issue = issueOf(withRoutes(route('a', 'http://127.0.0.1:4455/a').replace('audience: api', 'audience: ${AUD}')))
    expect(issue).toMatchObject({line: 9, column: 15, path: 'routes[0].audience', message: 'environment references (${AUD}) are only allowed in secret and URL fields'})
    expect(issue.allowed).toContain('routes[*].upstream')
  })

  it('must be well formed', () => {
    expect(issueOf(`${MINIMAL}kratos:\n  smtpUrl: \${SMTP URL}\n`)).toMatchObject({line: 4, column: 12, message: 'malformed environment reference near "${SMTP URL}"'})
  })
})

describe('namespaces, roles and seed', () => {
  it('namespaces are unique and subject types are declared', () => {
    const issues = issuesOf(`${MINIMAL}keto:\n  namespaces:\n    - {name: User}\n    - {name: User}\n    - name: Role\n      relations: [member]\n      subjects: {member: [Users], owner: [User]}\n`)
    expect(issues).toMatchObject([
      {line: 6, column: 14, message: 'namespace "User" is declared twice'},
      {line: 9, column: 27, message: expect.stringContaining('subject type "Users" of relation member is not a declared namespace (did you mean "User"?)')},
      {line: 9, column: 35, message: '"owner" is not one of this namespace\'s relations', allowed: ['member']},
    ])
  })

  it('roles need their namespace and relation when enabled', () => {
    expect(issueOf(`${MINIMAL}keto:\n  namespaces: [{name: User}]\n`)).toMatchObject({path: 'roles.namespace', message: expect.stringContaining('namespace "Role" is not declared')})
    expect(parseConfig(`${MINIMAL}keto:\n  namespaces: [{name: User}]\nroles:\n  enabled: false\n`).roles.enabled).toBe(false)
  })

  it('roles.strict defaults to false, reads true, and rejects anything but a boolean', () => {
    expect(parseConfig(MINIMAL).roles.strict).toBe(false)
    expect(parseConfig(`${MINIMAL}roles:\n  strict: true\n`).roles).toMatchObject({enabled: true, strict: true, namespace: 'Role'})
    expect(issueOf(`${MINIMAL}roles:\n  strict: sometimes\n`)).toMatchObject({path: 'roles.strict', message: expect.stringContaining('expected true or false')})
  })

  it('seed identities and tuples are checked', () => {
    const issues = issuesOf(`${MINIMAL}kratos:\n  traits: {name: false}\nseed:
  identities:
    - {email: a@example.com, password: short, name: A}
    - {email: A@example.com}
  tuples:
    - Role:admin#member@user-1
    - Role:admin#owner@user-1
    - Tenant:acme#member@Role:admin#member
    - not a tuple
    - Role:admin#member@Ghost:bob
`)
    expect(issues.map((i) => [i.line, i.path, i.message])).toEqual([
      [7, 'seed.identities[0].password', 'Kratos rejects passwords shorter than 8 characters'],
      [7, 'seed.identities[0].name', 'the identity schema has no name trait; set kratos.traits.name: true or remove the name'],
      [8, 'seed.identities[1].email', 'A@example.com is already seeded by seed.identities[0]'],
      [11, 'seed.tuples[1]', 'namespace Role has no relation "owner"'],
      [13, 'seed.tuples[3]', 'expected "Namespace:object#relation@subject", found no \':\' in "not a tuple"'],
      // Keto's own reading, as `iam seed` applies it: a subject with ':' is a subject set.
      [14, 'seed.tuples[4]', 'subject namespace "Ghost" is not declared'],
    ])
  })
})

describe('addresses follow ports', () => {
  it('moving only ports: moves every derived address (matches, issuer, Kratos, SMTP, gateway)', () => {
    const config = parseConfig(`${MINIMAL}ports: {oathkeeperProxy: 5455, kratosPublic: 5433, mailSmtp: 2025}\nroutes:\n  - {id: a, match: /a/<**>, methods: [GET], upstream: http://127.0.0.1:8080, auth: anonymous, audience: api}\n`)
    expect(config.gateway.publicUrl).toBe('http://127.0.0.1:5455')
    expect(config.routes[0]!.match).toBe('http://127.0.0.1:5455/a/<**>')
    expect(config.tokens.issuer).toBe('http://127.0.0.1:5455/')
    expect(config.kratos.publicUrl).toBe('http://127.0.0.1:5433/')
    expect(config.kratos.smtpUrl).toBe('smtp://127.0.0.1:2025/?disable_starttls=true')
  })

  it('a real domain as gateway.publicUrl: matches and the issuer follow it', () => {
    const config = parseConfig(`${MINIMAL}gateway: {publicUrl: "https://api.example.com/"}\nroutes:\n  - {id: a, match: /a/<**>, methods: [GET], upstream: http://127.0.0.1:8080, auth: anonymous, audience: api}\n`)
    expect(config.gateway.publicUrl).toBe('https://api.example.com')
    expect(config.routes[0]!.match).toBe('https://api.example.com/a/<**>')
    expect(config.tokens.issuer).toBe('https://api.example.com/')
  })

  it.each([
    ['kratos: {publicUrl: "http://127.0.0.1:4433/"}', 'kratos.publicUrl', 'remove kratos.publicUrl (it follows ports.kratosPublic)'],
    ['kratos: {smtpUrl: "smtp://127.0.0.1:1025/?disable_starttls=true"}', 'kratos.smtpUrl', 'remove kratos.smtpUrl (it follows ports.mailSmtp)'],
    ['tokens: {issuer: "http://127.0.0.1:4455/"}', 'tokens.issuer', 'remove tokens.issuer (it follows gateway.publicUrl)'],
    ['gateway: {publicUrl: "http://127.0.0.1:4455"}', 'gateway.publicUrl', 'remove gateway.publicUrl (it follows ports.oathkeeperProxy)'],
  ])('an explicit loopback %s that kept an old port is refused with its line and the fix', (line, path, fix) => {
    const issue = issueOf(`${MINIMAL}ports: {oathkeeperProxy: 5455, kratosPublic: 5433, mailSmtp: 2025}\n${line}\n`)
    expect(issue).toMatchObject({line: 4, path})
    expect(issue.message).toMatch(/^names port \d+ on this machine, but .* listens on/)
    expect(issue.allowed).toContain(fix)
  })

  it('explicit addresses that agree with ports:, or name a real host, are kept', () => {
    const config = parseConfig(`${MINIMAL}kratos: {publicUrl: "https://auth.example.com/", smtpUrl: "\${SMTP_URL}"}\ntokens: {issuer: "http://127.0.0.1:4455/"}\n`)
    expect(config.kratos.publicUrl).toBe('https://auth.example.com/')
    expect(config.tokens.issuer).toBe('http://127.0.0.1:4455/')
  })

  it.each([['0s'], ['25h']])('tokens.ttl %s is refused (1s to 24h)', (ttl) => {
    const issue = issueOf(`${MINIMAL}tokens: {ttl: ${ttl}}\n`)
    expect(issue).toMatchObject({line: 3, path: 'tokens.ttl'})
    expect(issue.allowed).toContain('a duration from 1s to 24h')
  })
})

describe('did you mean', () => {
  it('counts swapped neighbouring letters as one typo', async () => {
    const {didYouMean} = await import('../../src/config/issues.js')
    expect(didYouMean('emial', ['email', 'password'])).toBe(' (did you mean "email"?)')
    expect(didYouMean('Tennat', ['Tenant', 'Role'])).toBe(' (did you mean "Tenant"?)')
    expect(didYouMean('zzzzz', ['email'])).toBe('')
  })
})

describe('machine clients (hydra, auth: client, seed.clients)', () => {
  const clientRoute = (extra = '', auth = 'client'): string =>
    `  - id: m\n    match: /machine/<**>\n    methods: [GET]\n    upstream: http://127.0.0.1:8080\n    auth: ${auth}\n    audience: api\n${extra}`
  const HYDRA = 'hydra: {enabled: true}\n'

  it('a client route needs Hydra on, named at its auth key with the fix', () => {
    const issue = issueOf(withRoutes(clientRoute('    scopes: [demo:read]\n')))
    expect(issue).toMatchObject({path: 'routes[0].auth', message: 'auth: client accepts Hydra access tokens, but Hydra is off'})
    expect(issue.allowed).toContain('hydra: {enabled: true}')
  })

  it('with Hydra on, client and session-or-client routes with scopes are valid; the model keeps the scopes', () => {
    const config = parseConfig(HYDRA + withRoutes(clientRoute("    scopes: [demo:read, demo:write]\n")))
    expect(config.hydra).toEqual({enabled: true, publicUrl: 'http://127.0.0.1:4444/', accessTokenTtlMs: 900_000, introspectionCacheMs: 5000})
    expect(config.routes[0]).toMatchObject({auth: 'client', scopes: ['demo:read', 'demo:write']})
    expect(parseConfig(HYDRA + withRoutes(clientRoute('', 'session-or-client'))).routes[0]!.auth).toBe('session-or-client')
  })

  it('scopes on a session route, roles on a client route and a scope with a space are refused', () => {
    expect(issueOf(withRoutes(`  - id: s\n    match: /s/<**>\n    methods: [GET]\n    upstream: http://127.0.0.1:8080\n    auth: session\n    scopes: [x]\n    audience: api\n`))).toMatchObject({path: 'routes[0].scopes', message: expect.stringContaining('an session route takes no client token')})
    expect(issueOf(HYDRA + withRoutes(clientRoute('    authorization: {roles: [admin]}\n')))).toMatchObject({path: 'routes[0].authorization', message: expect.stringContaining("checks a client's scopes")})
    expect(issueOf(HYDRA + withRoutes(clientRoute('    scopes: ["demo read"]\n'))).path).toBe('routes[0].scopes[0]')
  })

  it('a seeded client needs Hydra and a ${VAR} secret (never one written into iam.yaml)', () => {
    const seed = (secret: string, hydra = HYDRA): string => `${MINIMAL}${hydra}seed:\n  clients:\n    - {id: billing, secret: "${secret}", scopes: [demo:read]}\n`
    expect(parseConfig(seed('${BILLING_SECRET}')).seed.clients).toEqual([{id: 'billing', secret: '${BILLING_SECRET}', scopes: ['demo:read'], audience: [], metadata: {}}])
    expect(issueOf(seed('plain-secret-0123456789abcdef'))).toMatchObject({path: 'seed.clients[0].secret', message: expect.stringContaining('ends up in git')})
    expect(issueOf(seed('${BILLING_SECRET}', ''))).toMatchObject({path: 'seed.clients[0]', message: 'seeding a machine client needs Hydra'})
  })

  it('your own PostgreSQL with Hydra on needs database.urls.hydra', () => {
    const issue = issueOf(`${MINIMAL}${HYDRA}database: {engine: postgres, urls: {kratos: "\${K}", keto: "\${T}"}}\n`)
    expect(issue).toMatchObject({path: 'database.urls', message: expect.stringContaining('add its URL')})
  })
})
