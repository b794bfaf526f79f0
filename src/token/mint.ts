import {randomUUID} from 'node:crypto'

import {importJWK, SignJWT, type JWTPayload} from 'jose'

import {usageError} from '../errors.js'
import {signingKey, type KeySet} from '../keys/jwks.js'

export interface MintOptions {
  subject: string
  /** One audience is written as a one-element array, as Oathkeeper's rendered claims template does. */
  audience: string | string[]
  issuer: string
  ttlMs: number
  /** Extra claims (the rendered mutator's template claims, e.g. `session`). Registered claims below win over them. */
  claims?: Record<string, unknown>
  now?: Date
}

export interface MintedToken {
  token: string
  kid: string
  alg: string
  claims: JWTPayload
}

/** Claims the id_token mutator sets itself, after rendering the template (pipeline/mutate/mutator_id_token.go). */
const MUTATOR_CLAIMS = ['exp', 'jti', 'iat', 'iss', 'nbf', 'sub'] as const

/**
 * Mints a token shaped like Oathkeeper's id_token, signed with the key Oathkeeper would sign with: template claims
 * (here: `aud` + `claims`), then exp, jti (UUID v4), iat, iss, nbf (= iat), sub; header {alg, kid, typ: "JWT"}.
 */
export async function mintToken(set: KeySet, o: MintOptions): Promise<MintedToken> {
  if (!o.subject) throw usageError('TOKEN_INVALID_INPUT', 'a subject is required')
  const audience = Array.isArray(o.audience) ? o.audience : [o.audience]
  if (audience.length === 0 || audience.some((a) => !a)) throw usageError('TOKEN_INVALID_INPUT', 'an audience is required')
  for (const claim of MUTATOR_CLAIMS) {
    if (o.claims && claim in o.claims) {
      throw usageError('TOKEN_INVALID_INPUT', `--claims must not set "${claim}": Oathkeeper sets it itself`, {suggestion: `Use the flag for it (${claim === 'sub' ? '--sub' : claim === 'iss' ? '--iss' : claim === 'exp' ? '--ttl' : 'none'}).`})
    }
  }
  const key = signingKey(set)
  const now = Math.floor((o.now ?? new Date()).getTime() / 1000)
  const claims: JWTPayload = {
    aud: audience,
    ...o.claims,
    exp: now + Math.max(1, Math.round(o.ttlMs / 1000)),
    jti: randomUUID(),
    iat: now,
    iss: o.issuer,
    nbf: now,
    sub: o.subject,
  }
  const privateKey = await importJWK(stripMetadata(key), key.alg)
  const token = await new SignJWT(claims).setProtectedHeader({alg: key.alg, kid: key.kid, typ: 'JWT'}).sign(privateKey)
  return {token, kid: key.kid, alg: key.alg, claims}
}

function stripMetadata(key: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(key).filter(([member]) => !member.startsWith('iam_')))
}
