import {describe, expect, it} from 'vitest'

import {defaultConfig} from '../../src/config/defaults.js'
import {parseConfig} from '../../src/config/load.js'
import {issueOf, issuesOf, MINIMAL, withRoutes} from './helpers.js'

describe('parseConfig: valid files', () => {
  it('fills every absent key from defaultConfig, with empty routes and seed', () => {
    const config = parseConfig(MINIMAL)
    const defaults = defaultConfig('demo')
    expect(config).toEqual({...defaults, routes: [], seed: {identities: [], clients: [], tuples: []}, exampleApp: false})
    expect(config.oryVersion).toBe('v26.2.0')
    expect(config.tokens).toEqual({issuer: 'http://127.0.0.1:4455/', ttlMs: 60_000, algorithm: 'RS256', clockSkewMs: 5_000, jwksRefreshMs: 30_000})
    expect(config.keto.namespaces.map((n) => n.name)).toEqual(['User', 'Role', 'Tenant'])
  })

  it('derives default URLs from the ports the file sets', () => {
    const config = parseConfig(`${MINIMAL}ports:\n  kratosPublic: 5433\n  oathkeeperProxy: 5455\n  mailSmtp: 2025\nkratos:\n  uiUrl: http://localhost:8000/\n`)
    expect(config.kratos.publicUrl).toBe('http://127.0.0.1:5433/')
    expect(config.tokens.issuer).toBe('http://127.0.0.1:5455/')
    expect(config.kratos.smtpUrl).toBe('smtp://127.0.0.1:2025/?disable_starttls=true')
    expect(config.kratos.allowedReturnUrls).toEqual(['http://localhost:8000/'])
    expect(config.ports.kratosAdmin).toBe(4434)
  })

  it('reads a complete file: durations in ms, namespaces with subjects, routes, seed', () => {
    const config = parseConfig(`${MINIMAL}runtime: native
tokens:
  ttl: 1500ms
  algorithm: ES256
  clockSkew: 2m
  jwksRefresh: 1h
keto:
  namespaces:
    - name: User
    - name: Group
      relations: [member]
      subjects: {member: [User, Group#member]}
  maxBatchCheckSize: 50
roles:
  enabled: false
  namespace: Group
  relation: member
routes:
  - id: docs
    match: /groups/{group}/docs/<**>
    methods: [GET]
    upstream: \${DOCS_URL}
    stripPath: /groups
    auth: session
    audience: docs
    authorization:
      anyOf:
        - {namespace: Group, object: "{group}", relation: member}
seed:
  identities:
    - {email: a@example.com, password: "\${A_PASSWORD}", roles: [editor]}
  tuples:
    - Group:eng#member@Group:leads#member
`)
    expect(config.runtime).toBe('native')
    expect(config.tokens).toMatchObject({ttlMs: 1500, algorithm: 'ES256', clockSkewMs: 120_000, jwksRefreshMs: 3_600_000})
    expect(config.keto.namespaces).toEqual([
      {name: 'User', relations: [], subjects: {}},
      {name: 'Group', relations: ['member'], subjects: {member: ['User', 'Group#member']}},
    ])
    expect(config.keto.maxBatchCheckSize).toBe(50)
    expect(config.routes[0]).toEqual({
      id: 'docs',
      match: 'http://127.0.0.1:4455/groups/{group}/docs/<**>',
      methods: ['GET'],
      upstream: '${DOCS_URL}',
      stripPath: '/groups',
      auth: 'session',
      audience: 'docs',
      authorization: {anyOf: [{namespace: 'Group', object: '{group}', relation: 'member'}]},
    })
    expect(config.seed).toEqual({
      identities: [{email: 'a@example.com', password: '${A_PASSWORD}', roles: ['editor']}],
      clients: [],
      tuples: ['Group:eng#member@Group:leads#member'],
    })
  })

  it('accepts YAML anchors and aliases', () => {
    const config = parseConfig(`${MINIMAL}kratos:\n  uiUrl: &ui http://127.0.0.1:3000/\n  allowedReturnUrls: [*ui]\n`)
    expect(config.kratos.allowedReturnUrls).toEqual(['http://127.0.0.1:3000/'])
  })
})

describe('parseConfig: errors name file:line:column, what is wrong and what is allowed', () => {
  it('a YAML syntax error', () => {
    const issue = issueOf('version: 1\nproject: demo\nports:\n  kratosPublic: [1\n')
    expect(issue).toMatchObject({file: 'iam.yaml', line: 5, column: 1, path: '(yaml)'})
    expect(issue.message.length).toBeGreaterThan(0)
  })

  it('a duplicate key is a syntax error at the second key', () => {
    const issue = issueOf('version: 1\nproject: demo\nproject: other\n')
    expect(issue).toMatchObject({line: 3, column: 1})
    expect(issue.message).toMatch(/unique/i)
  })

  it('an empty file', () => {
    expect(issueOf('# nothing\n')).toMatchObject({line: 1, column: 1, message: expect.stringContaining('iam init')})
  })

  it('a missing required key at the top level', () => {
    expect(issueOf('version: 1\n')).toMatchObject({line: 1, column: 1, path: '(top level)', message: 'missing required key "project"'})
  })

  it('an unknown key, with a suggestion and the allowed keys', () => {
    const issue = issueOf(withRoutes(`  - id: a
    match: http://127.0.0.1:4455/a/<**>
    methods: [GET]
    upstream: http://127.0.0.1:8080
    strip_path: /a
    auth: anonymous
    audience: a
`))
    expect(issue).toMatchObject({line: 8, column: 5, path: 'routes[0].strip_path', message: 'unknown key "strip_path" (did you mean "stripPath"?)'})
    expect(issue.allowed).toContain('stripPath')
  })

  it('an unknown key far from any known one has no suggestion', () => {
    expect(issueOf(`${MINIMAL}frobnicate: true\n`)).toMatchObject({line: 3, column: 1, message: 'unknown key "frobnicate"'})
  })

  it('an enum value, with a suggestion', () => {
    const issue = issueOf(`${MINIMAL}runtime: nativ\n`)
    expect(issue).toMatchObject({line: 3, column: 10, path: 'runtime', message: '"nativ" is not allowed (did you mean "native"?)', allowed: ['auto', 'compose', 'native']})
  })

  it('a wrong type', () => {
    expect(issueOf(`${MINIMAL}ports:\n  ketoRead: "4466"\n`)).toMatchObject({line: 4, column: 13, path: 'ports.ketoRead', message: 'expected an integer, got string "4466"'})
  })

  it('a port out of range', () => {
    expect(issueOf(`${MINIMAL}ports:\n  ketoRead: 70000\n`)).toMatchObject({line: 4, column: 13, message: '70000 is out of range', allowed: ['1–65535']})
  })

  it('a port used twice, reported where the user wrote it even when the other one is a default', () => {
    expect(issueOf(`${MINIMAL}ports:\n  batchAuth: 4433\n`)).toMatchObject({line: 4, column: 14, path: 'ports.batchAuth', message: expect.stringContaining('port 4433 is also used by ports.kratosPublic (default)')})
    expect(issueOf(`${MINIMAL}ports:\n  mailUi: 9000\n  batchAuth: 9000\n`)).toMatchObject({line: 5, column: 14, path: 'ports.batchAuth'})
  })

  it('an HTTP port that browsers and fetch refuse (10080, 6000) is an error; SMTP may use one', () => {
    expect(issueOf(`${MINIMAL}ports:\n  kratosPublic: 10080\n`)).toMatchObject({line: 4, path: 'ports.kratosPublic', message: expect.stringContaining('port 10080 is one browsers and fetch refuse')})
    expect(issueOf(`${MINIMAL}ports:\n  mailUi: 6000\n`)).toMatchObject({path: 'ports.mailUi'})
    expect(() => parseConfig(`${MINIMAL}ports:\n  mailSmtp: 25\n`)).not.toThrow()
  })

  it('a duration without a unit', () => {
    expect(issueOf(`${MINIMAL}tokens:\n  ttl: 60\n`)).toMatchObject({line: 4, column: 8, message: expect.stringContaining('expected a string')})
    expect(issueOf(`${MINIMAL}tokens:\n  ttl: 60sec\n`)).toMatchObject({line: 4, column: 8, message: '"60sec" is not a duration', allowed: ['a whole number with a unit: 500ms, 5s, 10m, 1h']})
  })

  it('an unsupported version', () => {
    expect(issueOf('version: 2\nproject: demo\n')).toMatchObject({line: 1, column: 10, message: '2 is not supported', allowed: ['1']})
  })

  it('a bad project name', () => {
    expect(issueOf('version: 1\nproject: My App\n')).toMatchObject({line: 2, column: 10, message: '"My App" is not a valid project name'})
  })

  it('collects every error, in file order, into one CONFIG_INVALID', () => {
    const issues = issuesOf(`version: 1\nproject: demo\nruntime: docker\nports:\n  kratosPublic: 0\ntokens:\n  algorithm: HS256\n  ttl: soon\n`)
    expect(issues.map((i) => [i.line, i.path])).toEqual([
      [3, 'runtime'],
      [5, 'ports.kratosPublic'],
      [7, 'tokens.algorithm'],
      [8, 'tokens.ttl'],
    ])
  })

  it('the thrown message lists every error with its position', () => {
    let message = ''
    try {
      parseConfig('version: 1\nproject: demo\nruntime: docker\nroles: {enabled: yes}\n', {file: 'project/iam.yaml'})
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toContain('project/iam.yaml has 2 errors:')
    expect(message).toContain('project/iam.yaml:3:10: runtime: "docker" is not allowed (allowed: auto, compose, native)')
    expect(message).toContain('project/iam.yaml:4:18: roles.enabled: expected true or false, got string "yes"')
  })
})
