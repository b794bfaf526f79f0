import {Pool, type Dispatcher} from 'undici'

import {describeNetworkFailure, errorReason, requestJson, UpstreamError} from '../servers/http/index.js'

import {ExitCode, IamError} from '../errors.js'

/** Which Ory API a call went to; named in errors so the user knows which server to look at. */
export type OryApi = 'keto-read' | 'keto-write' | 'kratos-admin' | 'kratos-public' | 'oathkeeper-api' | 'hydra-admin' | 'hydra-public'

export const DEFAULT_ORY_TIMEOUT_MS = 5000
/** Ory answers are small; anything bigger is a misconfigured URL (e.g. pointing at a UI). */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024

export interface OryHttpOptions {
  /** Base URL of the API, e.g. http://127.0.0.1:4466 (a path prefix is kept). */
  baseUrl: string
  api: OryApi
  /** Deadline of each whole call (connect + headers + body). */
  timeoutMs?: number
  /** Shared connection pool (e.g. a server's keep-alive pool); when absent the client owns one. */
  dispatcher?: Dispatcher
}

export interface OryResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  /** Parsed JSON body, or undefined for an empty body. */
  body: unknown
}

export type QueryValue = string | number | boolean | undefined | readonly string[]

/**
 * One HTTP/JSON endpoint of an Ory server: keep-alive pool, a deadline on every call, uniform errors.
 * Connection failures and timeouts become ORY_UNREACHABLE (exit 3) so callers can apply a failure policy.
 */
export class OryHttp {
  readonly baseUrl: URL
  readonly api: OryApi
  readonly timeoutMs: number
  private readonly dispatcher: Dispatcher
  private readonly ownsDispatcher: boolean

  constructor(options: OryHttpOptions) {
    let url: URL
    try {
      url = new URL(options.baseUrl)
    } catch {
      throw new IamError('ORY_URL_INVALID', `The ${options.api} URL "${options.baseUrl}" is not a valid URL.`, {
        exitCode: ExitCode.Usage,
        suggestion: 'Pass an absolute http(s) URL, e.g. http://127.0.0.1:4434.',
      })
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new IamError('ORY_URL_INVALID', `The ${options.api} URL "${options.baseUrl}" must use http or https.`, {exitCode: ExitCode.Usage})
    }
    this.baseUrl = url
    this.api = options.api
    this.timeoutMs = options.timeoutMs ?? DEFAULT_ORY_TIMEOUT_MS
    this.ownsDispatcher = options.dispatcher === undefined
    this.dispatcher =
      options.dispatcher ??
      new Pool(url.origin, {
        connections: 16,
        keepAliveTimeout: 10_000,
        connectTimeout: this.timeoutMs,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      })
  }

  /** Builds the path + query for a call; array values repeat the key (`ids=a&ids=b`). */
  pathWithQuery(path: string, query: Record<string, QueryValue> = {}): string {
    const prefix = this.baseUrl.pathname.replace(/\/+$/, '')
    const params = new URLSearchParams()
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined) continue
      if (Array.isArray(value)) for (const v of value) params.append(key, v)
      else params.append(key, String(value))
    }
    const qs = params.toString()
    return `${prefix}${path}${qs ? `?${qs}` : ''}`
  }

  async call(
    method: Dispatcher.HttpMethod,
    path: string,
    o: {query?: Record<string, QueryValue>; json?: unknown; form?: Record<string, string>; headers?: Record<string, string>} = {},
  ): Promise<OryResponse> {
    const form = o.form === undefined ? undefined : new URLSearchParams(o.form).toString()
    const headers = form === undefined ? o.headers : {'content-type': 'application/x-www-form-urlencoded', ...o.headers}
    try {
      // Every status is the caller's to read (404 = not found, 409 = conflict, …); only the transport fails here.
      return await requestJson(this.dispatcher, {
        origin: this.baseUrl.origin,
        method,
        path: this.pathWithQuery(path, o.query),
        ...(o.json === undefined ? {} : {body: JSON.stringify(o.json)}),
        ...(form === undefined ? {} : {body: form}),
        ...(headers ? {headers} : {}),
        timeoutMs: this.timeoutMs,
        what: this.api,
        acceptStatus: () => true,
        maxBytes: MAX_RESPONSE_BYTES,
      })
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error
      if (error.kind === 'invalid_response') {
        throw new IamError('ORY_BAD_RESPONSE', `${this.api} answered ${method} ${path} with ${error.status === undefined ? 'a body over the size limit' : `status ${error.status} and a body that is not JSON`}.`, {
          exitCode: ExitCode.Environment,
          suggestion: `Check that ${this.baseUrl.origin} is the ${this.api} API of the right server.`,
          details: {api: this.api, ...(error.status === undefined ? {} : {status: error.status}), url: this.baseUrl.origin},
        })
      }
      throw this.unreachable(error, method, path)
    }
  }

  /** An error for an answer the caller did not expect, carrying Ory's own reason. */
  httpError(res: OryResponse, what: string): IamError {
    const reason = errorReason(res.body)
    return new IamError('ORY_REQUEST_FAILED', `${this.api}: ${what} failed with status ${res.status}${reason ? `: ${reason}` : ''}`, {
      exitCode: res.status >= 500 ? ExitCode.Environment : ExitCode.Failure,
      details: {api: this.api, status: res.status, ...(reason ? {reason} : {})},
    })
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close()
  }

  private unreachable(error: UpstreamError, method: string, path: string): IamError {
    const timedOut = error.kind === 'timeout'
    const code = (error.cause as {code?: string; cause?: {code?: string}} | undefined)?.code ?? (error.cause as {cause?: {code?: string}} | undefined)?.cause?.code
    const why = timedOut ? `did not answer within ${this.timeoutMs} ms` : `is unreachable (${describeNetworkFailure(error)})`
    return new IamError('ORY_UNREACHABLE', `${this.api} at ${this.baseUrl.origin} ${why} (${method} ${path}).`, {
      exitCode: ExitCode.Environment,
      suggestion: `Start the stack (iam up) or pass the right --${this.api}-url.`,
      details: {api: this.api, url: this.baseUrl.origin, timeout: timedOut, ...(code ? {cause: code} : {})},
      cause: error,
    })
  }
}

export function isUnreachable(error: unknown): boolean {
  return error instanceof IamError && error.code === 'ORY_UNREACHABLE'
}
