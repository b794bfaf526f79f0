/** One health probe: GET with a short timeout, answered as a short human string (`ready`, `HTTP 503`, ...). */
export interface ProbeResult {
  ok: boolean
  /** `ready`, `HTTP 503: {"errors":…}`, `connection refused`, `timed out`. */
  answer: string
}

export async function probe(url: string, timeoutMs = 1000): Promise<ProbeResult> {
  try {
    const res = await fetch(url, {signal: AbortSignal.timeout(timeoutMs)})
    const body = (await res.text()).replaceAll(/\s+/g, ' ').trim().slice(0, 200)
    if (res.status === 200) return {ok: true, answer: 'ready'}
    return {ok: false, answer: `HTTP ${res.status}${body ? `: ${body}` : ''}`}
  } catch (error) {
    return {ok: false, answer: describeFetchError(error)}
  }
}

/** All URLs answer 200; otherwise the first failing answer. */
export async function probeAll(urls: string[], timeoutMs = 1000): Promise<ProbeResult> {
  const results = await Promise.all(urls.map((u) => probe(u, timeoutMs)))
  const failing = results.find((r) => !r.ok)
  return failing ?? {ok: true, answer: 'ready'}
}

function describeFetchError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timed out'
    const cause = (error as {cause?: {code?: string; message?: string}}).cause
    if (cause?.code === 'ECONNREFUSED') return 'connection refused'
    if (cause?.code) return cause.code
    if (cause?.message) return cause.message
    return error.message
  }
  return String(error)
}
