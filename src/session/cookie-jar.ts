/**
 * curl's cookie jar (the Netscape format `curl -b FILE` / `-c FILE` read and write): one cookie per line, seven tab
 * separated fields — domain, include-subdomains, path, secure, expiry (epoch seconds, 0 = session), name, value; an
 * HttpOnly cookie's domain is prefixed `#HttpOnly_`. Pure: no I/O.
 */
import type {FlowCookie} from '../ory/kratos-client.js'

const HEADER = '# Netscape HTTP Cookie File\n# Written by iam login: a Kratos session. It is a secret: keep this file private (mode 0600).\n\n'

/** The jar for cookies set by `host` (host-only cookies, as Kratos sets them without a Domain). */
export function renderCookieJar(host: string, cookies: readonly FlowCookie[]): string {
  const lines = cookies.map((c) => [`${c.httpOnly ? '#HttpOnly_' : ''}${host}`, 'FALSE', c.path, c.secure ? 'TRUE' : 'FALSE', String(c.expires), c.name, c.value].join('\t'))
  return HEADER + lines.map((l) => `${l}\n`).join('')
}

/** The `Cookie` header a jar gives a request to `host` (expired cookies left out); empty when none applies. */
export function cookieHeaderFromJar(jar: string, host: string, nowSeconds: number = Math.floor(Date.now() / 1000)): string {
  const pairs: string[] = []
  for (const raw of jar.split(/\r?\n/)) {
    const line = raw.startsWith('#HttpOnly_') ? raw.slice('#HttpOnly_'.length) : raw
    if (line === '' || line.startsWith('#')) continue
    const [domain, subdomains, , , expiry, name, value] = line.split('\t')
    if (domain === undefined || name === undefined || value === undefined) continue
    const bare = domain.replace(/^\./, '')
    const applies = bare === host || (subdomains === 'TRUE' && host.endsWith(`.${bare}`))
    const expires = Number(expiry)
    if (applies && (expires === 0 || expires > nowSeconds)) pairs.push(`${name}=${value}`)
  }
  return pairs.join('; ')
}
