/**
 * Hydra's HTTP APIs as iam uses them: OAuth2 clients, their tokens and introspection on the admin API; the
 * client-credentials grant on the public token endpoint. Secrets pass through here and are never logged or put into
 * an error: an error names the client id and Hydra's OAuth2 error code only.
 */
import type {Dispatcher} from 'undici'

import {ExitCode, IamError} from '../errors.js'
import {OryHttp, type OryResponse} from './request.js'

export const HYDRA_DEFAULT_ADMIN_URL = 'http://127.0.0.1:4445'
export const HYDRA_DEFAULT_PUBLIC_URL = 'http://127.0.0.1:4444'

/** An OAuth2 client as Hydra's admin API holds it (the fields iam reads and writes). */
export interface HydraClient {
  client_id: string
  client_name?: string
  /** Only in the answer to create and to a secret change; Hydra keeps a hash. */
  client_secret?: string
  grant_types?: string[]
  scope?: string
  audience?: string[]
  metadata?: Record<string, unknown>
  token_endpoint_auth_method?: string
  client_credentials_grant_access_token_lifespan?: string | null
  created_at?: string
  updated_at?: string
}

export interface TokenResponse {
  access_token: string
  token_type: string
  expires_in: number
  scope?: string
}

interface ClientOptions {
  timeoutMs?: number
  dispatcher?: Dispatcher
}

/** The OAuth2 error of a token endpoint answer (`{"error": "invalid_client", …}`), or undefined. */
function oauthError(body: unknown): {error: string; description?: string} | undefined {
  if (!body || typeof body !== 'object') return undefined
  const b = body as {error?: unknown; error_description?: unknown}
  if (typeof b.error !== 'string') return undefined
  return {error: b.error, ...(typeof b.error_description === 'string' ? {description: b.error_description} : {})}
}

export class HydraAdminClient {
  private readonly http: OryHttp

  constructor(o: ClientOptions & {adminUrl?: string}) {
    this.http = new OryHttp({api: 'hydra-admin', baseUrl: o.adminUrl ?? HYDRA_DEFAULT_ADMIN_URL, timeoutMs: o.timeoutMs, dispatcher: o.dispatcher})
  }

  /** Creates a client; the answer carries the secret (once). Undefined when the id is taken. */
  async createClient(client: HydraClient): Promise<HydraClient | undefined> {
    const res = await this.http.call('POST', '/admin/clients', {json: client})
    if (res.status === 409) return undefined
    if (res.status !== 201) throw this.refused(res, `creating client ${client.client_id}`)
    return res.body as HydraClient
  }

  async getClient(id: string): Promise<HydraClient | undefined> {
    const res = await this.http.call('GET', `/admin/clients/${encodeURIComponent(id)}`)
    if (res.status === 404 || res.status === 401) return undefined
    if (res.status !== 200) throw this.refused(res, `reading client ${id}`)
    return res.body as HydraClient
  }

  /** Every client, following Hydra's `Link: rel="next"` pages. */
  async listClients(): Promise<HydraClient[]> {
    const all: HydraClient[] = []
    let token: string | undefined
    for (let page = 0; page < 10_000; page++) {
      const res = await this.http.call('GET', '/admin/clients', {query: {page_size: 500, page_token: token}})
      if (res.status !== 200) throw this.refused(res, 'listing clients')
      const list = Array.isArray(res.body) ? (res.body as HydraClient[]) : []
      all.push(...list)
      const next = /<[^>]*[?&]page_token=([^&>]+)[^>]*>;\s*rel="next"/.exec(String(res.headers.link ?? ''))?.[1]
      if (!next || list.length === 0 || next === token) return all
      token = decodeURIComponent(next)
    }
    return all
  }

  /** Changes a client with a JSON Patch (RFC 6902); a new `/client_secret` is hashed by Hydra. Undefined when unknown. */
  async patchClient(id: string, ops: {op: 'replace' | 'add'; path: string; value: unknown}[]): Promise<HydraClient | undefined> {
    const res = await this.http.call('PATCH', `/admin/clients/${encodeURIComponent(id)}`, {json: ops})
    if (res.status === 404) return undefined
    if (res.status !== 200) throw this.refused(res, `updating client ${id}`)
    return res.body as HydraClient
  }

  /** Deletes a client; false when there was none. */
  async deleteClient(id: string): Promise<boolean> {
    const res = await this.http.call('DELETE', `/admin/clients/${encodeURIComponent(id)}`)
    if (res.status === 404) return false
    if (res.status !== 204) throw this.refused(res, `deleting client ${id}`)
    return true
  }

  /** Invalidates every access and refresh token issued to a client. */
  async deleteTokens(clientId: string): Promise<void> {
    const res = await this.http.call('DELETE', '/admin/oauth2/tokens', {query: {client_id: clientId}})
    if (res.status !== 204) throw this.refused(res, `revoking the tokens of client ${clientId}`)
  }

  async close(): Promise<void> {
    await this.http.close()
  }

  private refused(res: OryResponse, what: string): IamError {
    const oauth = oauthError(res.body)
    if (res.status === 400 && oauth) {
      return new IamError('CLIENT_INVALID', `Hydra refused ${what}: ${oauth.description ?? oauth.error}`, {exitCode: ExitCode.Usage, details: {status: res.status, error: oauth.error}})
    }
    return this.http.httpError(res, what)
  }
}

export class HydraPublicClient {
  private readonly http: OryHttp

  constructor(o: ClientOptions & {publicUrl?: string}) {
    this.http = new OryHttp({api: 'hydra-public', baseUrl: o.publicUrl ?? HYDRA_DEFAULT_PUBLIC_URL, timeoutMs: o.timeoutMs, dispatcher: o.dispatcher})
  }

  /**
   * The client-credentials grant (RFC 6749 §4.4) with HTTP Basic client authentication. No refresh token comes back
   * (§4.4.3): a client fetches a new access token when its token expires. Refusals are CLIENT_TOKEN_REFUSED with
   * Hydra's OAuth2 error code (invalid_client: unknown client or wrong secret; invalid_scope: a scope it lacks).
   */
  async clientCredentials(o: {clientId: string; secret: string; scopes?: string[]; audience?: string[]}): Promise<TokenResponse> {
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined for Basic authentication.
    const basic = Buffer.from(`${encodeURIComponent(o.clientId)}:${encodeURIComponent(o.secret)}`).toString('base64')
    const form: Record<string, string> = {grant_type: 'client_credentials'}
    if (o.scopes && o.scopes.length > 0) form.scope = o.scopes.join(' ')
    if (o.audience && o.audience.length > 0) form.audience = o.audience.join(' ')
    const res = await this.http.call('POST', '/oauth2/token', {form, headers: {authorization: `Basic ${basic}`}})
    if (res.status === 200) return res.body as TokenResponse
    const oauth = oauthError(res.body)
    if (oauth && res.status < 500) {
      throw new IamError('CLIENT_TOKEN_REFUSED', `Hydra refused a token to client ${o.clientId}: ${oauth.error}${oauth.description ? ` (${oauth.description.replace(/\.+$/, '')})` : ''}.`, {
        exitCode: ExitCode.Failure,
        suggestion:
          oauth.error === 'invalid_client'
            ? 'Check the client id and its current secret (a rotated secret replaces the old one; `iam clients rotate-secret` prints the new one).'
            : oauth.error === 'invalid_scope'
              ? 'Ask only for scopes the client holds (`iam clients show <id>`).'
              : undefined,
        details: {clientId: o.clientId, error: oauth.error, status: res.status},
      })
    }
    throw this.http.httpError(res, `the token request of client ${o.clientId}`)
  }

  async close(): Promise<void> {
    await this.http.close()
  }
}
