import {readFile, readdir, readlink} from 'node:fs/promises'
import {createServer, type AddressInfo, type Server} from 'node:net'

import {environmentError} from '../errors.js'

/**
 * Ports that browsers and fetch (Node's included) refuse to connect to: the WHATWG Fetch standard's "bad ports".
 * An HTTP service on one of them cannot be reached by a browser, by `iam`'s health checks or by `fetch` in tests.
 */
export const FETCH_BLOCKED_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111,
  113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548,
  554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665,
  6666, 6667, 6668, 6669, 6679, 6697, 10080,
])

/**
 * Asks the kernel for a free TCP port on `host` by binding port 0 and releasing it. The port can in theory be taken
 * again before the caller binds it; callers that start servers on it should treat a bind failure as retryable.
 */
export async function getFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen({port: 0, host, exclusive: true}, () => {
      const address = server.address()
      if (address === null || typeof address === 'string') {
        server.close()
        reject(new Error(`could not read the port bound on ${host}`))
        return
      }
      const {port} = address
      server.close((error) => (error ? reject(error) : resolve(port)))
    })
  })
}

/**
 * Free ports for several names at once, all distinct: each is held until every one is allocated, so the kernel
 * cannot hand out the same port twice (which calling getFreePort() in a loop allows).
 */
export async function getFreePorts<K extends string>(names: readonly K[], host = '127.0.0.1'): Promise<Record<K, number>> {
  const servers: Server[] = []
  try {
    const ports = {} as Record<K, number>
    for (const name of names) {
      const server = createServer()
      server.unref()
      servers.push(server)
      ports[name] = await new Promise<number>((resolve, reject) => {
        server.once('error', reject)
        server.listen({port: 0, host, exclusive: true}, () => resolve((server.address() as AddressInfo).port))
      })
    }
    return ports
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()))))
  }
}

/** True when nothing listens on `port` at `host` (we could bind it ourselves). */
export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const server = createServer()
    server.unref()
    server.once('error', () => resolve(false))
    server.listen({port, host, exclusive: true}, () => {
      server.close(() => resolve(true))
    })
  })
}

export interface PortOwner {
  pid: number
  /** The process's command line (or its `comm` when the command line is unreadable). */
  command: string
}

/**
 * Best effort: names the process holding a listening TCP socket on `port` (any address, IPv4 or IPv6) so errors can
 * say "port 4433 is already in use by <process>". Linux only (reads /proc/net/tcp{,6} and /proc/<pid>/fd); returns
 * undefined elsewhere, when the socket belongs to another user's process we cannot inspect, or on any read error.
 */
export async function describePortOwner(port: number): Promise<PortOwner | undefined> {
  if (process.platform !== 'linux') return undefined
  try {
    const inodes = new Set<string>()
    for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let text: string
      try {
        text = await readFile(file, 'utf8')
      } catch {
        continue
      }
      for (const inode of listeningInodes(text, port)) inodes.add(inode)
    }
    if (inodes.size === 0) return undefined
    const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry))
    for (const pid of pids) {
      let fds: string[]
      try {
        fds = await readdir(`/proc/${pid}/fd`)
      } catch {
        continue
      }
      for (const fd of fds) {
        let target: string
        try {
          target = await readlink(`/proc/${pid}/fd/${fd}`)
        } catch {
          continue
        }
        const match = /^socket:\[(\d+)\]$/.exec(target)
        if (match?.[1] && inodes.has(match[1])) return {pid: Number(pid), command: await processCommand(pid)}
      }
    }
    return undefined
  } catch {
    return undefined
  }
}

/** Inodes of sockets in LISTEN state (st = 0A) on `port`, parsed from the text of /proc/net/tcp or tcp6. */
export function listeningInodes(procNetTcp: string, port: number): string[] {
  const inodes: string[] = []
  for (const line of procNetTcp.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/)
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    const local = fields[1]
    const state = fields[3]
    const inode = fields[9]
    if (!local || !state || !inode) continue
    const portHex = local.split(':').at(-1)
    if (state === '0A' && portHex !== undefined && Number.parseInt(portHex, 16) === port && inode !== '0') inodes.push(inode)
  }
  return inodes
}

async function processCommand(pid: string): Promise<string> {
  try {
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean).join(' ')
    if (cmdline) return cmdline
  } catch {
    // fall through to comm
  }
  try {
    return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim()
  } catch {
    return `pid ${pid}`
  }
}

export interface PlannedPort {
  service: string
  name: string
  port: number
}

/**
 * Before anything starts: every port must be free, otherwise PORT_IN_USE (exit 3) names each taken port, its service
 * and the owning process when it can be found. Check before starting a server: Keto (seen on v0.14.0) does not exit when one of
 * its ports is taken, it hangs until stopped, so a bind failure would otherwise surface only as a readiness timeout.
 */
export async function assertPortsFree(ports: PlannedPort[]): Promise<void> {
  const taken: (PlannedPort & {owner?: string})[] = []
  for (const p of ports) {
    if (await isPortFree(p.port)) continue
    const owner = await describePortOwner(p.port)
    taken.push({...p, ...(owner ? {owner: `pid ${owner.pid} (${owner.command.slice(0, 120)})`} : {})})
  }
  if (taken.length === 0) return
  const lines = taken.map((t) => `port ${t.port} (${t.service} ${t.name}) is in use${t.owner ? ` by ${t.owner}` : ''}`)
  throw environmentError('PORT_IN_USE', `Cannot start: ${lines.join('; ')}. Nothing was started.`, {
    suggestion: `Stop the process holding the port${taken.length > 1 ? 's' : ''} (another \`iam up\`? run \`iam down\` in that project), or change ports in iam.yaml.`,
    details: {ports: taken},
  })
}
