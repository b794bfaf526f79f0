/**
 * `iam smoke --upstream-stub`: a throwaway HTTP server on the host:port of each route upstream that is on loopback and
 * not answering, for the length of the smoke run. It answers 200 and keeps the Authorization header of what it
 * received, so smoke can verify the id_token the gateway forwarded. It never echoes the token back.
 */
import {createServer, type Server} from 'node:http'
import {connect} from 'node:net'

export interface StubRequest {
  path: string
  /** The Authorization header as received. Never printed. */
  authorization?: string
}

export interface UpstreamStub {
  /** The upstream origin it stands in for, e.g. `http://127.0.0.1:8080`. */
  origin: string
  received: StubRequest[]
}

export interface UpstreamStubs {
  /** The stub standing in for this upstream URL, if one was started. */
  forUpstream(upstream: string): UpstreamStub | undefined
  /** Origins a stub stands in for. */
  origins(): string[]
  close(): Promise<void>
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

function hostOf(u: URL): string {
  return u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname
}

function portOf(u: URL): number {
  return u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80
}

/** Whether something accepts TCP connections on host:port within `timeoutMs`. */
export function isListening(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({host, port})
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** Starts a stub for every distinct http upstream on loopback that does not accept connections. */
export async function startUpstreamStubs(upstreams: string[], timeoutMs: number): Promise<UpstreamStubs> {
  const stubs = new Map<string, {stub: UpstreamStub; server: Server}>()
  const close = async (): Promise<void> => {
    await Promise.all(
      [...stubs.values()].map(
        ({server}) =>
          new Promise<void>((resolve) => {
            server.closeAllConnections()
            server.close(() => resolve())
          }),
      ),
    )
    stubs.clear()
  }
  try {
    for (const upstream of upstreams) {
      const u = new URL(upstream)
      if (u.protocol !== 'http:' || !LOOPBACK.has(u.hostname) || stubs.has(u.origin)) continue
      if (await isListening(hostOf(u), portOf(u), timeoutMs)) continue
      const stub: UpstreamStub = {origin: u.origin, received: []}
      const server = createServer((req, res) => {
        stub.received.push({path: req.url ?? '/', ...(req.headers.authorization ? {authorization: req.headers.authorization} : {})})
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({stub: 'iam smoke --upstream-stub'}))
      })
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(portOf(u), hostOf(u), () => resolve())
      })
      stubs.set(u.origin, {stub, server})
    }
  } catch (error) {
    await close()
    throw error
  }
  return {
    forUpstream: (upstream) => stubs.get(new URL(upstream).origin)?.stub,
    origins: () => [...stubs.keys()],
    close,
  }
}
