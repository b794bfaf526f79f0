/**
 * Hydra (with `hydra.enabled`): hydra.yml for OAuth2 machine clients. Pure function of the config. What differs per
 * runtime or is secret travels in the environment (src/project/env.ts hydraEnv, the compose file): the DSN, the
 * system secret, the pairwise salt and the token hook (its URL and its key).
 *
 * Choices (verified against the real Hydra v26.2.0 in test/clients/):
 * - Opaque access tokens (`ory_at_…`): the gateway introspects them, so a revoked token stops working; a JWT access
 *   token would stay valid until it expires. The prefix also lets the gateway tell them from Kratos session tokens
 *   (`ory_st_…`) on routes that take both.
 * - `default_grant_allowed_scope`: a token request without `scope` gets every scope the client holds.
 * - Admin API on loopback only: it creates clients and answers introspection without authentication.
 */
import type {IamConfig} from '../config/model.js'
import {formatDuration} from '../config/duration.js'
import {CLIENT_CLAIMS_KEY_HEADER, CLIENT_CLAIMS_PATH} from '../servers/client-claims/protocol.js'
import {baseUrl, yamlDocument} from './common.js'


export function renderHydraConfig(config: IamConfig): string {
  const {ports, hydra} = config
  const issuer = baseUrl(hydra.publicUrl)
  return yamlDocument({
    serve: {
      public: {host: '127.0.0.1', port: ports.hydraPublic},
      admin: {host: '127.0.0.1', port: ports.hydraAdmin},
    },
    urls: {self: {issuer, public: issuer}},
    strategies: {access_token: 'opaque'},
    ttl: {access_token: formatDuration(hydra.accessTokenTtlMs)},
    oauth2: {client_credentials: {default_grant_allowed_scope: true}},
    log: {leak_sensitive_values: false},
  })
}

/** Hydra's `oauth2.token_hook` (given as env OAUTH2_TOKEN_HOOK: it holds the key). */
export function tokenHookConfig(hookBaseUrl: string, key: string): {url: string; auth: {type: 'api_key'; config: {in: 'header'; name: string; value: string}}} {
  return {
    url: `${hookBaseUrl.replace(/\/+$/, '')}${CLIENT_CLAIMS_PATH}`,
    auth: {type: 'api_key', config: {in: 'header', name: CLIENT_CLAIMS_KEY_HEADER, value: `Bearer ${key}`}},
  }
}
