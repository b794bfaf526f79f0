import {errors as joseErrors} from 'jose'

/**
 * Why a token was rejected. Stable: services log and match on these.
 * `jwks_unavailable` is not a property of the token: the key set could not be fetched (fail closed).
 */
export type VerifyErrorCode =
  | 'invalid_signature'
  | 'unknown_kid'
  | 'expired'
  | 'not_yet_valid'
  | 'audience_mismatch'
  | 'issuer_mismatch'
  | 'malformed'
  | 'replay'
  | 'jwks_unavailable'
  | 'machine_mismatch'

export const VERIFY_ERROR_CODES: readonly VerifyErrorCode[] = [
  'invalid_signature',
  'unknown_kid',
  'expired',
  'not_yet_valid',
  'audience_mismatch',
  'issuer_mismatch',
  'malformed',
  'replay',
  'jwks_unavailable',
  'machine_mismatch',
]

export class VerifyError extends Error {
  readonly code: VerifyErrorCode

  constructor(code: VerifyErrorCode, message: string, options?: {cause?: unknown}) {
    super(message, options)
    this.name = 'VerifyError'
    this.code = code
  }
}

/** Maps jose's errors to reason codes; anything unexpected is `malformed` (fail closed, never accepted). */
export function toVerifyError(error: unknown): VerifyError {
  if (error instanceof VerifyError) return error
  const message = error instanceof Error ? error.message : String(error)
  const as = (code: VerifyErrorCode): VerifyError => new VerifyError(code, message, {cause: error})
  if (error instanceof joseErrors.JWTExpired) return as('expired')
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return as('malformed')
    switch (error.claim) {
      case 'aud':
        return as('audience_mismatch')
      case 'iss':
        return as('issuer_mismatch')
      case 'nbf':
        return as('not_yet_valid')
      default:
        return as('malformed')
    }
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return as('invalid_signature')
  // A token whose alg is not allowed (none, HS256 against an RSA key set, …) cannot be trusted: a signature problem.
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return as('invalid_signature')
  if (error instanceof joseErrors.JWKSNoMatchingKey) return as('unknown_kid')
  if (error instanceof joseErrors.JWKSMultipleMatchingKeys) return as('unknown_kid')
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid) return as('jwks_unavailable')
  if (error instanceof TypeError && /fetch failed/i.test(message)) return as('jwks_unavailable')
  if (error instanceof joseErrors.JOSEError && error.code === 'ERR_JOSE_GENERIC' && /JSON Web Key Set/.test(message)) return as('jwks_unavailable')
  return as('malformed')
}
