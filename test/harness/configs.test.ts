import {describe, expect, it} from 'vitest'

import {ORY_SPECS, type OryServer} from '../../src/ory/servers.js'
import {oryConfigErrors} from '../templates/ory-schema.js'
import {DEFAULT_KETO_NAMESPACES, deepMerge, ketoConfig, kratosConfig, oathkeeperConfig, sqliteDsn} from './configs.js'

// The servers' published config schemas (shared helper of the templates tests; $IAM_ORY_SCHEMAS overrides the dir).
async function validatorFor(server: OryServer): Promise<(config: unknown) => string[]> {
  return (config) =>
    oryConfigErrors(server, ORY_SPECS[server].version, config).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`)
}

describe('harness configs match the servers’ published config schemas', () => {
  it('keto', async () => {
    const validate = await validatorFor('keto')
    const config = ketoConfig({dsn: sqliteDsn('/tmp/x/keto.db'), ports: {read: 1, write: 2, metrics: 3, opl: 4}})
    expect(validate(config)).toEqual([])
    expect(config.namespaces).toEqual(DEFAULT_KETO_NAMESPACES)
    const custom = ketoConfig({dsn: 'memory', ports: {read: 1, write: 2, metrics: 3, opl: 4}, namespaces: [{name: 'A'}, {name: 'B'}], config: {limit: {max_batch_check_size: 3}}})
    expect(validate(custom)).toEqual([])
    expect(custom.namespaces).toEqual([{id: 0, name: 'A'}, {id: 1, name: 'B'}])
    expect(custom.limit).toEqual({max_batch_check_size: 3})
    expect(validate(deepMerge(config, {limit: {max_batch_check_size: 0}}))).not.toEqual([])
  })

  it('kratos', async () => {
    const validate = await validatorFor('kratos')
    const config = kratosConfig({
      dsn: sqliteDsn('/tmp/x/kratos.db'),
      ports: {public: 1, admin: 2, smtp: 3},
      identitySchemaUrl: 'file:///tmp/x/identity.schema.json',
    })
    expect(validate(config)).toEqual([])
    expect((config.secrets as {cipher: string[]}).cipher[0]).toHaveLength(32)
    expect(validate(deepMerge(config, {selfservice: {flows: {registration: {after: {password: {hooks: [{hook: 'nope'}]}}}}}}))).not.toEqual([])
  })

  it('oathkeeper, and configuring a handler enables it', async () => {
    const validate = await validatorFor('oathkeeper')
    const ports = {proxy: 1, api: 2, prometheus: 3}
    const config = oathkeeperConfig({ports, rulesUrl: 'file:///tmp/x/rules.json'})
    expect(validate(config)).toEqual([])
    const withHandlers = oathkeeperConfig({
      ports,
      rulesUrl: 'file:///tmp/x/rules.json',
      config: {
        authenticators: {
          cookie_session: {config: {check_session_url: 'http://127.0.0.1:1/sessions/whoami'}},
          bearer_token: {config: {check_session_url: 'http://127.0.0.1:1/sessions/whoami'}},
          jwt: {config: {jwks_urls: ['file:///tmp/x/jwks.json']}},
        },
        authorizers: {remote_json: {config: {remote: 'http://127.0.0.1:2/check', payload: '{}'}}},
        mutators: {id_token: {config: {issuer_url: 'http://127.0.0.1:3/', jwks_url: 'file:///tmp/x/jwks.json'}}},
      },
    })
    expect(validate(withHandlers)).toEqual([])
    expect(withHandlers).toMatchObject({
      authenticators: {anonymous: {enabled: true}, cookie_session: {enabled: true}, bearer_token: {enabled: true}, jwt: {enabled: true}},
      authorizers: {allow: {enabled: true}, deny: {enabled: true}, remote_json: {enabled: true}},
      mutators: {noop: {enabled: true}, header: {enabled: true}, id_token: {enabled: true}},
    })
    // An explicit `enabled: false` from the caller wins over the auto-enable.
    const off = oathkeeperConfig({ports, rulesUrl: 'file:///r.json', config: {mutators: {id_token: {enabled: false}}}})
    expect((off.mutators as {id_token: {enabled: boolean}}).id_token.enabled).toBe(false)
  })

  it('deepMerge merges objects and replaces arrays and scalars', () => {
    expect(deepMerge({a: {b: 1, c: [1, 2]}, d: 1}, {a: {c: [3]}, e: 2})).toEqual({a: {b: 1, c: [3]}, d: 1, e: 2})
  })
})
