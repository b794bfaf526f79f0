/**
 * Progress and log lines for humans. Always stderr, so stdout stays the command's result (and pure JSON with --json).
 * With --json, progress becomes one JSON event per line on stderr.
 */
export interface Reporter {
  /** A step started or moved on: `[kratos] building…`. */
  step(subject: string, message: string): void
  info(message: string): void
  warn(message: string): void
  readonly interactive: boolean
}

export interface ReporterOptions {
  json?: boolean
  quiet?: boolean
  stream?: NodeJS.WritableStream & {isTTY?: boolean}
}

export function createReporter(options: ReporterOptions = {}): Reporter {
  const stream = options.stream ?? process.stderr
  const started = Date.now()
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)}s`
  const write = (level: string, subject: string | undefined, message: string): void => {
    if (options.quiet && level !== 'warn') return
    if (options.json) {
      stream.write(JSON.stringify({event: level, ...(subject ? {subject} : {}), message, elapsedMs: Date.now() - started}) + '\n')
      return
    }
    const prefix = level === 'warn' ? 'warning: ' : ''
    stream.write(`${subject ? `[${subject}] ` : ''}${prefix}${message}${level === 'step' ? ` (${elapsed()})` : ''}\n`)
  }
  return {
    step: (subject, message) => write('step', subject, message),
    info: (message) => write('info', undefined, message),
    warn: (message) => write('warn', undefined, message),
    interactive: Boolean(stream.isTTY) && !options.json,
  }
}
