import type {MailView} from './server.js'

const ESCAPES: Record<string, string> = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}
const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!)

/**
 * The inbox page: newest first, plain text only. HTML parts are never rendered (a mail is untrusted input); the
 * JSON API serves them as data. Refreshes itself every 5 s.
 */
export function renderInbox(messages: MailView[], o: {smtpPort: number}): string {
  const rows = messages
    .map(
      (m) => `<article>
<header><strong>${escape(m.subject || '(no subject)')}</strong>${m.code ? ` <code class="code">${escape(m.code)}</code>` : ''}<br>
<small>#${m.id} · ${escape(m.receivedAt)} · from ${escape(m.from)} · to ${escape(m.to.join(', '))}</small></header>
<pre>${escape(m.text)}</pre>
</article>`,
    )
    .join('\n')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>iam mail (${messages.length})</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;max-width:60rem}article{border:1px solid #ccc;border-radius:6px;padding:.75rem;margin:.75rem 0}
pre{white-space:pre-wrap;word-break:break-word}.code{font-size:1.2em;background:#eef;padding:0 .3em}</style></head>
<body><h1>iam mail catcher</h1>
<p>Every mail sent to SMTP port ${o.smtpPort} lands here; nothing is relayed. JSON: <a href="/api/messages">/api/messages</a>.</p>
${rows || '<p>No mail yet.</p>'}
</body></html>
`
}
