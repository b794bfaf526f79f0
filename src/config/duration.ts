/**
 * Durations, held as milliseconds. iam.yaml takes one strict form (an integer and a unit: "500ms", "5s", "10m", "1h")
 * that its JSON schema can state; flags and Oathkeeper's config take Go's form ("1m30s", "1.5s"), read by
 * parseDurationMs. formatDuration writes a form both accept.
 */
import {usageError} from '../errors.js'

const UNITS = {ms: 1, s: 1000, m: 60_000, h: 3_600_000} as const
type Unit = keyof typeof UNITS

export const DURATION_PATTERN = '^[0-9]+(ms|s|m|h)$'
const DURATION_RE = new RegExp(DURATION_PATTERN)

/** "60s" → 60000; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_RE.test(text)) return undefined
  const unit: Unit = text.endsWith('ms') ? 'ms' : (text.at(-1) as Unit)
  const amount = Number(text.slice(0, text.length - unit.length))
  return Number.isSafeInteger(amount) ? amount * UNITS[unit] : undefined
}

/** 60000 → "60s", 900000 → "15m": readable, and parseDuration(formatDuration(x)) === x. */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`not a duration in ms: ${ms}`)
  if (ms % 1000 !== 0) return `${ms}ms`
  const s = ms / 1000
  if (s < 600 || s % 60 !== 0) return `${s}s`
  const m = s / 60
  if (m < 600 || m % 60 !== 0) return `${m}m`
  return `${m / 60}h`
}

const GO_UNIT_MS: Record<string, number> = {ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000}

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
      return parts.reduce((sum, p) => sum + Number(p[1]) * GO_UNIT_MS[p[2] as string]!, 0)
    }
  }
  throw usageError('INVALID_DURATION', `invalid ${what}: ${JSON.stringify(value)}`, {suggestion: 'Use a duration like 60s, 1m30s or 500ms.'})
}
