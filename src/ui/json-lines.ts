import {Writable} from 'node:stream'

/** One log line as `iam logs --json` prints it. */
export interface LogLine {
  service: string
  line: string
}

/** `name | text`, as both runtimes prefix lines when they print several services (compose names are `kratos-1`). */
const PREFIXED = /^(\S+)\s*\| ?(.*)$/

/**
 * A stream for `iam logs --json`: what a runtime writes (text, any chunking) comes out as one JSON object per line.
 * With one service asked for, every line is that service's and nothing is parsed out of it (its text may contain
 * " | "); otherwise the runtime's prefix names the service.
 */
export function jsonLinesStream(out: NodeJS.WritableStream, service?: string): Writable {
  let pending = ''
  const emit = (text: string): void => {
    const match = service === undefined ? PREFIXED.exec(text) : null
    const entry: LogLine = match ? {service: match[1]!, line: match[2]!} : {service: service ?? '', line: text}
    out.write(JSON.stringify(entry) + '\n')
  }
  return new Writable({
    decodeStrings: false,
    write(chunk: Buffer | string, _encoding, done) {
      pending += typeof chunk === 'string' ? chunk : chunk.toString('utf8')
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) emit(line.replace(/\r$/, ''))
      done()
    },
    final(done) {
      if (pending !== '') emit(pending)
      pending = ''
      done()
    },
  })
}
