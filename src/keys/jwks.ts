/**
 * The id_token signing JWKS file (`ory/oathkeeper/jwks.json`): a private-only JSON Web Key Set that Oathkeeper's
 * id_token mutator reads, plus iam's key metadata.
 *
 * Two facts of Oathkeeper v26.2.0 (credentials/signer_default.go, unchanged since v0.40.9; verified against the real binary in
 * test/keys/rotation.test.ts) shape the file:
 * - in a private-only JWKS the LAST private key signs, so the signing key is always the last entry and retired keys
 *   precede it, oldest first;
 * - Oathkeeper (go-jose) ignores JWK members it does not know and publishes only the public half of each key, so the
 *   metadata lives in extra members of each JWK (`iam_created_at`, `iam_retired_at`). Keys and their metadata are
 *   therefore one file written by one atomic rename: there is no sidecar that could disagree with the key set.
 */
import {IamError} from '../errors.js'

export type KeyAlgorithm = 'RS256' | 'ES256'
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['RS256', 'ES256']

/** One private signing key as stored in the file. */
export interface StoredJwk {
  kty: 'RSA' | 'EC'
  kid: string
  alg: KeyAlgorithm
  use: 'sig'
  /** ISO-8601: when iam generated the key. */
  iam_created_at: string
  /** ISO-8601: when the key stopped signing (absent on the signing key). */
  iam_retired_at?: string
  /** Key material (n, e, d, p, q, dp, dq, qi for RSA; crv, x, y, d for EC). */
  [member: string]: unknown
}

export interface KeySet {
  keys: StoredJwk[]
}

/** Public members per key type: everything else is private material or iam metadata. */
const PUBLIC_MEMBERS: Record<StoredJwk['kty'], readonly string[]> = {
  RSA: ['kty', 'kid', 'alg', 'use', 'n', 'e'],
  EC: ['kty', 'kid', 'alg', 'use', 'crv', 'x', 'y'],
}

const PRIVATE_MEMBERS: Record<StoredJwk['kty'], readonly string[]> = {
  RSA: ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'],
  EC: ['crv', 'x', 'y', 'd'],
}

const EXPECTED_KTY: Record<KeyAlgorithm, StoredJwk['kty']> = {RS256: 'RSA', ES256: 'EC'}

function invalid(path: string, message: string): IamError {
  return new IamError('KEYS_INVALID', `${path}: ${message}`, {
    exitCode: 2,
    suggestion: 'Restore the file from a backup, or generate a new one with `iam keys generate --force` (tokens signed with the old keys stop verifying).',
    details: {file: path},
  })
}

/** Parses and validates a key file. Every key must be a private RS256/ES256 signing key with a unique kid. */
export function parseKeySet(text: string, path: string): KeySet {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw invalid(path, `not valid JSON (${(error as Error).message})`)
  }
  if (typeof raw !== 'object' || raw === null || !Array.isArray((raw as {keys?: unknown}).keys)) {
    throw invalid(path, 'expected a JSON Web Key Set: an object with a "keys" array')
  }
  const keys = (raw as {keys: unknown[]}).keys
  if (keys.length === 0) throw invalid(path, 'the key set is empty: Oathkeeper needs a private key to sign with')
  const seen = new Set<string>()
  const parsed = keys.map((entry, index) => {
    const where = `key #${index + 1}`
    if (typeof entry !== 'object' || entry === null) throw invalid(path, `${where} is not an object`)
    const jwk = entry as Record<string, unknown>
    if (typeof jwk.kid !== 'string' || jwk.kid.length === 0) throw invalid(path, `${where} has no "kid"`)
    if (seen.has(jwk.kid)) throw invalid(path, `kid "${jwk.kid}" appears twice`)
    seen.add(jwk.kid)
    if (jwk.alg !== 'RS256' && jwk.alg !== 'ES256') throw invalid(path, `key "${jwk.kid}" has alg ${JSON.stringify(jwk.alg)}; allowed: RS256, ES256`)
    if (jwk.kty !== EXPECTED_KTY[jwk.alg]) throw invalid(path, `key "${jwk.kid}" (${jwk.alg}) must have kty "${EXPECTED_KTY[jwk.alg]}"`)
    if (jwk.use !== undefined && jwk.use !== 'sig') throw invalid(path, `key "${jwk.kid}" has use ${JSON.stringify(jwk.use)}; must be "sig"`)
    for (const member of PRIVATE_MEMBERS[EXPECTED_KTY[jwk.alg]]) {
      if (typeof jwk[member] !== 'string') {
        // A public key in the first JWKS location changes which kid Oathkeeper puts in the header (it would sign with
        // one key and name another): refuse it rather than mint unverifiable tokens.
        throw invalid(path, `key "${jwk.kid}" is missing "${member}": every key in this file must be a complete private key`)
      }
    }
    if (jwk.alg === 'ES256' && jwk.crv !== 'P-256') throw invalid(path, `key "${jwk.kid}" (ES256) must use crv P-256`)
    if (jwk.alg === 'RS256' && base64UrlBytes(jwk.n as string) < 256) throw invalid(path, `key "${jwk.kid}" is an RSA key shorter than 2048 bits`)
    for (const member of ['iam_created_at', 'iam_retired_at'] as const) {
      if (jwk[member] !== undefined && (typeof jwk[member] !== 'string' || Number.isNaN(Date.parse(jwk[member] as string)))) {
        throw invalid(path, `key "${jwk.kid}" has an invalid ${member} (expected an ISO-8601 time)`)
      }
    }
    return {...jwk, use: 'sig', iam_created_at: (jwk.iam_created_at as string | undefined) ?? new Date(0).toISOString()} as StoredJwk
  })
  return {keys: parsed}
}

function base64UrlBytes(value: string): number {
  return Buffer.from(value, 'base64url').length
}

/** The file's bytes: stable member order (public members, private members, metadata) and a trailing newline. */
export function serializeKeySet(set: KeySet): string {
  const keys = set.keys.map((key) => {
    const ordered: Record<string, unknown> = {}
    for (const member of [...PUBLIC_MEMBERS[key.kty], ...PRIVATE_MEMBERS[key.kty]]) if (key[member] !== undefined) ordered[member] = key[member]
    for (const [member, value] of Object.entries(key)) if (!(member in ordered) && !member.startsWith('iam_')) ordered[member] = value
    ordered.iam_created_at = key.iam_created_at
    if (key.iam_retired_at) ordered.iam_retired_at = key.iam_retired_at
    return ordered
  })
  return JSON.stringify({keys}, null, 2) + '\n'
}

/** The key Oathkeeper signs with: the last private key of the set (see the module comment). */
export function signingKey(set: KeySet): StoredJwk {
  const key = set.keys.at(-1)
  if (!key) throw new IamError('KEYS_INVALID', 'the key set is empty', {exitCode: 2})
  return key
}

/** The public half of one key: what verifiers need, with neither private material nor iam metadata. */
export function publicJwk(key: StoredJwk): Record<string, string> {
  const out: Record<string, string> = {}
  for (const member of PUBLIC_MEMBERS[key.kty]) if (typeof key[member] === 'string') out[member] = key[member] as string
  return out
}

export function publicKeySet(set: KeySet): {keys: Record<string, string>[]} {
  return {keys: set.keys.map(publicJwk)}
}

export type KeyRole = 'signing' | 'verify-only' | 'prunable'

export interface KeyStatus {
  kid: string
  alg: KeyAlgorithm
  createdAt: string
  retiredAt?: string
  role: KeyRole
  /** When a verify-only key becomes prunable (retiredAt + drain window). */
  prunableAt?: string
}

/**
 * Role of every key at `now`. A retired key stays verify-only for the drain window: Oathkeeper may keep signing with it
 * until it reloads the file, keeps serving cached tokens for up to a token TTL, and verifiers accept them for the clock
 * skew beyond `exp`.
 */
export function keyStatuses(set: KeySet, now: Date, drainWindowMs: number): KeyStatus[] {
  const signer = signingKey(set)
  return set.keys.map((key) => {
    const base = {kid: key.kid, alg: key.alg, createdAt: key.iam_created_at}
    if (key === signer) return {...base, role: 'signing'}
    // A key that is not last but has no retirement time (e.g. a hand-edited file) is treated as retired now: safe.
    const retiredAt = key.iam_retired_at ?? now.toISOString()
    const prunableAt = new Date(Date.parse(retiredAt) + drainWindowMs)
    return {...base, retiredAt, role: prunableAt.getTime() <= now.getTime() ? 'prunable' : 'verify-only', prunableAt: prunableAt.toISOString()}
  })
}
