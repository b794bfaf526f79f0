/**
 * Progress of `iam up`/`iam down` from runtime events, in one of three forms:
 * - a live ink view on a terminal (one line per service: pending → migrating → starting → ready, with elapsed time),
 * - plain `[service] state (1.2s)` lines when stderr is not a terminal,
 * - one JSON object per event on stderr with --json.
 * ink and react are imported only for the terminal form so scripts and CI never pay for them.
 */
import type {RuntimeEvent, ServiceStateName} from '../runtime/types.js'

export interface Progress {
  onEvent(event: RuntimeEvent): void
  /** Stops the live view (leaves its final frame on screen). */
  done(): Promise<void>
}

export interface ProgressOptions {
  json?: boolean
  quiet?: boolean
  /** Force the terminal view on/off; default: stderr is a TTY and not --json. */
  interactive?: boolean
  stream?: NodeJS.WritableStream & {isTTY?: boolean}
}

export interface ServiceLine {
  service: string
  state: ServiceStateName
  message?: string
  /** When the service entered its current state, ms since the start of the run. */
  sinceMs: number
  /** Total time to ready, once ready. */
  readyMs?: number
}

/** Pure: folds events into the lines the views show (keeps plan order). */
export function applyEvent(lines: ServiceLine[], event: RuntimeEvent): ServiceLine[] {
  if (event.type === 'plan') {
    const known = new Set(lines.map((l) => l.service))
    return [...lines, ...event.services.filter((s) => !known.has(s)).map((service) => ({service, state: 'pending' as const, sinceMs: 0}))]
  }
  if (event.type !== 'service') return lines
  const next: ServiceLine = {
    service: event.service,
    state: event.state,
    ...(event.message ? {message: event.message} : {}),
    sinceMs: event.elapsedMs,
    ...(event.state === 'ready' ? {readyMs: event.elapsedMs} : {}),
  }
  const index = lines.findIndex((l) => l.service === event.service)
  if (index === -1) return [...lines, next]
  return lines.map((l, i) => (i === index ? next : l))
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`
}

export async function createProgress(o: ProgressOptions = {}): Promise<Progress> {
  const stream = o.stream ?? process.stderr
  if (o.quiet) return {onEvent: () => undefined, done: async () => undefined}
  if (o.json) {
    return {
      onEvent(event) {
        const body = event.type === 'service' ? {event: 'service', subject: event.service, state: event.state, ...(event.message ? {message: event.message} : {}), elapsedMs: event.elapsedMs} : event.type === 'plan' ? {event: 'plan', services: event.services} : {event: 'info', message: event.message}
        stream.write(JSON.stringify(body) + '\n')
      },
      done: async () => undefined,
    }
  }
  const interactive = o.interactive ?? (Boolean(stream.isTTY) && !process.env.CI)
  if (interactive) {
    const {renderProgressView} = await import('./progress-view.js')
    return renderProgressView(stream)
  }
  return {
    onEvent(event) {
      if (event.type === 'service') {
        stream.write(`[${event.service}] ${event.state}${event.message ? `: ${event.message}` : ''} (${formatSeconds(event.elapsedMs)})\n`)
      } else if (event.type === 'info') {
        stream.write(`${event.message}\n`)
      }
    },
    done: async () => undefined,
  }
}
