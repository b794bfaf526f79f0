/** Library entry of the iam package (`import {createVerifier} from 'iam-stack'`). */
export {
  createVerifier,
  isMachineToken,
  verifierMiddleware,
  VerifyError,
  VERIFY_ERROR_CODES,
  MemoryReplayCache,
  type Verifier,
  type VerifierOptions,
  type VerifiedToken,
  type VerifyErrorCode,
  type ReplayCache,
  type MemoryReplayCacheOptions,
  type AuthenticatedRequest,
  type Next,
} from './verifier/index.js'
