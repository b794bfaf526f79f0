/** `iam token mint|verify` as functions of a project directory (the commands only parse flags and print). */
import {readFile} from 'node:fs/promises'
import {resolve} from 'node:path'

import type {JSONWebKeySet, JWTPayload} from 'jose'

import {IamError, usageError} from '../errors.js'
import {parseKeySet, publicKeySet} from '../keys/jwks.js'
import {keyFilePath, loadTokenSettings} from '../keys/settings.js'
import {readKeySet} from '../keys/store.js'
import {buildVerifier} from '../verifier/verifier.js'
import {VerifyError} from '../verifier/errors.js'
import {mintToken} from './mint.js'

export interface MintReport {
  token: string
  kid: string
  alg: string
  claims: JWTPayload
}

export async function mintProjectToken(o: {
  dir: string
  file?: string
  subject: string
  audience: string[]
  claimsJson?: string
  /** Roles for the `roles` claim the rendered mutator adds when roles are enabled. */
  roles?: string[]
  /** Lifetime in ms (the `--ttl` flag); default tokens.ttl. */
  ttlMs?: number
  issuer?: string
}): Promise<MintReport> {
  const settings = await loadTokenSettings(o.dir)
  const set = await readKeySet(keyFilePath(o.dir, o.file))
  // The extra claims of the rendered id_token mutator (src/templates/oathkeeper.ts): `roles` when roles are enabled.
  const claims = {...(settings.rolesClaim ? {roles: o.roles ?? []} : {}), ...(o.claimsJson === undefined ? {} : parseClaims(o.claimsJson))}
  return mintToken(set, {
    subject: o.subject,
    audience: o.audience.length === 1 ? (o.audience[0] as string) : o.audience,
    issuer: o.issuer ?? settings.issuer,
    ttlMs: o.ttlMs ?? settings.ttlMs,
    claims,
  })
}

function parseClaims(text: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw usageError('TOKEN_INVALID_INPUT', `--claims is not valid JSON: ${(error as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw usageError('TOKEN_INVALID_INPUT', '--claims must be a JSON object')
  return value as Record<string, unknown>
}

export interface VerifyReport {
  valid: true
  kid: string
  claims: JWTPayload
  /** Checks that were not made because no value was given. */
  unchecked: string[]
}

/** Verifies one token; a rejected token is an IamError TOKEN_INVALID (exit 1) with `details.reason` = the code. */
export async function verifyProjectToken(o: {
  dir: string
  file?: string
  token: string
  jwks?: string
  audience?: string[]
  issuer?: string
  /** Clock skew in ms (the `--skew` flag); default tokens.clockSkew. */
  skewMs?: number
}): Promise<VerifyReport> {
  const settings = await loadTokenSettings(o.dir)
  const source = o.jwks && /^https?:\/\//.test(o.jwks) ? {jwksUrl: o.jwks} : {jwks: await readJwks(o.jwks ? resolve(o.jwks) : keyFilePath(o.dir, o.file))}
  const audience = o.audience && o.audience.length > 0 ? o.audience : undefined
  // Inside a project the expected issuer is known (tokens.issuer); outside one nothing says what it should be.
  const issuer = o.issuer ?? (settings.source === 'defaults' ? undefined : settings.issuer)
  const verifier = buildVerifier({
    ...source,
    issuer,
    audience,
    clockSkew: o.skewMs ?? settings.clockSkewMs,
  })
  try {
    const {claims, kid} = await verifier.verify(o.token)
    const unchecked = [...(audience ? [] : ['audience not checked (pass --aud)']), ...(issuer ? [] : ['issuer not checked (pass --iss)'])]
    return {valid: true, kid, claims, unchecked}
  } catch (error) {
    if (!(error instanceof VerifyError)) throw error
    throw new IamError('TOKEN_INVALID', `token rejected: ${error.code} (${error.message})`, {
      exitCode: error.code === 'jwks_unavailable' ? 3 : 1,
      details: {reason: error.code},
    })
  }
}

/** A JWKS file: iam's private key file (only its public half is used) or any public JWKS. */
async function readJwks(path: string): Promise<JSONWebKeySet> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    throw usageError('KEYS_NOT_FOUND', `cannot read JWKS file ${path}`, {suggestion: 'Pass --jwks <url|file> or --dir <project>.'})
  }
  try {
    return publicKeySet(parseKeySet(text, path)) as JSONWebKeySet
  } catch {
    try {
      const value = JSON.parse(text) as JSONWebKeySet
      if (Array.isArray(value.keys)) return value
    } catch {
      // fall through
    }
    throw usageError('KEYS_INVALID', `${path} is not a JSON Web Key Set`)
  }
}
