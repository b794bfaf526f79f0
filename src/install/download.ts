/**
 * The installer's one download: streamed to a file created exclusively (mode 0600) while hashing, with a connect,
 * header and idle timeout, a whole-transfer limit and a size bound; redirects followed (GitHub serves release
 * assets and archives from another host). Any short or broken body is an error, never a truncated file.
 */
import {createHash} from 'node:crypto'
import {createWriteStream} from 'node:fs'
import {Transform} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {Agent, interceptors, request} from 'undici'

import {environmentError, type IamError} from '../errors.js'

export interface DownloadOptions {
  /** Whole-transfer limit. */
  timeoutMs: number
  /** Limit for connecting, for the response headers and between body chunks. */
  idleTimeoutMs: number
  /** Largest body accepted. */
  maxBytes: number
  /** The fix named when the download fails. */
  suggestion: string
}

/** Streams `url` into `file` (created exclusively), returning its SHA-256. Any short or broken body is an error. */
export async function download(url: string, file: string, o: DownloadOptions): Promise<string> {
  const agent = new Agent({connectTimeout: o.idleTimeoutMs, headersTimeout: o.idleTimeoutMs, bodyTimeout: o.idleTimeoutMs})
  const dispatcher = agent.compose(interceptors.redirect({maxRedirections: 5}))
  const failed = (why: string, cause?: unknown): IamError =>
    environmentError('DOWNLOAD_FAILED', `download of ${url} failed: ${why}`, {
      suggestion: o.suggestion,
      details: {url},
      cause,
    })
  try {
    let response
    try {
      response = await request(url, {dispatcher, signal: AbortSignal.timeout(o.timeoutMs), headers: {'user-agent': 'iam-install'}})
    } catch (error) {
      throw failed((error as Error).message, error)
    }
    if (response.statusCode !== 200) {
      await response.body.dump().catch(() => undefined)
      throw failed(`HTTP ${response.statusCode}`)
    }
    const declared = Number(response.headers['content-length'] ?? Number.NaN)
    if (declared > o.maxBytes) {
      await response.body.dump().catch(() => undefined)
      throw failed(`the archive is ${declared} bytes, more than the ${o.maxBytes} iam accepts`)
    }
    const hash = createHash('sha256')
    let received = 0
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length
        if (received > o.maxBytes) {
          callback(new Error(`the archive exceeds ${o.maxBytes} bytes`))
          return
        }
        hash.update(chunk)
        callback(null, chunk)
      },
    })
    try {
      await pipeline(response.body, meter, createWriteStream(file, {flags: 'wx', mode: 0o600}))
    } catch (error) {
      throw failed(`the transfer broke off after ${received} bytes (${(error as Error).message})`, error)
    }
    if (Number.isFinite(declared) && received !== declared) {
      throw failed(`received ${received} of ${declared} bytes`)
    }
    return hash.digest('hex')
  } finally {
    await agent.close().catch(() => undefined)
  }
}
