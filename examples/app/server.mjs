// The example app behind the gateway: a few dozen lines of Node. The gateway (Oathkeeper) has already authenticated
// and authorized the request and forwards it with `Authorization: Bearer <id_token>`; the exported verifier checks
// that token (signature against the gateway's JWKS, issuer, audience, expiry) before the handler runs.
import http from 'node:http'

import {createVerifier, verifierMiddleware} from 'iam-stack'

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** Starts the app; resolves with the http.Server once it listens. */
export function startExampleApp({host = '127.0.0.1', port = 8080, jwksUrl, issuer, audience}) {
  const guard = verifierMiddleware(createVerifier({jwksUrl, issuer, audience, replay: false}))
  const server = http.createServer((req, res) => {
    if (req.url === '/health/ready' || req.url === '/health/alive') return res.end('{"status":"ok"}')
    guard(req, res, () => {
      const {sub, email, roles = [], aud} = req.auth.claims
      res.setHeader('content-type', 'text/html; charset=utf-8')
      res.setHeader('content-security-policy', "default-src 'none'")
      res.end(`<!doctype html><title>iam example app</title><h1>Hello, ${escape(email || sub)}!</h1>
<p>Your id: <code>${escape(sub)}</code></p>
<p>Roles: ${roles.length ? roles.map(escape).join(', ') : 'none'}</p>
<p>The gateway let you in to <code>${escape(req.method)} ${escape(req.url)}</code> for <code>${escape([aud].flat().join(', '))}</code>.</p>
<p><a href="/ui/settings">Settings</a> · <a href="/ui/logout">Sign out</a></p>`)
    })
  })
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)))
}
