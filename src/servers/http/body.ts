import type {IncomingMessage} from 'node:http'

import {HttpError} from './errors.js'

export interface ReadJsonOptions {
  /** Largest accepted body in bytes; larger bodies get 413 (checked on Content-Length first, then while streaming). */
  maxBytes: number
}

/** True for `application/json` and `application/<x>+json`, with or without parameters (charset). */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false
  const semi = header.indexOf(';')
  const type = (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase()
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))
}

/**
 * Reads and parses a JSON request body, bounded in size. Throws HttpError: 415 (not JSON content type),
 * 413 (too large; the response should close the connection, the rest of the body is not read), 400 (empty or
 * not JSON). Returns the parsed value (`unknown`: validate it).
 */
export async function readJsonBody(req: IncomingMessage, o: ReadJsonOptions): Promise<unknown> {
  if (!isJsonContentType(req.headers['content-type'])) {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json.', {field: 'content-type'})
  }
  const text = await readBodyText(req, o.maxBytes)
  if (text.length === 0) throw new HttpError(400, 'INVALID_JSON', 'The request body is empty; expected a JSON document.', {field: 'body'})
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    throw new HttpError(400, 'INVALID_JSON', `The request body is not valid JSON: ${(error as Error).message}`, {field: 'body'})
  }
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, 'BODY_TOO_LARGE', `The request body is larger than the limit of ${maxBytes} bytes.`, {
    field: 'body',
    headers: {connection: 'close'},
    details: {limit: maxBytes},
  })
}

/** Reads the whole body as UTF-8, failing with 413 as soon as it exceeds `maxBytes`. */
export function readBodyText(req: IncomingMessage, maxBytes: number): Promise<string> {
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.reject(tooLarge(maxBytes))
  return new Promise<string>((resolve, reject) => {
    let first: Buffer | undefined
    let chunks: Buffer[] | undefined
    let size = 0
    const cleanup = (): void => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('aborted', onAborted)
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > maxBytes) {
        cleanup()
        // Stop reading; the 413 response carries `connection: close` so the unread rest is discarded with the socket.
        req.pause()
        reject(tooLarge(maxBytes))
        return
      }
      // The common case is one chunk: avoid the array and the concat.
      if (first === undefined) first = chunk
      else (chunks ??= [first]).push(chunk)
    }
    const onEnd = (): void => {
      cleanup()
      if (first === undefined) resolve('')
      else resolve(chunks === undefined ? first.toString('utf8') : Buffer.concat(chunks, size).toString('utf8'))
    }
    const onError = (error: Error): void => {
      cleanup()
      reject(new HttpError(400, 'BODY_READ_FAILED', `Reading the request body failed: ${error.message}`, {field: 'body'}))
    }
    const onAborted = (): void => onError(new Error('client aborted'))
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('aborted', onAborted)
  })
}

/** Parses sizes like `64kb`, `1mb`, `512` (bytes) into bytes. Returns undefined when malformed. */
export function parseByteSize(value: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|k|kib|mb|m|mib)?\s*$/i.exec(value)
  if (!m) return undefined
  const n = Number(m[1])
  const unit = (m[2] ?? 'b').toLowerCase()
  const factor = unit === 'b' ? 1 : unit.startsWith('k') ? 1024 : 1024 * 1024
  const bytes = Math.floor(n * factor)
  return bytes > 0 ? bytes : undefined
}
