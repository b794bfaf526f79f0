/**
 * `iam serve ui`: the built-in self-service pages, served through the gateway under /ui/ (the origin of the app and
 * of Kratos' /.ory/). Each page fetches its flow from Kratos' public API with the browser's cookies (Kratos checks
 * its CSRF cookie), renders it on the server (src/servers/ui/render.ts), and the browser posts the form to Kratos
 * through the gateway. No JavaScript, a strict CSP, nothing stored.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'

import {MetricsRegistry, requestJson, sendText, startHttpServer, UpstreamError, type Logger, type RunningServer} from '../http/index.js'
import {FLOW_TITLES, PAGE_CSP, renderErrorPage, renderFlowPage, renderHomePage, STYLESHEET, type FlowKind, type FlowUi} from './render.js'

export interface UiServerOptions {
  host: string
  port: number
  /** Kratos' public API as this server reaches it (loopback, or the service name in compose). */
  kratosPublicUrl: string
  /** Kratos' public API as browsers reach it: the gateway's /.ory/ (flows start there). */
  browserKratosUrl: string
  /** Where a signed-in user goes from the start page: the gateway's /app/. */
  appUrl: string
  /** The mail catcher's inbox, linked from the code pages in development. */
  mailUrl?: string
  /** Deadline of each call to Kratos. */
  timeoutMs: number
  logger: Logger
}

export const UI_BASE = '/ui/'
const FLOWS = Object.keys(FLOW_TITLES) as FlowKind[]

function html(res: ServerResponse, status: number, body: string): void {
  res.setHeader('content-security-policy', PAGE_CSP)
  res.setHeader('x-frame-options', 'DENY')
  res.setHeader('referrer-policy', 'same-origin')
  res.setHeader('x-content-type-options', 'nosniff')
  sendText(res, status, body, 'text/html; charset=utf-8')
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, {location, 'cache-control': 'no-store', 'content-length': 0})
  res.end()
}

function query(req: IncomingMessage): URLSearchParams {
  return new URL(req.url ?? '/', 'http://ui.invalid').searchParams
}

/** Only the browser's cookies travel to Kratos (its CSRF and session cookies), nothing else of the request. */
function cookieHeader(req: IncomingMessage): Record<string, string> {
  const cookie = req.headers.cookie
  return cookie ? {cookie} : {}
}

export async function startUiServer(o: UiServerOptions): Promise<RunningServer> {
  const links = {ui: UI_BASE, ...(o.mailUrl ? {mailUrl: o.mailUrl} : {})}
  const kratos = (path: string, req: IncomingMessage) =>
    requestJson(o.kratosPublicUrl, {method: 'GET', path, headers: cookieHeader(req), timeoutMs: o.timeoutMs, what: 'Kratos', acceptStatus: () => true, maxBytes: 1024 * 1024})
  const startFlow = (kind: FlowKind, req: IncomingMessage): string => {
    const returnTo = query(req).get('return_to')
    return `${o.browserKratosUrl.replace(/\/+$/, '')}/self-service/${kind}/browser${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ''}`
  }
  const failed = (res: ServerResponse, error: unknown): void => {
    const unavailable = error instanceof UpstreamError
    o.logger.warn('kratos call failed', {error: error instanceof Error ? error.message : String(error)})
    html(res, unavailable ? 502 : 500, renderErrorPage({message: unavailable ? 'The sign-in service is not answering. Try again in a moment.' : 'Something went wrong.'}, links))
  }

  const flowPage = (kind: FlowKind) => async (req: IncomingMessage, res: ServerResponse) => {
    const id = query(req).get('flow')
    if (!id) return redirect(res, startFlow(kind, req))
    try {
      const answer = await kratos(`/self-service/${kind}/flows?id=${encodeURIComponent(id)}`, req)
      if (answer.status === 200) return html(res, 200, renderFlowPage(kind, (answer.body as {ui: FlowUi}).ui, links))
      // Settings without a session: sign in first, then come back.
      if (answer.status === 401 && kind === 'settings') return redirect(res, `${UI_BASE}login`)
      // An expired or unknown flow: start a new one.
      if (answer.status === 404 || answer.status === 410) return redirect(res, startFlow(kind, req))
      // A CSRF mismatch (no cookie came back): restarting would loop for a browser that refuses cookies; say why.
      if (answer.status === 403) {
        return html(res, 403, renderErrorPage({message: 'This sign-in page needs cookies, and none came back from your browser', reason: 'Allow cookies for this site, then start again.'}, links))
      }
      return html(res, 502, renderErrorPage({message: `The sign-in service answered HTTP ${answer.status}.`}, links))
    } catch (error) {
      failed(res, error)
    }
  }

  const routes: Parameters<typeof startHttpServer>[0]['routes'] = {
    '/ui': {GET: (_req, res) => redirect(res, UI_BASE)},
    [`${UI_BASE}style.css`]: {GET: (_req, res) => sendText(res, 200, STYLESHEET, 'text/css; charset=utf-8')},
    [UI_BASE]: {
      async GET(req, res) {
        try {
          const answer = await kratos('/sessions/whoami', req)
          const session = answer.status === 200 ? (answer.body as {identity?: {id: string; traits?: {email?: string}}}) : undefined
          const identity = session?.identity ? {id: session.identity.id, ...(session.identity.traits?.email ? {email: session.identity.traits.email} : {})} : undefined
          html(res, 200, renderHomePage(identity, {...links, app: o.appUrl}))
        } catch (error) {
          failed(res, error)
        }
      },
    },
    [`${UI_BASE}error`]: {
      async GET(req, res) {
        try {
          const answer = await kratos(`/self-service/errors?id=${encodeURIComponent(query(req).get('id') ?? '')}`, req)
          html(res, 200, renderErrorPage(answer.status === 200 ? ((answer.body as {error?: Record<string, unknown>}).error ?? undefined) : undefined, links))
        } catch (error) {
          failed(res, error)
        }
      },
    },
    [`${UI_BASE}logout`]: {
      async GET(req, res) {
        try {
          const answer = await kratos('/self-service/logout/browser', req)
          const url = answer.status === 200 ? (answer.body as {logout_url?: string}).logout_url : undefined
          redirect(res, url ?? `${UI_BASE}login`)
        } catch (error) {
          failed(res, error)
        }
      },
    },
  }
  for (const kind of FLOWS) routes[`${UI_BASE}${kind}`] = {GET: flowPage(kind)}

  return startHttpServer({
    name: 'ui',
    host: o.host,
    port: o.port,
    logger: o.logger,
    metrics: new MetricsRegistry(),
    routes,
    ready: async () => {
      try {
        const r = await requestJson(o.kratosPublicUrl, {method: 'GET', path: '/health/alive', timeoutMs: 2000, what: 'Kratos', acceptStatus: () => true})
        return r.status === 200 ? {ok: true} : {ok: false, checks: {kratos: `HTTP ${r.status}`}}
      } catch (error) {
        return {ok: false, checks: {kratos: error instanceof Error ? error.message : 'unreachable'}}
      }
    },
  })
}
