/** What Hydra's token hook and `iam serve client-claims` agree on (no I/O: the renderers import it too). */

/** The hook's path. */
export const CLIENT_CLAIMS_PATH = '/hook'
/** The environment variable holding the key Hydra presents as `Authorization: Bearer <key>`. */
export const CLIENT_CLAIMS_SECRET_ENV = 'CLIENT_CLAIMS_SECRET'
/**
 * The header the key travels in: Authorization, which Hydra's request logging redacts (a custom header name would
 * put the key into hydra.log on every token request).
 */
export const CLIENT_CLAIMS_KEY_HEADER = 'Authorization'
