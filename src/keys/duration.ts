import {usageError} from '../errors.js'

const UNIT_MS: Record<string, number> = {ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000}

/**
 * Parses a duration as Go (and so Oathkeeper) writes it: "60s", "1m30s", "500ms". A bare number is milliseconds.
 * Returns milliseconds; throws a usage error naming `what` otherwise.
 */
export function parseDurationMs(value: string | number, what = 'duration'): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value
  } else {
    const text = value.trim()
    if (/^\d+(\.\d+)?$/.test(text)) return Number(text)
    const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)]
    if (parts.length > 0 && parts.map((p) => p[0]).join('') === text) {
      return parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2] as string]!, 0)
    }
  }
  throw usageError('INVALID_DURATION', `invalid ${what}: ${JSON.stringify(value)}`, {suggestion: 'Use a duration like 60s, 1m30s or 500ms.'})
}

/** Milliseconds as a Go duration string ("125s", "1500ms"). */
export function formatDurationMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${Math.round(ms)}ms`
}
