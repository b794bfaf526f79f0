/** `iam serve batch-auth`: OR-authorization over Keto's batch check for Oathkeeper's remote_json authorizer. See README.md. */
export {BATCH_AUTH_DEFAULTS, startBatchAuth, type BatchAuthOptions, type BatchAuthServer} from './server.js'
export {parseCheckRequest, type Tuple} from './validate.js'
export {decide, type BatchCheck, type KetoResult} from './decide.js'
export {DecisionCache} from './cache.js'
export {coalesceBatchChecks} from './coalesce.js'
export {ketoBatchCheck} from './keto.js'
