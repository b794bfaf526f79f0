import type {MailView} from '../servers/mail/server.js'
import {formatTable} from './status-format.js'

/** `iam mail list`: one row a mail, newest first, then how many there are (and how many were deleted). */
export function formatMailList(messages: MailView[], o: {total: number; deleted?: number}): string {
  const footer = [`${messages.length} of ${o.total} mail(s) shown`, ...(o.deleted === undefined ? [] : [`${o.deleted} deleted`])].join('; ')
  if (messages.length === 0) return `No mail yet. ${footer}.`
  const rows = messages.map((m) => [String(m.id), m.receivedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), m.to.join(', '), m.code ?? '-', m.subject])
  return `${formatTable(['ID', 'RECEIVED', 'TO', 'CODE', 'SUBJECT'], rows).trimEnd()}\n\n${footer}.`
}
