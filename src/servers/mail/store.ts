/**
 * The mail catcher's memory: the newest messages, bounded in count and in total size (the oldest is dropped first),
 * so a stack left running for days cannot grow without limit. Pure: no I/O.
 */

export interface CaughtMail {
  /** Increasing per catcher process: `id` order is arrival order. */
  id: number
  receivedAt: string
  /** Envelope sender (MAIL FROM). */
  from: string
  /** Envelope recipients (RCPT TO), lower-cased. */
  to: string[]
  subject: string
  /** The plain-text part (or the HTML part stripped of tags when there is no text part). */
  text: string
  /** The HTML part as sent, when there is one. Served as data; never rendered by the catcher's page. */
  html?: string
  /** Size of the raw message in bytes. */
  size: number
}

export interface MailQuery {
  /** Only messages with this envelope recipient (case-insensitive). */
  to?: string
  /** At most this many, newest first. */
  limit?: number
}

export class MailStore {
  private readonly messages: CaughtMail[] = []
  private nextId = 1
  private totalBytes = 0

  /** `maxTotalBytes` counts each message's raw size; the newest message is always kept. */
  constructor(
    readonly maxMessages: number,
    readonly maxTotalBytes = 64 * 1024 * 1024,
  ) {
    if (!Number.isSafeInteger(maxMessages) || maxMessages < 1) throw new RangeError('maxMessages must be a positive integer')
  }

  add(mail: Omit<CaughtMail, 'id'>): CaughtMail {
    const stored: CaughtMail = {id: this.nextId++, ...mail, to: mail.to.map((a) => a.toLowerCase())}
    this.messages.push(stored)
    this.totalBytes += stored.size
    let drop = 0
    let bytes = this.totalBytes
    while (this.messages.length - drop > 1 && (this.messages.length - drop > this.maxMessages || bytes > this.maxTotalBytes)) {
      bytes -= this.messages[drop]!.size
      drop++
    }
    if (drop > 0) {
      this.messages.splice(0, drop)
      this.totalBytes = bytes
    }
    return stored
  }

  /** Newest first. */
  list(q: MailQuery = {}): CaughtMail[] {
    const to = q.to?.toLowerCase()
    const out: CaughtMail[] = []
    for (let i = this.messages.length - 1; i >= 0 && (q.limit === undefined || out.length < q.limit); i--) {
      const m = this.messages[i]!
      if (to === undefined || m.to.includes(to)) out.push(m)
    }
    return out
  }

  /** Removes every message, or only those to `to`; returns how many went. */
  clear(to?: string): number {
    const n = this.messages.length
    if (to === undefined) this.messages.length = 0
    else {
      const address = to.toLowerCase()
      const kept = this.messages.filter((m) => !m.to.includes(address))
      this.messages.splice(0, n, ...kept)
    }
    this.totalBytes = this.messages.reduce((sum, m) => sum + m.size, 0)
    return n - this.messages.length
  }
}

/**
 * The one-time code in a Kratos courier mail (login, registration, verification and recovery codes are 6 digits
 * on a line of their own in the default templates). Undefined when there is none.
 */
export function findCode(text: string): string | undefined {
  return /^\s*(\d{6})\s*$/m.exec(text)?.[1]
}
