import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

import fc from 'fast-check'
import {SignJWT, importJWK, type JSONWebKeySet} from 'jose'
import {afterAll, describe, expect, it} from 'vitest'

import {generateKey} from '../../src/keys/generate.js'
import {publicKeySet, type KeySet, type StoredJwk} from '../../src/keys/jwks.js'
import {mintToken, type MintOptions} from '../../src/token/mint.js'
import {MemoryReplayCache, VerifyError, createVerifier, verifierMiddleware, type ReplayCache, type VerifyErrorCode} from '../../src/index.js'

const ISS = 'http://127.0.0.1:4455/'
const AUD = 'orders-api'
const key = await generateKey('RS256')
const other = await generateKey('ES256')
const set: KeySet = {keys: [key]}
const jwks = publicKeySet(set) as JSONWebKeySet

const mint = (o: Partial<MintOptions> = {}, keys: KeySet = set): Promise<string> =>
  mintToken(keys, {subject: 'user-1', audience: AUD, issuer: ISS, ttlMs: 60_000, ...o}).then((m) => m.token)

async function codeOf(p: Promise<unknown>): Promise<VerifyErrorCode> {
  try {
    await p
  } catch (error) {
    expect(error).toBeInstanceOf(VerifyError)
    return (error as VerifyError).code
  }
  throw new Error('expected the token to be rejected')
}

const servers: Server[] = []
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
})

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler)
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('createVerifier', () => {
  const verifier = createVerifier({jwks, issuer: ISS, audience: AUD, clockSkew: 5_000, replay: true})

  it('accepts a valid token and returns its claims and kid', async () => {
    const token = await mint({claims: {session: {roles: ['admin']}}})
    const result = await verifier.verify(token)
    expect(result.kid).toBe(key.kid)
    expect(result.claims).toMatchObject({sub: 'user-1', iss: ISS, aud: [AUD], session: {roles: ['admin']}})
  })

  it('rejects a tampered token: invalid_signature', async () => {
    const [h, p, s] = (await mint()).split('.')
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>
    const forged = Buffer.from(JSON.stringify({...claims, sub: 'admin'})).toString('base64url')
    expect(await codeOf(verifier.verify(`${h}.${forged}.${s}`))).toBe('invalid_signature')
    // A signature made by a key that is not in the set, under a kid that is.
    const impostor = await new SignJWT({sub: 'x', aud: AUD, iss: ISS, exp: Math.floor(Date.now() / 1000) + 60, jti: 'j1'})
      .setProtectedHeader({alg: 'RS256', kid: key.kid})
      .sign(await importJWK(strip((await generateKey('RS256')) as StoredJwk), 'RS256'))
    expect(await codeOf(verifier.verify(impostor))).toBe('invalid_signature')
  })

  it('rejects a token for another audience: audience_mismatch', async () => {
    expect(await codeOf(verifier.verify(await mint({audience: 'billing-api'})))).toBe('audience_mismatch')
  })

  it('rejects a token from another issuer: issuer_mismatch', async () => {
    expect(await codeOf(verifier.verify(await mint({issuer: 'https://evil.example/'})))).toBe('issuer_mismatch')
  })

  it('accepts an expired token within the clock skew and rejects it beyond: expired', async () => {
    const token = await mint({ttlMs: 1_000, now: new Date(Date.now() - 4_000)})
    await expect(verifier.verify(token)).resolves.toBeDefined()
    expect(await codeOf(verifier.verify(await mint({ttlMs: 1_000, now: new Date(Date.now() - 10_000)})))).toBe('expired')
  })

  it('rejects a token from the future beyond the skew: not_yet_valid', async () => {
    expect(await codeOf(verifier.verify(await mint({now: new Date(Date.now() + 30_000)})))).toBe('not_yet_valid')
  })

  it('rejects the same token presented twice: replay', async () => {
    const token = await mint()
    await verifier.verify(token)
    expect(await codeOf(verifier.verify(token))).toBe('replay')
  })

  it('rejects a token signed by a key it does not know: unknown_kid', async () => {
    expect(await codeOf(verifier.verify(await mint({}, {keys: [other]})))).toBe('unknown_kid')
  })

  it('rejects garbage, a token without kid, without exp, without jti (replay on), and alg none: malformed / invalid_signature', async () => {
    expect(await codeOf(verifier.verify('not.a.jwt'))).toBe('malformed')
    expect(await codeOf(verifier.verify(''))).toBe('malformed')
    const signer = await importJWK(strip(key), 'RS256')
    const exp = Math.floor(Date.now() / 1000) + 60
    const noKid = await new SignJWT({sub: 's', aud: AUD, iss: ISS, exp, jti: 'a'}).setProtectedHeader({alg: 'RS256'}).sign(signer)
    expect(await codeOf(verifier.verify(noKid))).toBe('malformed')
    const noExp = await new SignJWT({sub: 's', aud: AUD, iss: ISS, jti: 'b'}).setProtectedHeader({alg: 'RS256', kid: key.kid}).sign(signer)
    expect(await codeOf(verifier.verify(noExp))).toBe('malformed')
    const noJti = await new SignJWT({sub: 's', aud: AUD, iss: ISS, exp}).setProtectedHeader({alg: 'RS256', kid: key.kid}).sign(signer)
    expect(await codeOf(verifier.verify(noJti))).toBe('malformed')
    const none = `${Buffer.from(JSON.stringify({alg: 'none', kid: key.kid})).toString('base64url')}.${Buffer.from(JSON.stringify({sub: 's', aud: AUD, iss: ISS, exp, jti: 'c'})).toString('base64url')}.`
    expect(['invalid_signature', 'malformed']).toContain(await codeOf(verifier.verify(none)))
  })

  it('requires issuer and audience (fail closed)', () => {
    expect(() => createVerifier({jwks} as unknown as Parameters<typeof createVerifier>[0])).toThrow(/issuer and audience/)
  })

  it('uses a custom ReplayCache (e.g. Redis-backed) through its interface', async () => {
    const seen = new Map<string, number>()
    const cache: ReplayCache = {
      async checkAndStore(jti, expiresAt) {
        if (seen.has(jti)) return false
        seen.set(jti, expiresAt)
        return true
      },
    }
    const v = createVerifier({jwks, issuer: ISS, audience: AUD, replay: cache})
    const token = await mint()
    const {claims} = await v.verify(token)
    expect(seen.get(claims.jti as string)).toBe(claims.exp * 1000 + 5_000)
    expect(await codeOf(v.verify(token))).toBe('replay')
  })
})

describe('MemoryReplayCache', () => {
  it('stays within its bound under many distinct tokens and still catches recent replays', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({min: 1, max: 50}), fc.array(fc.uuid(), {minLength: 1, maxLength: 400}), async (max, ids) => {
        const cache = new MemoryReplayCache({maxEntries: max})
        const far = Date.now() + 60_000
        for (const id of ids) {
          await cache.checkAndStore(id, far)
          expect(cache.size).toBeLessThanOrEqual(max)
        }
        // The most recent id is always remembered.
        expect(await cache.checkAndStore(ids.at(-1)!, far)).toBe(false)
      }),
    )
    const cache = new MemoryReplayCache({maxEntries: 500})
    const v = createVerifier({jwks, issuer: ISS, audience: AUD, replay: cache})
    for (let i = 0; i < 1500; i++) await v.verify(await mint())
    expect(cache.size).toBe(500)
  })

  it('forgets ids once their tokens have expired', async () => {
    let now = 1_000
    const cache = new MemoryReplayCache({now: () => now})
    expect(await cache.checkAndStore('a', 2_000)).toBe(true)
    expect(await cache.checkAndStore('a', 2_000)).toBe(false)
    now = 2_001
    for (let i = 0; i < 300; i++) await cache.checkAndStore(`old-${i}`, 3_000)
    expect(await cache.checkAndStore('a', 4_000)).toBe(true)
    now = 3_001
    // Expired entries are swept from the front periodically: after one sweep interval only live ids remain.
    for (let i = 0; i < 256; i++) await cache.checkAndStore(`new-${i}`, 5_000)
    expect(cache.size).toBeLessThanOrEqual(257)
    expect(await cache.checkAndStore('a', 4_000)).toBe(false)
  })
})

describe('remote JWKS', () => {
  it('refetches on an unknown kid, even one published just after a fetch (cooldown), and fails closed when unreachable', async () => {
    let served: JSONWebKeySet = jwks
    let fetches = 0
    const url = await listen((_req, res) => {
      fetches++
      res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify(served))
    })
    const v = createVerifier({jwksUrl: `${url}/.well-known/jwks.json`, issuer: ISS, audience: AUD, jwksCooldown: 300, jwksRefresh: 60_000})
    await v.verify(await mint())
    expect(fetches).toBe(1)
    // Rotation: a new key is published right after the verifier fetched; a token signed by it arrives at once.
    const next = await generateKey('ES256')
    served = publicKeySet({keys: [key, next]}) as JSONWebKeySet
    const result = await v.verify(await mint({}, {keys: [key, next]}))
    expect(result.kid).toBe(next.kid)
    expect(fetches).toBe(2)
    // Random kids cannot make it fetch on every request.
    const bogus = await Promise.all(Array.from({length: 5}, async () => codeOf(v.verify(await mint({}, {keys: [await generateKey('ES256')]})))))
    expect(bogus).toEqual(Array(5).fill('unknown_kid'))
    expect(fetches).toBeLessThanOrEqual(3)

    const down = createVerifier({jwksUrl: 'http://127.0.0.1:9/.well-known/jwks.json', issuer: ISS, audience: AUD, jwksTimeout: 500})
    expect(await codeOf(down.verify(await mint()))).toBe('jwks_unavailable')
  })
})

describe('verifierMiddleware', () => {
  it('passes valid tokens with req.auth and answers 401 + WWW-Authenticate with the reason code otherwise', async () => {
    const guard = verifierMiddleware(createVerifier({jwks, issuer: ISS, audience: AUD, replay: true}))
    const url = await listen((req, res) =>
      guard(req, res, () => {
        res.end(JSON.stringify({sub: (req as {auth?: {claims: {sub?: string}}}).auth?.claims.sub}))
      }),
    )
    const call = (authorization?: string): Promise<Response> => fetch(url, {headers: authorization ? {authorization} : {}})
    const token = await mint()
    const ok = await call(`Bearer ${token}`)
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({sub: 'user-1'})

    const replayed = await call(`Bearer ${token}`)
    expect(replayed.status).toBe(401)
    expect(replayed.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="replay"')
    expect(await replayed.json()).toEqual({error: 'replay'})

    const wrongAud = await call(`Bearer ${await mint({audience: 'x'})}`)
    expect(wrongAud.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="audience_mismatch"')

    const missing = await call()
    expect(missing.status).toBe(401)
    expect(missing.headers.get('www-authenticate')).toBe('Bearer')
  })
})

function strip(k: StoredJwk): Record<string, unknown> {
  return Object.fromEntries(Object.entries(k).filter(([m]) => !m.startsWith('iam_')))
}
