import fc from 'fast-check'
import {Ajv} from 'ajv'
import {parse as parseYaml} from 'yaml'
import {describe, expect, it} from 'vitest'

import {defaultConfig, DEFAULT_PORTS} from '../../src/config/defaults.js'
import {formatDuration, parseDuration} from '../../src/config/duration.js'
import {parseConfig} from '../../src/config/load.js'
import type {PortsConfig} from '../../src/config/model.js'
import {iamConfigJsonSchema} from '../../src/config/schema.js'
import {configToYamlData, renderConfigYaml} from '../../src/config/stringify.js'
import {FETCH_BLOCKED_PORTS} from '../../src/util/ports.js'

describe('defaults round-trip', () => {
  it('defaultConfig → commented YAML → parseConfig gives back the same model', () => {
    const config = defaultConfig('demo')
    expect(parseConfig(renderConfigYaml(config))).toEqual(config)
  })

  it('holds for the variants init writes (roles off, ES256, compose) and without comments', () => {
    const config = {...defaultConfig('shop-api', {roles: false}), runtime: 'compose' as const}
    config.tokens = {...config.tokens, algorithm: 'ES256'}
    config.roles = {...config.roles, strict: true}
    expect(parseConfig(renderConfigYaml(config))).toEqual(config)
    expect(parseConfig(renderConfigYaml(config, {comments: false}))).toEqual(config)
  })

  it('holds for any ports and durations (property)', () => {
    const portNames = Object.keys(DEFAULT_PORTS) as (keyof PortsConfig)[]
    const ports = fc.uniqueArray(fc.integer({min: 1, max: 65535}).filter((port) => !FETCH_BLOCKED_PORTS.has(port)), {minLength: portNames.length, maxLength: portNames.length})
    const ttls = fc.oneof(fc.integer({min: 1000, max: 10_000}), fc.integer({min: 1, max: 86_400}).map((s) => s * 1000))
    const ms = fc.oneof(fc.integer({min: 0, max: 10_000}), fc.integer({min: 0, max: 5000}).map((s) => s * 1000), fc.integer({min: 0, max: 50}).map((h) => h * 3_600_000))
    fc.assert(
      fc.property(ports, ttls, ms, ms, fc.boolean(), (values, ttl, skew, refresh, roles) => {
        const config = defaultConfig('p', {ports: Object.fromEntries(portNames.map((n, i) => [n, values[i]!])), roles})
        config.tokens = {...config.tokens, ttlMs: ttl, clockSkewMs: skew, jwksRefreshMs: refresh}
        expect(parseConfig(renderConfigYaml(config))).toEqual(config)
      }),
      {numRuns: 60},
    )
  })

  it('the written file is valid against the exported JSON schema and has an example route of each kind', () => {
    const yaml = renderConfigYaml(defaultConfig('demo'))
    const validate = new Ajv({strict: false}).compile(iamConfigJsonSchema)
    expect(validate(parseYaml(yaml)), JSON.stringify(validate.errors)).toBe(true)
    expect(configToYamlData(defaultConfig('demo'))).toMatchObject({routes: [{auth: 'anonymous'}, {authorization: {roles: ['admin']}}, {authorization: {anyOf: expect.any(Array)}}, {id: 'app', auth: 'session'}]})
    // Addresses follow ports: matches are paths, and no derived URL is written.
    expect(yaml).toContain('match: /tenants/{tenant}/<**>')
    expect(yaml).not.toMatch(/^\s*(publicUrl|issuer|smtpUrl):/m)
    expect(yaml).toContain('- {namespace: Tenant, object: "{tenant}", relation: member}')
  })
})

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['0s', 0],
    ['5s', 5000],
    ['10m', 600_000],
    ['1h', 3_600_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each(['5', '5 s', '-1s', '1.5s', 's', '1d'])('%s is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined()
  })

  it('formats readably and exactly', () => {
    expect([60_000, 1500, 900_000, 36_000_000, 86_400_000].map(formatDuration)).toEqual(['60s', '1500ms', '15m', '10h', '24h'])
    fc.assert(fc.property(fc.nat({max: 10 ** 12}), (ms) => parseDuration(formatDuration(ms)) === ms))
  })
})
