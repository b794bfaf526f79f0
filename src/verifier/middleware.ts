import type {IncomingMessage, ServerResponse} from 'node:http'

import {VerifyError} from './errors.js'
import type {VerifiedToken, Verifier} from './verifier.js'

/** The request after the middleware accepted it: `req.auth` holds the verified token. */
export type AuthenticatedRequest = IncomingMessage & {auth?: VerifiedToken}

export type Next = (error?: unknown) => void

/**
 * Middleware for node:http handlers (and Express): verifies `Authorization: Bearer <jwt>`, sets `req.auth` and calls
 * `next()`; otherwise answers 401 with `WWW-Authenticate: Bearer error="invalid_token", error_description="<code>"`
 * (RFC 6750) and a JSON body `{"error": "<code>"}`. A key set that cannot be fetched answers 503 (fail closed).
 *
 *   const guard = verifierMiddleware(verifier)
 *   http.createServer((req, res) => guard(req, res, () => handler(req, res)))
 */
export function verifierMiddleware(verifier: Verifier): (req: AuthenticatedRequest, res: ServerResponse, next: Next) => void {
  return (req, res, next) => {
    const header = req.headers.authorization
    const match = header ? /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(header) : null
    if (!match) {
      // No credentials: per RFC 6750 §3.1 the challenge carries no error code.
      deny(res, 401, 'Bearer', 'missing_token')
      return
    }
    verifier.verify(match[1] as string).then(
      (token) => {
        req.auth = token
        next()
      },
      (error: unknown) => {
        const code = error instanceof VerifyError ? error.code : 'malformed'
        if (code === 'jwks_unavailable') deny(res, 503, undefined, code)
        // A valid token of the other kind of caller (machine: require | refuse): known, but not allowed here.
        else if (code === 'machine_mismatch') deny(res, 403, `Bearer error="insufficient_scope", error_description="${code}"`, code)
        else deny(res, 401, `Bearer error="invalid_token", error_description="${code}"`, code)
      },
    )
  }
}

function deny(res: ServerResponse, status: number, challenge: string | undefined, code: string): void {
  if (res.headersSent) return
  const body = JSON.stringify({error: code})
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...(challenge ? {'www-authenticate': challenge} : {}),
  })
  res.end(body)
}
