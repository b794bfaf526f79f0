import {randomBytes} from 'node:crypto'

import {calculateJwkThumbprint, exportJWK, generateKeyPair} from 'jose'

import {IamError} from '../errors.js'
import {type KeyAlgorithm, type KeySet, type StoredJwk} from './jwks.js'
import {writeKeySet} from './store.js'
import {pathExists} from '../util/fs.js'

/** Generates one private signing key with jose. RSA keys are 2048 bits (the minimum RS256 allows here). */
export async function generateKey(algorithm: KeyAlgorithm, now: Date = new Date()): Promise<StoredJwk> {
  const {privateKey} = await generateKeyPair(algorithm, {extractable: true, ...(algorithm === 'RS256' ? {modulusLength: 2048} : {})})
  const jwk = await exportJWK(privateKey)
  // kid: thumbprint prefix (stable for the key) + random suffix, so two keys never share a kid even if a backup is
  // restored and rotated again.
  const thumbprint = await calculateJwkThumbprint(jwk, 'sha256')
  const kid = `${now.toISOString().slice(0, 10)}-${thumbprint.slice(0, 12)}${randomBytes(2).toString('hex')}`
  return {...jwk, kty: algorithm === 'RS256' ? 'RSA' : 'EC', kid, alg: algorithm, use: 'sig', iam_created_at: now.toISOString()} as StoredJwk
}

export interface GenerateOptions {
  algorithm: KeyAlgorithm
  /** Replace an existing file (every token signed with its keys stops verifying). */
  force?: boolean
}

/**
 * Writes a new JWKS with one signing key: atomically, mode 0600. Refuses to overwrite an existing file unless
 * `force`. Returns only public information.
 */
export async function generateJwksFile(path: string, o: GenerateOptions): Promise<{kid: string; alg: string}> {
  if (!o.force && (await pathExists(path))) {
    throw new IamError('KEYS_EXIST', `${path} already exists`, {
      exitCode: 2,
      suggestion: 'Use `iam keys rotate` to replace the signing key without breaking tokens in flight, or --force to start over.',
      details: {file: path},
    })
  }
  const key = await generateKey(o.algorithm)
  const set: KeySet = {keys: [key]}
  await writeKeySet(path, set)
  return {kid: key.kid, alg: key.alg}
}

