/** Durations in iam.yaml: an integer and a unit, e.g. "500ms", "5s", "10m", "1h". The model holds milliseconds. */

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
