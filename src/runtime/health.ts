import {probeReady} from '../servers/http/index.js'
import {probePostgres} from './postgres.js'

/** One health probe as a status line shows it: `ready`, or why not (`HTTP 503: …`, `connection refused`, …). */
export interface ProbeResult {
  ok: boolean
  answer: string
}

/**
 * A service's health URL, probed: http(s) → GET, ready on 2xx (the one HTTP readiness probe); postgres:// → the
 * server accepts connections (no credentials needed). The shape of probeReady's answer, so waitForReady takes either.
 */
export async function probeHealthUrl(url: string, timeoutMs: number, signal?: AbortSignal): Promise<{ok: boolean; status?: number; error?: string}> {
  if (url.startsWith('postgres://')) return probePostgres(url, timeoutMs)
  return probeReady(url, '', timeoutMs, signal)
}

async function probe(url: string, timeoutMs: number): Promise<ProbeResult> {
  const result = await probeHealthUrl(url, timeoutMs)
  return result.ok ? {ok: true, answer: 'ready'} : {ok: false, answer: result.error ?? 'not ready'}
}

/** All URLs answer 2xx; otherwise the first failing answer. */
export async function probeAll(urls: string[], timeoutMs = 1000): Promise<ProbeResult> {
  const results = await Promise.all(urls.map((u) => probe(u, timeoutMs)))
  const failing = results.find((r) => !r.ok)
  return failing ?? {ok: true, answer: 'ready'}
}
