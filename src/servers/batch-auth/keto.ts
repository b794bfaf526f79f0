import type {Pool} from 'undici'

import {requestJson, truncate, UpstreamError} from '../http/index.js'
import type {BatchCheck, KetoResult} from './decide.js'
import type {Tuple} from './validate.js'

/**
 * Keto's batch check (`POST <read>/relation-tuples/batch/check`) over a keep-alive pool. Any non-2xx is an
 * UpstreamError 'status' carrying Keto's message (a Keto 400, e.g. a batch over its limit, is a misconfiguration,
 * not a deny); a 2xx whose body is not one result per tuple is 'invalid_response'.
 */
export function ketoBatchCheck(pool: Pool, basePath: string, onLatency: (seconds: number) => void): BatchCheck {
  const path = `${basePath}/relation-tuples/batch/check`
  return async (tuples: Tuple[], signal?: AbortSignal): Promise<KetoResult[]> => {
    const started = performance.now()
    let res
    try {
      // Non-2xx throws kind 'status' with Keto's own message (e.g. "batch exceeds max size of 10").
      res = await requestJson(pool, {method: 'POST', path, body: JSON.stringify({tuples}), ...(signal ? {signal} : {}), what: 'Keto'})
    } finally {
      onLatency((performance.now() - started) / 1000)
    }
    const results = (res.body as {results?: unknown} | undefined)?.results
    const invalid = (why: string): UpstreamError => new UpstreamError('invalid_response', why, {status: res.status, upstreamBody: truncate(JSON.stringify(res.body) ?? '')})
    if (!Array.isArray(results) || results.length !== tuples.length) {
      throw invalid(`Keto answered ${Array.isArray(results) ? results.length : 'no'} results for ${tuples.length} tuples`)
    }
    for (const r of results as unknown[]) {
      if (typeof r !== 'object' || r === null || typeof (r as KetoResult).allowed !== 'boolean') throw invalid('Keto answered a result without a boolean "allowed"')
    }
    return results as KetoResult[]
  }
}
