import {decodeJwt, decodeProtectedHeader, importJWK, jwtVerify} from 'jose'
import {describe, expect, it} from 'vitest'

import {generateKey} from '../../src/keys/generate.js'
import {publicJwk} from '../../src/keys/jwks.js'
import {mintToken} from '../../src/token/mint.js'

describe('mintToken', () => {
  it("is shaped like Oathkeeper's id_token and signed with the last key of the set (the one Oathkeeper signs with)", async () => {
    const retired = await generateKey('RS256')
    const signing = await generateKey('ES256')
    const now = new Date('2030-01-01T00:00:00Z')
    const minted = await mintToken(
      {keys: [retired, signing]},
      {subject: 'user-1', audience: 'orders-api', issuer: 'http://127.0.0.1:4455/', ttlMs: 60_000, claims: {session: {roles: ['admin']}}, now},
    )
    expect(decodeProtectedHeader(minted.token)).toEqual({alg: 'ES256', kid: signing.kid, typ: 'JWT'})
    const claims = decodeJwt(minted.token)
    const iat = now.getTime() / 1000
    // pipeline/mutate/mutator_id_token.go: template claims, then exp, jti (UUID v4), iat, iss, nbf, sub.
    expect(claims).toEqual({aud: ['orders-api'], session: {roles: ['admin']}, exp: iat + 60, jti: expect.stringMatching(/^[0-9a-f-]{36}$/), iat, iss: 'http://127.0.0.1:4455/', nbf: iat, sub: 'user-1'})
    await expect(jwtVerify(minted.token, await importJWK(publicJwk(signing), 'ES256'), {currentDate: now})).resolves.toBeDefined()
    const second = await mintToken({keys: [signing]}, {subject: 'user-1', audience: ['a', 'b'], issuer: 'i', ttlMs: 1_000})
    expect(decodeJwt(second.token).jti).not.toBe(claims.jti)
    expect(decodeJwt(second.token).aud).toEqual(['a', 'b'])
  })

  it('refuses extra claims that Oathkeeper would overwrite', async () => {
    const key = await generateKey('ES256')
    await expect(mintToken({keys: [key]}, {subject: 's', audience: 'a', issuer: 'i', ttlMs: 1000, claims: {sub: 'admin'}})).rejects.toMatchObject({code: 'TOKEN_INVALID_INPUT'})
  })
})
