/**
 * Checks of setting values, however they arrived (a flag, an environment variable, iam.yaml): each failure is a
 * usage error naming the setting as its flag (`--max-tuples must be a positive integer.`), since that is where users
 * set it. Shared by the commands and the servers' config modules.
 */
import {formatDuration, parseDuration} from '../config/duration.js'
import {usageError, type IamError} from '../errors.js'
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
  const ms = parseDuration(value.trim())
  const min = o.min ?? (o.allowZero ? 0 : 1)
  if (ms === undefined || ms < min) throw durationError(name, value, min)
  return ms
}

/**
 * The one refusal of a duration, whichever flag (or its environment variable) gave it: INVALID_DURATION (exit 2)
 * naming the fix — a bare number gets its unit written out both ways (`--timeout 30s` or `--timeout 30ms`).
 */
function durationError(name: string, value: string, min: number): IamError {
  const text = value.trim()
  const syntax = `--${name} takes a duration like 500ms, 5s, 10m or 1h (as in iam.yaml)`
  if (parseDuration(text) !== undefined) {
    return usageError('INVALID_DURATION', `${syntax} of at least ${formatDuration(min)}; got "${value}".`, {suggestion: `Pass at least --${name} ${formatDuration(min)}.`})
  }
  const bare = /^\d+$/.test(text)
  return usageError('INVALID_DURATION', `${syntax}; got "${value}"${bare ? ', a number without a unit' : ''}.`, {
    suggestion: bare ? `Write the unit: --${name} ${text}s (seconds) or --${name} ${text}ms (milliseconds).` : `Pass a duration, e.g. --${name} 30s.`,
  })
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
