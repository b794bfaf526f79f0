/**
 * Pure: Kratos' self-service flows as HTML pages, from the flow's `ui` (action, method, nodes, messages). Every node
 * type Kratos sends is rendered — inputs (hidden CSRF token included), submit buttons with their name and value,
 * text, images, anchors; script nodes are left out (the pages work without JavaScript). Every value is escaped.
 */

export interface UiText {
  id?: number
  text: string
  type?: string
}

export interface UiNode {
  type: 'input' | 'text' | 'img' | 'a' | 'script' | string
  group: string
  attributes: Record<string, unknown>
  messages?: UiText[]
  meta?: {label?: UiText}
}

export interface FlowUi {
  action: string
  method: string
  nodes: UiNode[]
  messages?: UiText[]
}

export type FlowKind = 'login' | 'registration' | 'verification' | 'recovery' | 'settings'

export const FLOW_TITLES: Record<FlowKind, string> = {
  login: 'Sign in',
  registration: 'Create an account',
  verification: 'Verify your email',
  recovery: 'Recover your account',
  settings: 'Account settings',
}

const ESCAPES: Record<string, string> = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}

/** HTML-escapes text and attribute values (both quoted with "). */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!)
}

/** Only URLs a page may link or submit to: http(s), same-origin paths and data: images; anything else becomes "#". */
function safeUrl(value: unknown, o: {image?: boolean} = {}): string {
  const text = String(value ?? '')
  if (/^(https?:)?\/\//i.test(text) || text.startsWith('/') || (o.image && /^data:image\/(png|jpeg|gif|svg\+xml);/i.test(text))) return text
  return '#'
}

function messages(list: UiText[] | undefined): string {
  if (!list || list.length === 0) return ''
  return list.map((m) => `<p class="msg ${escapeHtml(m.type ?? 'info')}" data-id="${escapeHtml(m.id ?? '')}">${escapeHtml(m.text)}</p>`).join('\n')
}

const INPUT_ATTRIBUTES = ['name', 'type', 'value', 'autocomplete', 'pattern', 'maxlength'] as const

function inputNode(node: UiNode): string {
  const a = node.attributes
  const type = String(a.type ?? 'text')
  const label = node.meta?.label?.text ?? ''
  if (type === 'submit' || type === 'button') {
    return `<button type="submit" name="${escapeHtml(a.name)}" value="${escapeHtml(a.value)}"${a.disabled ? ' disabled' : ''}>${escapeHtml(label || a.value)}</button>`
  }
  const attrs = INPUT_ATTRIBUTES.filter((k) => a[k] !== undefined && a[k] !== '' && !(k === 'value' && type === 'password'))
    .map((k) => ` ${k}="${escapeHtml(k === 'type' ? type : a[k])}"`)
    .join('')
  const flags = `${a.required ? ' required' : ''}${a.disabled ? ' disabled' : ''}`
  if (type === 'hidden') return `<input${attrs}>`
  if (type === 'checkbox') {
    return `<label class="check"><input${attrs.replace(/ value="[^"]*"/, '')} value="true"${a.value === true ? ' checked' : ''}${flags}> ${escapeHtml(label)}</label>${messages(node.messages)}`
  }
  return `<label>${escapeHtml(label)}<input${attrs}${flags}></label>${messages(node.messages)}`
}

function textNode(node: UiNode): string {
  const text = node.attributes.text as UiText | undefined
  const label = node.meta?.label?.text
  return `<div class="text">${label ? `<p>${escapeHtml(label)}</p>` : ''}<pre>${escapeHtml(text?.text ?? '')}</pre></div>`
}

/** One node as HTML; script nodes render nothing. */
export function renderNode(node: UiNode): string {
  const a = node.attributes
  switch (node.type) {
    case 'input':
      return inputNode(node)
    case 'text':
      return textNode(node)
    case 'img':
      return `<img src="${escapeHtml(safeUrl(a.src, {image: true}))}" alt="${escapeHtml(node.meta?.label?.text ?? '')}" width="${escapeHtml(a.width ?? '')}" height="${escapeHtml(a.height ?? '')}">`
    case 'a':
      return `<a href="${escapeHtml(safeUrl(a.href))}">${escapeHtml((a.title as UiText | undefined)?.text ?? node.meta?.label?.text ?? a.href)}</a>`
    default:
      return ''
  }
}

/**
 * A flow's form. Nodes are shown in Kratos' order; a group's submit buttons say which method they use, hidden inputs
 * (the CSRF token) travel with every button.
 */
export function renderFlowForm(ui: FlowUi): string {
  const method = ui.method.toUpperCase() === 'GET' ? 'get' : 'post'
  const nodes = ui.nodes.map(renderNode).filter((html) => html !== '').join('\n')
  return `${messages(ui.messages)}\n<form action="${escapeHtml(safeUrl(ui.action))}" method="${method}">\n${nodes}\n</form>`
}

export interface PageLinks {
  /** The UI's base path, e.g. /ui/ */
  ui: string
  /** The mail catcher's inbox (development): shown on the verification and recovery pages. */
  mailUrl?: string
}

/** A whole page: title, content, the links between the flows. No script, no inline style (the CSP forbids both). */
export function renderPage(title: string, body: string, links: PageLinks): string {
  const nav = [
    ['login', 'Sign in'],
    ['registration', 'Sign up'],
    ['recovery', 'Forgot password'],
    ['settings', 'Settings'],
    ['logout', 'Sign out'],
  ]
    .map(([path, text]) => `<a href="${escapeHtml(links.ui)}${path}">${text}</a>`)
    .join(' · ')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${escapeHtml(links.ui)}style.css">
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
<nav>${nav}</nav>
</body>
</html>
`
}

/** The flow page: its form, plus in development a link to the inbox where the code arrives. */
export function renderFlowPage(kind: FlowKind, ui: FlowUi, links: PageLinks): string {
  const inbox = links.mailUrl && (kind === 'verification' || kind === 'recovery' || kind === 'login' || kind === 'registration') ? `<p class="hint">Development: codes arrive in the <a href="${escapeHtml(safeUrl(links.mailUrl))}">mail catcher</a>.</p>` : ''
  return renderPage(FLOW_TITLES[kind], `${renderFlowForm(ui)}\n${inbox}`, links)
}

/** Kratos' error object (`/self-service/errors?id=`), shown without internals. */
export function renderErrorPage(error: {message?: unknown; reason?: unknown; code?: unknown} | undefined, links: PageLinks): string {
  const text = [error?.message, error?.reason].filter((t) => typeof t === 'string' && t !== '').map(escapeHtml).join(': ') || 'Something went wrong.'
  return renderPage('Error', `<p class="msg error">${text}</p><p><a href="${escapeHtml(links.ui)}login">Back to sign-in</a></p>`, links)
}

/** The start page: who is signed in (from Kratos' whoami), or links to sign in. */
export function renderHomePage(identity: {email?: string; id: string} | undefined, links: PageLinks & {app: string}): string {
  const body = identity
    ? `<p>Signed in as <strong>${escapeHtml(identity.email ?? identity.id)}</strong>.</p><p><a href="${escapeHtml(links.app)}">Open the app</a></p>`
    : `<p>You are not signed in.</p><p><a href="${escapeHtml(links.ui)}login">Sign in</a> or <a href="${escapeHtml(links.ui)}registration">create an account</a>.</p>`
  return renderPage('Welcome', body, links)
}

export const STYLESHEET = `body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1b1b1f}
h1{font-size:1.4rem}label{display:block;margin:.8rem 0}label input{display:block;width:100%;padding:.45rem;margin-top:.25rem;box-sizing:border-box}
label.check input{display:inline;width:auto}button{margin:.5rem .5rem .5rem 0;padding:.5rem 1rem}
.msg{padding:.5rem;border-radius:4px;background:#eef}.msg.error{background:#fdd}.msg.success{background:#dfd}
pre{white-space:pre-wrap}nav{margin-top:2rem;font-size:.9rem}.hint{font-size:.9rem;color:#555}
`

/** The pages' Content-Security-Policy: nothing but the stylesheet, data: images (TOTP QR codes) and same-origin forms. */
export const PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
