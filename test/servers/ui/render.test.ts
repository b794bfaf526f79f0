import {describe, expect, it} from 'vitest'

import {escapeHtml, renderErrorPage, renderFlowPage, renderNode, type FlowUi, type UiNode} from '../../../src/servers/ui/render.js'

const HOSTILE = `"><script>alert(1)</script><img src=x onerror=alert(2)>'`
const links = {ui: '/ui/', mailUrl: 'http://127.0.0.1:4436/'}

const input = (attributes: Record<string, unknown>, label?: string, messages?: UiNode['messages']): UiNode => ({
  type: 'input',
  group: 'default',
  attributes: {node_type: 'input', ...attributes},
  ...(label ? {meta: {label: {id: 1, text: label, type: 'info'}}} : {}),
  ...(messages ? {messages} : {}),
})

describe('the sign-in pages render Kratos flow nodes', () => {
  it('every node type: hidden CSRF, text, password (never its value), checkbox, submit with name and value, text, img, a; scripts dropped', () => {
    expect(renderNode(input({name: 'csrf_token', type: 'hidden', value: 'tok'}))).toBe('<input name="csrf_token" type="hidden" value="tok">')
    expect(renderNode(input({name: 'identifier', type: 'text', value: 'a@b.c', required: true}, 'E-Mail'))).toBe('<label>E-Mail<input name="identifier" type="text" value="a@b.c" required></label>')
    expect(renderNode(input({name: 'password', type: 'password', value: 'secret', autocomplete: 'current-password'}, 'Password'))).not.toContain('secret')
    expect(renderNode(input({name: 'method', type: 'submit', value: 'password'}, 'Sign in'))).toBe('<button type="submit" name="method" value="password">Sign in</button>')
    expect(renderNode(input({name: 'remember', type: 'checkbox', value: true}, 'Remember me'))).toContain('value="true" checked')
    expect(renderNode({type: 'text', group: 'lookup_secret', attributes: {text: {id: 1, text: 'abc-123', type: 'info'}}})).toContain('<pre>abc-123</pre>')
    expect(renderNode({type: 'img', group: 'totp', attributes: {src: 'data:image/png;base64,AAAA', width: 256, height: 256}})).toContain('src="data:image/png;base64,AAAA"')
    expect(renderNode({type: 'a', group: 'default', attributes: {href: 'https://example.com/x', title: {id: 1, text: 'Docs'}}})).toBe('<a href="https://example.com/x">Docs</a>')
    expect(renderNode({type: 'script', group: 'webauthn', attributes: {src: 'https://evil.example/x.js'}})).toBe('')
  })

  it('escapes every value Kratos passes through (labels, values, messages, actions) and refuses javascript: URLs', () => {
    const ui: FlowUi = {
      action: `javascript:alert(1)`,
      method: 'POST',
      messages: [{id: 4000006, text: HOSTILE, type: 'error'}],
      nodes: [input({name: HOSTILE, type: 'text', value: HOSTILE}, HOSTILE, [{id: 1, text: HOSTILE, type: 'error'}]), {type: 'a', group: 'default', attributes: {href: 'javascript:alert(3)', title: {id: 1, text: 'x'}}}, {type: 'img', group: 'x', attributes: {src: 'data:text/html,<script>'}}],
    }
    const page = renderFlowPage('login', ui, links)
    expect(page).not.toMatch(/<script|<img src=x|javascript:/i)
    expect(page).toContain(escapeHtml(HOSTILE))
    expect(page).toContain('action="#"')
    expect(page).toContain('<a href="#">x</a>')
  })

  it('the flow page: title, messages per flow and per node, the inbox link in development; the error page shows no internals', () => {
    const page = renderFlowPage('verification', {action: '/.ory/self-service/verification?flow=1', method: 'POST', messages: [{id: 1080001, text: 'An email containing a code has been sent.', type: 'info'}], nodes: []}, links)
    expect(page).toContain('<title>Verify your email</title>')
    expect(page).toContain('An email containing a code has been sent.')
    expect(page).toContain('href="http://127.0.0.1:4436/"')
    expect(renderFlowPage('settings', {action: '/x', method: 'POST', nodes: []}, links)).not.toContain('mail catcher')
    const error = renderErrorPage({message: 'The flow expired', reason: HOSTILE}, links)
    expect(error).toContain('The flow expired')
    expect(error).not.toContain('<script>')
  })
})
