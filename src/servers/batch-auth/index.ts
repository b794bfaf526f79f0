/** `iam serve batch-auth`: OR-authorization over Keto's batch check for Oathkeeper's remote_json authorizer. See README.md. */
export {BATCH_AUTH_DEFAULTS, startBatchAuth, type BatchAuthOptions, type BatchAuthServer} from './server.js'
export {parseCheckRequest, type SubjectSet, type Tuple} from './validate.js'
export {decide, type BatchCheck, type Decision, type KetoResult, type TupleResult} from './decide.js'
export {DecisionCache} from './cache.js'
export {coalesceBatchChecks, DEFAULT_MAX_IN_FLIGHT, type CoalesceOptions} from './coalesce.js'
export {ketoBatchCheck} from './keto.js'
