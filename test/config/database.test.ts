import {describe, expect, it} from 'vitest'

import {parseConfig} from '../../src/config/load.js'
import {describePostgresUrl, managedPostgresUrl} from '../../src/config/database.js'
import {issueOf, MINIMAL} from './helpers.js'

describe('iam.yaml database:', () => {
  it('sqlite by default; postgres alone is the server iam runs; {engine, urls} is your own', () => {
    expect(parseConfig(MINIMAL).database).toEqual({engine: 'sqlite'})
    expect(parseConfig(`${MINIMAL}database: postgres\n`).database).toEqual({engine: 'postgres'})
    const own = parseConfig(`${MINIMAL}database: {engine: postgres, urls: {kratos: "\${KRATOS_DSN}", keto: "postgres://k@db:5432/keto"}}\n`).database
    expect(own).toEqual({engine: 'postgres', urls: {kratos: '${KRATOS_DSN}', keto: 'postgres://k@db:5432/keto'}})
    expect(parseConfig(`${MINIMAL}ports: {postgres: 5544}\n`).ports.postgres).toBe(5544)
  })

  it('an unknown engine, a missing URL and a URL of another scheme are located with the fix', () => {
    // One issue each, from the form the value was written in (not one per alternative of the schema's oneOf).
    expect(issueOf(`${MINIMAL}database: postgress\n`)).toMatchObject({line: 3, column: 11, path: 'database', message: '"postgress" is not allowed (did you mean "postgres"?)'})
    expect(issueOf(`${MINIMAL}database: {engine: postgres, urls: {kratos: "\${K}"}}\n`)).toMatchObject({path: 'database.urls', message: 'missing required key "keto"'})
    expect(issueOf(`${MINIMAL}database: {engine: mysql, urls: {kratos: a, keto: b}}\n`)).toMatchObject({path: 'database.engine'})
    expect(issueOf(`${MINIMAL}database: 5\n`).message).toBe('expected sqlite or postgres or a mapping, got number 5')
    const scheme = issueOf(`${MINIMAL}database: {engine: postgres, urls: {kratos: "mysql://db/k", keto: "\${K}"}}\n`)
    expect(scheme).toMatchObject({line: 3, path: 'database.urls.kratos'})
    expect(scheme.message).toContain('mysql')
  })

  it('${VAR} is allowed in database URLs and nowhere near the engine', () => {
    expect(() => parseConfig(`${MINIMAL}database: {engine: postgres, urls: {kratos: "\${A}", keto: "\${B}"}}\n`)).not.toThrow()
  })

  it('the managed URL encodes the password; what errors name carries no credentials', () => {
    expect(managedPostgresUrl({host: '127.0.0.1', port: 4432, password: 'a/b@c', database: 'kratos'})).toBe('postgres://iam:a%2Fb%40c@127.0.0.1:4432/kratos?sslmode=disable')
    expect(describePostgresUrl('postgres://user:secret@db.example.com:6543/kratos?sslmode=require')).toBe('db.example.com:6543/kratos')
    expect(describePostgresUrl('postgres://user:secret@db/keto')).toBe('db:5432/keto')
  })
})
