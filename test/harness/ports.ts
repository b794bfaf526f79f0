/**
 * Ports for the servers tests start. Not from the kernel's ephemeral range (bind to port 0): that range is also where
 * every outbound connection of the suite takes its source port, so a port picked there and bound a few seconds later
 * (a whole `iam up` later) can meanwhile be in use by a client socket, and the server fails with EADDRINUSE. That
 * happened on 2-core CI. Instead each vitest worker gets its own slice below the ephemeral range, walked in order
 * from a random start and checked free, so parallel test files never pick the same port and no client takes it.
 */
import {readFile} from 'node:fs/promises'

import {FETCH_BLOCKED_PORTS, isPortFree} from '../../src/util/ports.js'

// Above 10080, the highest port fetch refuses (FETCH_BLOCKED_PORTS), which a slice once handed to Kratos.
const LOWEST_PORT = 11_000
const SLICE_SIZE = 1500

async function ephemeralRangeStart(): Promise<number> {
  try {
    const [low] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/).map(Number)
    if (low !== undefined && Number.isInteger(low) && low > LOWEST_PORT + SLICE_SIZE) return low
  } catch {
    // Not Linux: the IANA dynamic range starts at 49152.
  }
  return 49_152
}

interface Slice {
  start: number
  size: number
  cursor: number
}

let slicePromise: Promise<Slice> | undefined

async function workerSlice(): Promise<Slice> {
  const end = await ephemeralRangeStart()
  const slices = Math.floor((end - LOWEST_PORT) / SLICE_SIZE)
  const worker = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? 1)
  const start = LOWEST_PORT + ((Number.isInteger(worker) && worker > 0 ? worker - 1 : 0) % slices) * SLICE_SIZE
  // A random start: a file that follows in the same worker does not reuse the ports of the one before it.
  return {start, size: SLICE_SIZE, cursor: Math.floor(Math.random() * SLICE_SIZE)}
}

/** A free loopback port no other test file (or outbound connection) will take; never the same twice in a file. */
export async function getFreePort(host = '127.0.0.1'): Promise<number> {
  slicePromise ??= workerSlice()
  const slice = await slicePromise
  for (let tried = 0; tried < slice.size; tried++) {
    const port = slice.start + (slice.cursor++ % slice.size)
    if (!FETCH_BLOCKED_PORTS.has(port) && (await isPortFree(port, host))) return port
  }
  throw new Error(`no free port left in ${slice.start}-${slice.start + slice.size - 1}`)
}

/** Distinct free ports for several names at once. */
export async function getFreePorts<K extends string>(names: readonly K[], host = '127.0.0.1'): Promise<Record<K, number>> {
  const ports = {} as Record<K, number>
  for (const name of names) ports[name] = await getFreePort(host)
  return ports
}
