import {environmentError, IamError} from '../../errors.js'
import {describeNetworkFailure, requestJson, UpstreamError} from '../http/index.js'
import type {MailView} from './server.js'

export interface MailInboxOptions {
  /** `http://127.0.0.1:<ports.mailUi>` */
  baseUrl: string
  /** Deadline of each HTTP call. */
  timeoutMs?: number
}

/** The catcher's JSON API (`iam serve mail`), for smoke and `iam mail`. Typed errors; a timeout on every call. */
export class MailInbox {
  private readonly timeoutMs: number

  constructor(private readonly o: MailInboxOptions) {
    this.timeoutMs = o.timeoutMs ?? 5000
  }

  private async call(method: 'GET' | 'DELETE', path: string, to?: string): Promise<{status: number; body: unknown}> {
    const notOurs = (status?: number): IamError =>
      environmentError('MAIL_NOT_IAM', `${this.o.baseUrl} is not iam's mail catcher (${status === undefined ? 'no' : `HTTP ${status},`} not its JSON API).`, {
        suggestion: 'Under the compose runtime the mail UI is Mailpit: open it in a browser. `iam mail` reads `iam serve mail` of the native runtime.',
      })
    let res
    try {
      res = await requestJson(this.o.baseUrl, {
        method,
        path: `${path}${to === undefined ? '' : `?to=${encodeURIComponent(to)}`}`,
        timeoutMs: this.timeoutMs,
        what: 'the mail catcher',
        acceptStatus: () => true,
        maxBytes: 64 * 1024 * 1024,
      })
    } catch (error) {
      if (error instanceof UpstreamError && error.kind === 'invalid_response') throw notOurs(error.status)
      throw environmentError('MAIL_UNREACHABLE', `No mail catcher answers at ${this.o.baseUrl} (${describeNetworkFailure(error)}).`, {
        suggestion: '`iam up` starts it (native runtime, with kratos.smtpUrl on ports.mailSmtp); `iam status` shows whether `mail` runs.',
      })
    }
    const body = res.body
    const isOurs = typeof body === 'object' && body !== null && ('messages' in body || 'id' in body || 'error' in body || 'deleted' in body)
    if (!isOurs) throw notOurs(res.status)
    return {status: res.status, body}
  }

  /** Newest first. */
  async list(o: {to?: string} = {}): Promise<{total: number; messages: MailView[]}> {
    const {body} = await this.call('GET', '/api/messages', o.to)
    return body as {total: number; messages: MailView[]}
  }

  /** The newest mail to `to`, or undefined when none arrived yet. */
  async latest(to: string): Promise<MailView | undefined> {
    const {status, body} = await this.call('GET', '/api/messages/latest', to)
    if (status === 404) return undefined
    return body as MailView
  }

  /**
   * Waits for the newest mail to `to` that carries a one-time code (Kratos' courier sends queued mail about once a
   * second). Throws MAIL_NO_CODE (exit 1) when none came within `waitMs`.
   */
  async waitForCode(to: string, o: {waitMs: number; newerThan?: number; intervalMs?: number}): Promise<MailView & {code: string}> {
    const deadline = Date.now() + o.waitMs
    for (;;) {
      const mail = await this.latest(to)
      if (mail?.code !== undefined && mail.id > (o.newerThan ?? 0)) return mail as MailView & {code: string}
      if (Date.now() >= deadline) break
      await new Promise((resolve) => setTimeout(resolve, Math.min(o.intervalMs ?? 250, Math.max(1, deadline - Date.now()))))
    }
    throw new IamError('MAIL_NO_CODE', `No mail with a code reached the catcher for ${to} within ${Math.round(o.waitMs / 1000)} s.`, {
      suggestion: "Kratos' courier sends it: `iam logs kratos` shows SMTP errors, `iam mail list` what arrived.",
    })
  }

  /** Removes every mail, or only those to `to`; returns how many went. */
  async clear(to?: string): Promise<number> {
    const {body} = await this.call('DELETE', '/api/messages', to)
    return (body as {deleted: number}).deleted
  }
}
