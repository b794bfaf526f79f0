/** The id_token verifier for Node services: see the README, "Verifying id_tokens in your Node service". */
export {createVerifier, isMachineToken, type Verifier, type VerifierOptions, type VerifiedToken} from './verifier.js'
export {VerifyError, VERIFY_ERROR_CODES, type VerifyErrorCode} from './errors.js'
export {MemoryReplayCache, type ReplayCache, type MemoryReplayCacheOptions} from './replay-cache.js'
export {verifierMiddleware, type AuthenticatedRequest, type Next} from './middleware.js'
