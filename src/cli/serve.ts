import {environmentError} from '../errors.js'
import {exitOnSignals, type Logger} from '../servers/http/index.js'

/**
 * The end of a `serve` command: starts the server, turns a port it cannot bind (EADDRINUSE, EACCES) into
 * PORT_UNAVAILABLE (exit 3) with the message and fix the command words, then serves until SIGTERM/SIGINT.
 */
export async function serveUntilSignal(
  start: () => Promise<{close(): Promise<void>}>,
  o: {logger: Logger; portMessage: (code: string) => string; suggestion: string},
): Promise<never> {
  let server
  try {
    server = await start()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE' || code === 'EACCES') throw environmentError('PORT_UNAVAILABLE', o.portMessage(code), {suggestion: o.suggestion})
    throw error
  }
  const running = server
  return new Promise<never>(() => {
    exitOnSignals(() => running.close(), {logger: o.logger})
  })
}
