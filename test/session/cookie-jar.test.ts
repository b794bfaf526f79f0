import {describe, expect, it} from 'vitest'

import {cookieHeaderFromJar, renderCookieJar} from '../../src/session/cookie-jar.js'

const cookie = (name: string, value: string, o: {httpOnly?: boolean; expires?: number} = {}) => ({name, value, path: '/', secure: false, httpOnly: o.httpOnly ?? true, expires: o.expires ?? 0})

describe('curl cookie jar', () => {
  it('renders host-only cookies in the Netscape format curl reads (HttpOnly prefix, session expiry 0)', () => {
    const jar = renderCookieJar('127.0.0.1', [cookie('ory_kratos_session', 'abc', {expires: 2_000_000_000}), cookie('csrf_token_x', 'def', {httpOnly: false})])
    expect(jar.split('\n')[0]).toBe('# Netscape HTTP Cookie File')
    expect(jar).toContain('#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t2000000000\tory_kratos_session\tabc\n')
    expect(jar).toContain('127.0.0.1\tFALSE\t/\tFALSE\t0\tcsrf_token_x\tdef\n')
  })

  it('gives the Cookie header for the jar host only, without expired cookies', () => {
    const jar = renderCookieJar('127.0.0.1', [cookie('a', '1'), cookie('b', '2', {expires: 100}), cookie('c', '3', {expires: 300})])
    expect(cookieHeaderFromJar(jar, '127.0.0.1', 200)).toBe('a=1; c=3')
    expect(cookieHeaderFromJar(jar, 'localhost', 200)).toBe('')
    expect(cookieHeaderFromJar('.example.com\tTRUE\t/\tTRUE\t0\tsid\tx\n', 'app.example.com')).toBe('sid=x')
  })
})
