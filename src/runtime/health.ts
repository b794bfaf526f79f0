import {probeReady} from '../servers/http/index.js'

/** One health probe as a status line shows it: `ready`, or why not (`HTTP 503: …`, `connection refused`, …). */
export interface ProbeResult {
  ok: boolean
  answer: string
}

async function probe(url: string, timeoutMs: number): Promise<ProbeResult> {
  const result = await probeReady(url, '', timeoutMs)
  return result.ok ? {ok: true, answer: 'ready'} : {ok: false, answer: result.error ?? 'not ready'}
}

/** All URLs answer 2xx; otherwise the first failing answer. */
export async function probeAll(urls: string[], timeoutMs = 1000): Promise<ProbeResult> {
  const results = await Promise.all(urls.map((u) => probe(u, timeoutMs)))
  const failing = results.find((r) => !r.ok)
  return failing ?? {ok: true, answer: 'ready'}
}
