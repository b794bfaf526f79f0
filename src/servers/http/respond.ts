import type {ServerResponse} from 'node:http'

import {HttpError} from './errors.js'

const JSON_TYPE = 'application/json; charset=utf-8'

/** Writes `body` (already-serialised JSON or a value to serialise) with an explicit Content-Length. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  // writeHead with one object is Node's fast path (no per-header setHeader bookkeeping).
  res.writeHead(
    status,
    headers === undefined
      ? {'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store'}
      : {'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers},
  )
  res.end(text)
}

export function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(res, error.status, error.toBody(), error.headers)
}

export function sendText(res: ServerResponse, status: number, text: string, contentType: string): void {
  res.statusCode = status
  res.setHeader('content-type', contentType)
  res.setHeader('content-length', Buffer.byteLength(text))
  res.setHeader('cache-control', 'no-store')
  res.end(text)
}
