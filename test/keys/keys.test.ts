import {mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {importJWK, jwtVerify} from 'jose'
import {afterAll, describe, expect, it} from 'vitest'

import {isIamError} from '../../src/errors.js'
import {generateJwksFile, generateKey} from '../../src/keys/generate.js'
import {keyStatuses, parseKeySet, publicKeySet, serializeKeySet, signingKey} from '../../src/keys/jwks.js'
import {pruneKeys, rotateKeys, withKeyLock} from '../../src/keys/rotate.js'
import {drainWindowMs} from '../../src/keys/settings.js'
import {readKeySet, writeKeySet} from '../../src/keys/store.js'
import {mintToken} from '../../src/token/mint.js'

const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, {recursive: true, force: true})))
})
const tempDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'iam-keys-'))
  dirs.push(dir)
  return dir
}
const DRAIN = 10_000

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

describe('generateJwksFile', () => {
  it.each(['RS256', 'ES256'] as const)('writes one private %s signing key, mode 0600, only public info returned', async (algorithm) => {
    const path = join(await tempDir(), 'ory', 'oathkeeper', 'jwks.json')
    const result = await generateJwksFile(path, {algorithm})
    expect(Object.keys(result).sort()).toEqual(['alg', 'kid'])
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const set = parseKeySet(await readFile(path, 'utf8'), path)
    expect(set.keys).toHaveLength(1)
    const key = set.keys[0]!
    expect(key).toMatchObject({kid: result.kid, alg: algorithm, use: 'sig', kty: algorithm === 'RS256' ? 'RSA' : 'EC'})
    expect(typeof key.d).toBe('string')
    if (algorithm === 'RS256') expect(Buffer.from(key.n as string, 'base64url').length * 8).toBeGreaterThanOrEqual(2048)
    else expect(key.crv).toBe('P-256')
    expect(Date.parse(key.iam_created_at)).not.toBeNaN()
  })

  it('refuses to overwrite an existing file unless force', async () => {
    const path = join(await tempDir(), 'jwks.json')
    const first = await generateJwksFile(path, {algorithm: 'ES256'})
    const error = await rejection(generateJwksFile(path, {algorithm: 'ES256'}))
    expect(isIamError(error) && error.code).toBe('KEYS_EXIST')
    expect(signingKey(await readKeySet(path)).kid).toBe(first.kid)
    const second = await generateJwksFile(path, {algorithm: 'ES256', force: true})
    expect(second.kid).not.toBe(first.kid)
  })

  it('gives every key a unique kid', async () => {
    const kids = new Set(await Promise.all(Array.from({length: 20}, async () => (await generateKey('ES256')).kid)))
    expect(kids.size).toBe(20)
  })
})

describe('key file model', () => {
  it('rejects files Oathkeeper would misuse: public-only keys, duplicate kids, other algorithms', async () => {
    const key = await generateKey('ES256')
    const {d: _d, ...publicOnly} = key
    const cases: [unknown, RegExp][] = [
      [{keys: [publicOnly]}, /complete private key/],
      [{keys: [key, key]}, /appears twice/],
      [{keys: [{...key, alg: 'HS256'}]}, /allowed: RS256, ES256/],
      [{keys: []}, /empty/],
      ['not json', /not valid JSON/],
    ]
    for (const [content, message] of cases) {
      const text = typeof content === 'string' ? content : JSON.stringify(content)
      expect(() => parseKeySet(text, 'jwks.json')).toThrow(message)
    }
  })

  it('serialises deterministically and round-trips', async () => {
    const set = {keys: [await generateKey('RS256'), await generateKey('ES256')]}
    const text = serializeKeySet(set)
    expect(serializeKeySet(parseKeySet(text, 'x'))).toBe(text)
  })

  it('publishes public members only (no private material, no metadata)', async () => {
    const set = {keys: [await generateKey('RS256'), await generateKey('ES256')]}
    const pub = publicKeySet(set)
    expect(Object.keys(pub.keys[0]!).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use'])
    expect(Object.keys(pub.keys[1]!).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'])
  })
})

describe('rotateKeys / pruneKeys', () => {
  it('appends the new key last (Oathkeeper signs with the last private key) and retires the previous one', async () => {
    const path = join(await tempDir(), 'jwks.json')
    const first = await generateJwksFile(path, {algorithm: 'RS256'})
    const now = new Date('2030-01-01T00:00:00Z')
    const r = await rotateKeys(path, {drainWindowMs: DRAIN, now})
    expect(r.previousKid).toBe(first.kid)
    expect(r.alg).toBe('RS256')
    expect(r.prunableAt).toBe(new Date(now.getTime() + DRAIN).toISOString())
    const set = await readKeySet(path)
    expect(set.keys.map((k) => k.kid)).toEqual([first.kid, r.kid])
    expect(set.keys[0]!.iam_retired_at).toBe(now.toISOString())
    expect(set.keys[1]!.iam_retired_at).toBeUndefined()
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect(keyStatuses(set, now, DRAIN).map((s) => s.role)).toEqual(['verify-only', 'signing'])
    expect(keyStatuses(set, new Date(now.getTime() + DRAIN), DRAIN).map((s) => s.role)).toEqual(['prunable', 'signing'])
  })

  it('can switch algorithm on rotation', async () => {
    const path = join(await tempDir(), 'jwks.json')
    await generateJwksFile(path, {algorithm: 'RS256'})
    const r = await rotateKeys(path, {drainWindowMs: DRAIN, algorithm: 'ES256'})
    expect(signingKey(await readKeySet(path))).toMatchObject({kid: r.kid, alg: 'ES256'})
  })

  it('prunes only keys past the drain window, never the signing key; --dry-run changes nothing; --force prunes early', async () => {
    const path = join(await tempDir(), 'jwks.json')
    await generateJwksFile(path, {algorithm: 'ES256'})
    const t0 = new Date('2030-01-01T00:00:00Z')
    const a = await rotateKeys(path, {drainWindowMs: DRAIN, now: t0})
    const t1 = new Date(t0.getTime() + 5_000)
    const b = await rotateKeys(path, {drainWindowMs: DRAIN, now: t1})
    const at = new Date(t0.getTime() + DRAIN + 1)

    const dry = await pruneKeys(path, {drainWindowMs: DRAIN, now: at, dryRun: true})
    expect(dry.pruned.map((k) => k.kid)).toEqual([a.previousKid])
    expect((await readKeySet(path)).keys).toHaveLength(3)

    const real = await pruneKeys(path, {drainWindowMs: DRAIN, now: at})
    expect(real.pruned.map((k) => k.kid)).toEqual([a.previousKid])
    expect(real.early).toEqual([])
    expect((await readKeySet(path)).keys.map((k) => k.kid)).toEqual([a.kid, b.kid])

    const none = await pruneKeys(path, {drainWindowMs: DRAIN, now: at})
    expect(none.pruned).toEqual([])

    const forced = await pruneKeys(path, {drainWindowMs: DRAIN, now: at, force: true})
    expect(forced.early.map((k) => k.kid)).toEqual([a.kid])
    expect((await readKeySet(path)).keys.map((k) => k.kid)).toEqual([b.kid])
    const last = await pruneKeys(path, {drainWindowMs: DRAIN, now: new Date(at.getTime() + 10 * DRAIN), force: true})
    expect(last.pruned).toEqual([])
    expect(signingKey(await readKeySet(path)).kid).toBe(b.kid)
  })

  it('drain window = token ttl + clock skew + verifier JWKS refresh + Oathkeeper reload', () => {
    expect(drainWindowMs({ttlMs: 60_000, clockSkewMs: 5_000, jwksRefreshMs: 30_000, oathkeeperReloadMs: 30_000})).toBe(125_000)
  })
})

describe('crash safety', () => {
  it('a rotation interrupted between generating and writing leaves the previous JWKS intact and valid', async () => {
    const dir = await tempDir()
    const path = join(dir, 'jwks.json')
    await generateJwksFile(path, {algorithm: 'RS256'})
    const before = await readFile(path, 'utf8')
    let generated: string | undefined
    const error = await rejection(
      rotateKeys(path, {
        drainWindowMs: DRAIN,
        write: async (_p, next) => {
          generated = signingKey(next).kid
          throw new Error('injected crash before write')
        },
      }),
    )
    expect((error as Error).message).toMatch(/injected crash/)
    expect(generated).toBeDefined()
    expect(await readFile(path, 'utf8')).toBe(before)
    const set = await readKeySet(path)
    expect(set.keys.map((k) => k.kid)).not.toContain(generated)
    // Still a working signing set: a token minted with it verifies with its public half.
    const minted = await mintToken(set, {subject: 's', audience: 'a', issuer: 'i', ttlMs: 60_000})
    const pub = publicKeySet(set).keys[0]!
    await expect(jwtVerify(minted.token, await importJWK(pub, pub.alg))).resolves.toBeDefined()
    // The lock is released for the next rotation.
    await expect(rotateKeys(path, {drainWindowMs: DRAIN})).resolves.toMatchObject({previousKid: set.keys[0]!.kid})
  })

  it('a crash in the middle of writing (torn temp file) leaves the previous JWKS intact', async () => {
    const dir = await tempDir()
    const path = join(dir, 'jwks.json')
    await generateJwksFile(path, {algorithm: 'ES256'})
    const before = await readFile(path, 'utf8')
    await rejection(
      rotateKeys(path, {
        drainWindowMs: DRAIN,
        write: async (p, next) => {
          // What a process killed mid-write leaves behind: a partial temp file beside the target, never the target.
          await writeFile(join(dir, '.jwks.json.deadbeef.tmp'), serializeKeySet(next).slice(0, 100))
          throw new Error('killed')
        },
      }),
    )
    expect(await readFile(path, 'utf8')).toBe(before)
    parseKeySet(before, path)
    expect(await readdir(dir)).toContain('jwks.json')
  })

  it('never writes a file it could not read back', async () => {
    const path = join(await tempDir(), 'jwks.json')
    await generateJwksFile(path, {algorithm: 'ES256'})
    const before = await readFile(path, 'utf8')
    const error = await rejection(writeKeySet(path, {keys: []}))
    expect(isIamError(error) && error.code).toBe('KEYS_INVALID')
    expect(await readFile(path, 'utf8')).toBe(before)
  })

  it('serialises concurrent rotations: no key is lost', async () => {
    const path = join(await tempDir(), 'jwks.json')
    await generateJwksFile(path, {algorithm: 'ES256'})
    const results = await Promise.all(Array.from({length: 4}, () => rotateKeys(path, {drainWindowMs: DRAIN})))
    const kids = (await readKeySet(path)).keys.map((k) => k.kid)
    expect(kids).toHaveLength(5)
    for (const r of results) expect(kids).toContain(r.kid)
  })

  it('takes over a lock left by a dead process', async () => {
    const path = join(await tempDir(), 'jwks.json')
    await generateJwksFile(path, {algorithm: 'ES256'})
    await writeFile(`${path}.lock`, '999999999')
    await expect(withKeyLock(path, async () => 'ok')).resolves.toBe('ok')
  })
})
