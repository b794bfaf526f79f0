/**
 * Checks of setting values, however they arrived (a flag, an environment variable, iam.yaml): each failure is a
 * usage error naming the setting as its flag (`--max-tuples must be a positive integer.`), since that is where users
 * set it. Shared by the commands and the servers' config modules.
 */
import {parseDuration} from '../config/duration.js'
import {usageError} from '../errors.js'
import {parseByteSize} from '../servers/http/body.js'

/** A value that must be a positive integer (oclif's integer flags accept 0 and negatives). */
export function positiveInt(name: string, value: number | undefined): number | undefined {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) throw usageError('INVALID_FLAG', `--${name} must be a positive integer.`)
  return value
}

/** A TCP port: 0 (any free port) to 65535. */
export function portValue(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > 65_535) throw usageError('INVALID_FLAG', `--${name} must be between 0 and 65535.`)
  return value
}

/** A duration in iam.yaml's syntax (`2s`, `500ms`), in milliseconds; at least `min` (default: more than 0). */
export function durationValue(name: string, value: string | undefined, o: {allowZero?: boolean; min?: number} = {}): number | undefined {
  if (value === undefined) return undefined
  const ms = parseDuration(value)
  const min = o.min ?? (o.allowZero ? 0 : 1)
  if (ms === undefined || ms < min) {
    const bare = /^\d+$/.test(value.trim())
    throw usageError('INVALID_FLAG', `--${name} must be a duration${min > 1 ? ` of at least ${min}ms` : ''} like 2s or 500ms (as in iam.yaml), got "${value}".`, {
      suggestion: bare ? `Write the unit: --${name} ${value.trim()}s (seconds) or --${name} ${value.trim()}ms (milliseconds).` : `Pass a duration, e.g. --${name} 2s.`,
    })
  }
  return ms
}

/** An http(s) URL. */
export function httpUrlValue(name: string, value: string): string {
  let ok = false
  try {
    const u = new URL(value)
    ok = u.protocol === 'http:' || u.protocol === 'https:'
  } catch {
    // not a URL
  }
  if (!ok) throw usageError('INVALID_FLAG', `--${name} must be an http(s) URL, got "${value}".`)
  return value
}

/** A size like `64kb` or `1mb`, in bytes. */
export function sizeValue(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const bytes = parseByteSize(value)
  if (bytes === undefined) throw usageError('INVALID_FLAG', `--${name} must be a size like 64kb or 1mb, got "${value}".`)
  return bytes
}

/** iam's precedence for one setting: what was given (flag or environment), else what iam.yaml says. */
export function precedence<S extends object>(given: S, fromConfig: S): <K extends keyof S>(key: K) => S[K] {
  return (key) => given[key] ?? fromConfig[key]
}
