import type {Pool} from 'undici'

import {classifyUpstreamError, truncate, UpstreamError} from '../http/index.js'
import type {BatchCheck, KetoResult} from './decide.js'
import type {Tuple} from './validate.js'

const HEADERS = {'content-type': 'application/json', accept: 'application/json'}

/** The message inside Keto's `{"error": {"message", "reason"}}`, if that is what the body is. */
function ketoMessage(text: string): string | undefined {
  try {
    const e = (JSON.parse(text) as {error?: {message?: unknown; reason?: unknown}}).error
    if (e === undefined) return undefined
    return [e.message, e.reason].filter((s): s is string => typeof s === 'string' && s !== '').join(': ') || undefined
  } catch {
    return undefined
  }
}

/**
 * Keto's batch check (`POST <read>/relation-tuples/batch/check`) over a keep-alive pool. Any non-2xx is an
 * UpstreamError 'status' carrying Keto's message (a Keto 400, e.g. a batch over its limit, is a misconfiguration,
 * not a deny); a 2xx whose body is not one result per tuple is 'invalid_response'.
 */
export function ketoBatchCheck(pool: Pool, basePath: string, onLatency: (seconds: number) => void): BatchCheck {
  const path = `${basePath}/relation-tuples/batch/check`
  return async (tuples: Tuple[], signal?: AbortSignal): Promise<KetoResult[]> => {
    const started = performance.now()
    let status: number
    let text: string
    try {
      const res = await pool.request({method: 'POST', path, headers: HEADERS, body: JSON.stringify({tuples}), signal})
      status = res.statusCode
      text = await res.body.text()
    } catch (error) {
      throw classifyUpstreamError(error, 'Keto')
    } finally {
      onLatency((performance.now() - started) / 1000)
    }
    if (status < 200 || status >= 300) {
      const why = ketoMessage(text)
      throw new UpstreamError('status', `Keto answered HTTP ${status}${why ? `: ${why}` : ''}`, {status, upstreamBody: truncate(text)})
    }
    let results: unknown
    try {
      results = (JSON.parse(text) as {results?: unknown}).results
    } catch {
      throw new UpstreamError('invalid_response', 'Keto answered a body that is not JSON', {status, upstreamBody: truncate(text)})
    }
    if (!Array.isArray(results) || results.length !== tuples.length) {
      throw new UpstreamError('invalid_response', `Keto answered ${Array.isArray(results) ? results.length : 'no'} results for ${tuples.length} tuples`, {
        status,
        upstreamBody: truncate(text),
      })
    }
    for (const r of results as unknown[]) {
      if (typeof r !== 'object' || r === null || typeof (r as KetoResult).allowed !== 'boolean') {
        throw new UpstreamError('invalid_response', 'Keto answered a result without a boolean "allowed"', {status, upstreamBody: truncate(text)})
      }
    }
    return results as KetoResult[]
  }
}
