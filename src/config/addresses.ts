import type {PortsConfig} from './model.js'

/**
 * One source for every address: what iam.yaml does not set explicitly follows from `ports:` and the gateway's public
 * URL. Pure; config defaults, validation and the iam.yaml writer all ask this module, so a moved port moves every
 * address that names it.
 */

export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]'])

export interface DerivedAddresses {
  /** gateway.publicUrl: `http://127.0.0.1:<oathkeeperProxy>` (no trailing "/"). */
  gatewayUrl: string
  /** kratos.publicUrl. */
  kratosPublicUrl: string
  /** tokens.issuer: the gateway's public URL with a trailing "/". */
  issuer: string
  /** kratos.smtpUrl: the bundled mail catcher. */
  smtpUrl: string
  /** kratos.uiUrl: the built-in sign-in pages under the gateway's /ui/. */
  uiUrl: string
  /** kratos.allowedReturnUrls: anywhere on the gateway's origin. */
  allowedReturnUrls: string[]
  /** hydra.publicUrl: Hydra's public API on loopback (the token endpoint; `iss` of its tokens). */
  hydraPublicUrl: string
}

export function derivedAddresses(ports: PortsConfig, gatewayUrl?: string): DerivedAddresses {
  const gateway = trimSlash(gatewayUrl ?? `http://127.0.0.1:${ports.oathkeeperProxy}`)
  return {
    gatewayUrl: gateway,
    kratosPublicUrl: `http://127.0.0.1:${ports.kratosPublic}/`,
    issuer: `${gateway}/`,
    smtpUrl: `smtp://127.0.0.1:${ports.mailSmtp}/?disable_starttls=true`,
    uiUrl: `${gateway}${UI_PATH}`,
    allowedReturnUrls: [`${gateway}/`],
    hydraPublicUrl: `http://127.0.0.1:${ports.hydraPublic}/`,
  }
}

/** Where the gateway serves Kratos' public API (browsers use it; Kratos' cookies and redirects stay on one origin). */
export const ORY_PATH = '/.ory/'
/** Where the gateway serves the built-in sign-in pages. */
export const UI_PATH = '/ui/'
/** Where the starter app lives below the gateway (the flows' default return). */
export const APP_PATH = '/app/'

const trimSlash = (url: string): string => url.replace(/\/+$/, '')

/** True when a route's match is written as a path (`/public/<**>`), the host part left to the gateway. */
export function isMatchPath(match: string): boolean {
  return match.startsWith('/')
}

/** The full match URL of a route written as a path. */
export function matchUrl(gatewayUrl: string, path: string): string {
  return `${trimSlash(gatewayUrl)}${path}`
}

/**
 * The path of a full match URL that lies below the gateway's public URL (the form iam.yaml is written in), or
 * undefined when the URL names another origin or prefix.
 */
export function matchPathBelow(gatewayUrl: string, match: string): string | undefined {
  const base = trimSlash(gatewayUrl)
  return match.startsWith(`${base}/`) ? match.slice(base.length) : undefined
}

/** `scheme://host:port` of a URL-like text (also of a match with globs in its path), or undefined. */
export function originOf(text: string): string | undefined {
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)/i.exec(text)
  if (!m) return undefined
  try {
    return new URL(`${m[1]}/`).origin
  } catch {
    return undefined
  }
}

/** The port a URL names, its scheme's default when it names none; undefined for a text that is not a URL. */
export function portOf(url: string): number | undefined {
  try {
    const u = new URL(url)
    if (u.port !== '') return Number(u.port)
    return ({'http:': 80, 'https:': 443, 'smtp:': 25, 'smtps:': 465} as Record<string, number>)[u.protocol]
  } catch {
    return undefined
  }
}

/** True when a URL names this machine. */
export function isLoopbackUrl(url: string): boolean {
  try {
    return LOOPBACK_HOSTS.has(new URL(url).hostname)
  } catch {
    return false
  }
}
