/**
 * Structured JSON logs, one object per line, to stderr by default. Field names that look like credentials
 * (authorization, cookie, set-cookie, secret, password, token, api key) are replaced by "[REDACTED]" at any depth,
 * so a handler that logs request headers cannot leak a bearer token or a session cookie.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const LEVELS: Record<LogLevel, number> = {debug: 10, info: 20, warn: 30, error: 40}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  /** Cheap check before building fields for a log line on a hot path. */
  enabled(level: LogLevel): boolean
  /** A logger adding `fields` to every line. */
  child(fields: Record<string, unknown>): Logger
}

export interface LoggerOptions {
  level?: LogLevel
  /** Defaults to process.stderr. */
  stream?: {write(chunk: string): unknown}
  /** Fields on every line, e.g. {service: 'batch-auth'}. */
  base?: Record<string, unknown>
}

const SENSITIVE = /authorization|cookie|secret|password|passwd|token|api[-_]?key|credential/i
export const REDACTED = '[REDACTED]'

/** Returns a copy of `value` with credential-like fields replaced. Cycles and depth are bounded. */
export function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value
  if (depth > 8) return '[…]'
  if (value instanceof Error) return {name: value.name, message: value.message, ...(hasCode(value) ? {code: value.code} : {})}
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = SENSITIVE.test(k) ? REDACTED : redact(v, depth + 1)
  return out
}

function hasCode(e: Error): e is Error & {code: unknown} {
  return 'code' in e
}

export function parseLogLevel(value: string | undefined, fallback: LogLevel = 'info'): LogLevel {
  return value !== undefined && value in LEVELS ? (value as LogLevel) : fallback
}

export function createLogger(o: LoggerOptions = {}): Logger {
  const threshold = LEVELS[o.level ?? 'info']
  const stream = o.stream ?? process.stderr
  const base = o.base ? (redact(o.base) as Record<string, unknown>) : {}
  const write = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (LEVELS[level] < threshold) return
    const line = {time: new Date().toISOString(), level, msg, ...base, ...(fields ? (redact(fields) as Record<string, unknown>) : {})}
    try {
      stream.write(JSON.stringify(line) + '\n')
    } catch {
      // Logging must never take the server down (closed stderr, EPIPE).
    }
  }
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    enabled: (level) => LEVELS[level] >= threshold,
    child: (fields) => createLogger({level: o.level, stream, base: {...base, ...fields}}),
  }
}
