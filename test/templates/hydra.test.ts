/** hydra.yml: valid for Hydra v26.2.0's config schema, opaque tokens, the TTL from iam.yaml; secrets never in it. */
import {parse} from 'yaml'
import {describe, expect, it} from 'vitest'

import {renderHydraConfig, tokenHookConfig} from '../../src/templates/hydra.js'
import {renderAll} from '../../src/templates/index.js'
import {CTX, testConfig} from './fixture.js'
import {oryConfigErrors} from './ory-schema.js'

describe('hydra.yml', () => {
  const config = testConfig((c) => Object.assign(c.hydra, {enabled: true, accessTokenTtlMs: 300_000}))

  it("validates against Hydra v26.2.0's config schema (with the DSN and the hook Hydra gets from its environment)", () => {
    const doc = parse(renderHydraConfig(config)) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(doc).toMatchObject({serve: {public: {host: '127.0.0.1'}, admin: {host: '127.0.0.1'}}, strategies: {access_token: 'opaque'}, ttl: {access_token: '300s'}, urls: {self: {issuer: 'http://127.0.0.1:4444/'}}})
    const effective = {...doc, dsn: 'memory', secrets: {system: ['a-system-secret-0123456789']}, oauth2: {...doc.oauth2, token_hook: tokenHookConfig('http://127.0.0.1:4472', 'k')}}
    expect(oryConfigErrors('hydra', 'v26.2.0', effective)).toEqual([])
  })

  it('is rendered only with hydra.enabled', () => {
    expect(renderAll(config, CTX).map((f) => f.path)).toContain('ory/hydra/hydra.yml')
    expect(renderAll(testConfig(), CTX).map((f) => f.path)).not.toContain('ory/hydra/hydra.yml')
  })
})
