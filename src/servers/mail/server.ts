import type {IncomingMessage, ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

import {simpleParser, type AddressObject} from 'mailparser'
import {SMTPServer, type SMTPServerDataStream, type SMTPServerSession} from 'smtp-server'

import {LOOPBACK_HOSTS} from '../../config/addresses.js'
import {badRequest, createLogger, HttpError, MetricsRegistry, sendJson, sendText, startHttpServer, type Logger} from '../http/index.js'
import {renderInbox} from './page.js'
import {findCode, MailStore, type CaughtMail} from './store.js'

export interface MailCatcherOptions {
  host: string
  /** SMTP port Kratos' courier sends to (iam.yaml ports.mailSmtp). 0 picks a free one. */
  smtpPort: number
  /** HTTP port of the inbox page and its JSON API (iam.yaml ports.mailUi). 0 picks a free one. */
  httpPort: number
  /** Messages kept; the oldest is dropped first. */
  maxMessages: number
  /** Largest message accepted; larger ones are refused with SMTP 552 and not stored. */
  maxMessageBytes: number
  /** All messages together (raw sizes); the oldest are dropped first. Default 64 MB. */
  maxTotalBytes?: number
  logger?: Logger
  shutdownTimeoutMs?: number
}

export interface MailCatcher {
  readonly url: string
  readonly smtpPort: number
  readonly httpPort: number
  readonly store: MailStore
  close(): Promise<void>
}

/** What the API answers per message: the stored mail plus the one-time code found in it, if any. */
export type MailView = CaughtMail & {code?: string}

const view = (m: CaughtMail): MailView => {
  const code = findCode(m.text)
  return code === undefined ? m : {...m, code}
}

function addresses(value: AddressObject | AddressObject[] | undefined): string {
  if (value === undefined) return ''
  return (Array.isArray(value) ? value : [value]).map((a) => a.text).join(', ')
}

function query(req: IncomingMessage): URLSearchParams {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  return new URLSearchParams(q === -1 ? '' : url.slice(q + 1))
}

function mailQuery(req: IncomingMessage): {to?: string; limit?: number} {
  const params = query(req)
  const to = params.get('to') ?? undefined
  const limitText = params.get('limit')
  const limit = limitText === null ? undefined : Number(limitText)
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) throw badRequest('limit must be a positive integer', 'limit')
  return {...(to ? {to} : {}), ...(limit === undefined ? {} : {limit})}
}

/**
 * A mail catcher for the native runtime (the compose stack runs Mailpit): an SMTP server that accepts every message
 * (no relay, nothing leaves the machine) and keeps the newest `maxMessages` in memory, plus an HTTP inbox:
 * `GET /` (a page), `GET /api/messages?to=&limit=` (newest first, each with the one-time `code` found in it),
 * `GET /api/messages/latest?to=` (404 when none), `DELETE /api/messages?to=` (all without `to`), and the usual /health and /metrics.
 */
export async function startMailCatcher(o: MailCatcherOptions): Promise<MailCatcher> {
  const logger = o.logger ?? createLogger({base: {service: 'mail'}})
  const store = new MailStore(o.maxMessages, o.maxTotalBytes)
  const metrics = new MetricsRegistry()
  const received = metrics.counter('mail_messages_total', 'Messages by outcome.', ['outcome'])
  const stored = received.labels('stored')
  const tooLarge = received.labels('too_large')
  const unreadable = received.labels('unreadable')

  const onData = (stream: SMTPServerDataStream, session: SMTPServerSession, callback: (error?: Error | null) => void): void => {
    const chunks: Buffer[] = []
    let size = 0
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length
      // smtp-server keeps reading past `size` (and sets sizeExceeded); keep nothing beyond the limit.
      if (size <= o.maxMessageBytes) chunks.push(chunk)
    })
    stream.once('end', () => {
      if (stream.sizeExceeded || size > o.maxMessageBytes) {
        tooLarge.inc()
        logger.warn('message refused: too large', {size, limit: o.maxMessageBytes})
        callback(Object.assign(new Error(`Message exceeds the limit of ${o.maxMessageBytes} bytes`), {responseCode: 552}))
        return
      }
      simpleParser(Buffer.concat(chunks, size)).then(
        (parsed) => {
          const html = typeof parsed.html === 'string' ? parsed.html : undefined
          const text = parsed.text ?? parsed.textAsHtml?.replace(/<[^>]*>/g, '') ?? ''
          const mail = store.add({
            receivedAt: new Date().toISOString(),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : addresses(parsed.from),
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: parsed.subject ?? '',
            text,
            ...(html === undefined ? {} : {html}),
            size,
          })
          stored.inc()
          // Never the body or subject: they carry one-time codes and links.
          logger.info('message stored', {id: mail.id, to: mail.to, size})
          callback()
        },
        (error: unknown) => {
          unreadable.inc()
          logger.warn('message refused: not a readable message', {error})
          callback(Object.assign(new Error('Message could not be parsed'), {responseCode: 554}))
        },
      )
    })
  }

  const smtp = new SMTPServer({
    banner: 'iam mail catcher (nothing is relayed)',
    size: o.maxMessageBytes,
    authOptional: true,
    // Courier URLs may carry credentials: accept any, check none (it is a catcher on loopback).
    allowInsecureAuth: true,
    onAuth: (auth, _session, callback) => callback(null, {user: auth.username ?? 'anonymous'}),
    disabledCommands: ['STARTTLS'],
    maxClients: 64,
    socketTimeout: 30_000,
    closeTimeout: 5_000,
    logger: false,
    onData,
  })
  smtp.on('error', (error) => logger.warn('smtp connection error', {error}))
  await new Promise<void>((resolve, reject) => {
    smtp.server.once('error', reject)
    smtp.listen(o.smtpPort, o.host, () => {
      smtp.server.off('error', reject)
      resolve()
    })
  })
  const smtpPort = (smtp.server.address() as AddressInfo).port
  logger.info('smtp listening', {host: o.host, port: smtpPort})
  const closeSmtp = (): Promise<void> => new Promise<void>((resolve) => smtp.close(() => resolve()))

  const list = (req: IncomingMessage, res: ServerResponse): void => {
    const {to, limit} = mailQuery(req)
    // total: every mail that matches `to`, before the limit.
    const matching = store.list(to === undefined ? {} : {to})
    sendJson(res, 200, {total: matching.length, messages: matching.slice(0, limit).map(view)})
  }
  let running
  try {
    running = await startHttpServer({
      name: 'mail',
      host: o.host,
      port: o.httpPort,
      logger,
      metrics,
      shutdownTimeoutMs: o.shutdownTimeoutMs,
      // A browser on this machine can reach the inbox: only loopback names (no DNS rebinding) and no deletions from
      // pages of other origins.
      allowedHosts: [...LOOPBACK_HOSTS, ...(o.host === '0.0.0.0' || o.host === '::' ? [] : [o.host.includes(':') ? `[${o.host}]` : o.host])],
      sameOriginWrites: true,
      routes: {
        '/': {GET: (_req, res) => sendText(res, 200, renderInbox(store.list().map(view), {smtpPort}), 'text/html; charset=utf-8')},
        '/api/messages': {
          GET: list,
          DELETE(req, res) {
            sendJson(res, 200, {deleted: store.clear(mailQuery(req).to)})
          },
        },
        '/api/messages/latest': {
          GET(req, res) {
            const {to} = mailQuery(req)
            const [latest] = store.list({...(to ? {to} : {}), limit: 1})
            if (latest === undefined) throw new HttpError(404, 'NO_MESSAGE', to ? `No message to ${to} yet.` : 'No message yet.')
            sendJson(res, 200, view(latest))
          },
        },
      },
      // Ready once SMTP listens, which it does before the HTTP server starts.
      ready: async () => ({ok: smtp.server.listening, checks: {smtp: smtp.server.listening ? 'ok' : 'not listening'}}),
    })
  } catch (error) {
    await closeSmtp()
    throw error
  }
  logger.info('mail catcher ready', {inbox: running.url, smtpPort, maxMessages: o.maxMessages, maxMessageBytes: o.maxMessageBytes})

  let closed: Promise<void> | undefined
  return {
    url: running.url,
    smtpPort,
    httpPort: running.port,
    store,
    close: () => (closed ??= Promise.all([running.close(), closeSmtp()]).then(() => undefined)),
  }
}
