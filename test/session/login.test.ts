/**
 * `iam login` / `iam whoami` against a real native stack (built CLI, real Kratos, Oathkeeper, Keto, the catcher):
 * a password login prints a session token that the gateway takes as `Authorization: Bearer` exactly as the routes
 * say (the admin route 403 until `iam roles grant`, then 200); the one-time code is read from the mail catcher; a
 * curl cookie jar (0600) works through the gateway; a wrong password is LOGIN_REFUSED, exit 1; a revoked or made-up
 * token is SESSION_INVALID; no password or token appears where it should not.
 */
import {readFile, stat} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {cookieHeaderFromJar} from '../../src/session/cookie-jar.js'
import type {LoginResult, WhoamiResult} from '../../src/session/login.js'
import {runIam} from '../helpers/cli.js'
import {nativeFixtures} from '../runtime/helpers.js'

const fixtures = nativeFixtures()
afterAll(async () => {
  await fixtures.cleanup()
}, 60_000)

const EMAIL = 'ada@example.com'
const PASSWORD = 'correct horse battery staple 42'

describe('iam login / iam whoami (real stack)', () => {
  let dir: string
  let gateway: string
  let token: string

  beforeAll(async () => {
    const upstream = await fixtures.startUpstream()
    // Code login on too: the second test signs in with the code the catcher holds.
    const project = await fixtures.makeProject('login', upstream, (yaml) => yaml.replace(/code: false/, 'code: true'))
    dir = project.dir
    gateway = `http://127.0.0.1:${project.ports.oathkeeperProxy}`
    const up = await runIam(['up'], {cwd: dir, timeoutMs: 180_000})
    expect(up.exitCode, up.output).toBe(0)
    const created = await runIam(['identities', 'create', '--email', EMAIL, '--password-stdin'], {cwd: dir, input: `${PASSWORD}\n`})
    expect(created.exitCode, created.output).toBe(0)
  }, 240_000)

  it('a password login prints a session token; the gateway applies the routes to it (403, roles grant, 200)', async () => {
    const r = await runIam(['login', '--email', EMAIL, '--password-stdin'], {cwd: dir, input: `${PASSWORD}\n`})
    expect(r.exitCode, r.stderr).toBe(0)
    token = r.stdout.trim()
    expect(token).toMatch(/^ory_st_\w+$/)
    expect(r.stdout + r.stderr).not.toContain(PASSWORD)
    const bearer = {authorization: `Bearer ${token}`}
    expect((await fetch(`${gateway}/admin/x`, {headers: bearer})).status).toBe(403)
    expect((await fetch(`${gateway}/admin/x`)).status).toBe(401)
    const grant = await runIam(['roles', 'grant', EMAIL, 'admin'], {cwd: dir})
    expect(grant.exitCode, grant.output).toBe(0)
    const allowed = await fetch(`${gateway}/admin/x`, {headers: bearer})
    expect(allowed.status).toBe(200)
    expect(((await allowed.json()) as {url: string}).url).toBe('/admin/x')

    const who = await runIam(['whoami', '--json'], {cwd: dir, env: {IAM_SESSION_TOKEN: token}})
    expect(who.exitCode, who.output).toBe(0)
    const view = who.json as WhoamiResult
    expect(view.identity).toMatchObject({email: EMAIL, roles: ['admin']})
    expect(view.session).toMatchObject({active: true, methods: ['password']})
    expect(who.stdout).not.toContain(token)
  })

  it('--code reads the one-time code from the mail catcher', async () => {
    const r = await runIam(['login', '--email', EMAIL, '--code', '--json'], {cwd: dir, timeoutMs: 60_000})
    expect(r.exitCode, r.output).toBe(0)
    const result = r.json as LoginResult
    expect(result.session.methods).toEqual(['code'])
    expect(result.identity.email).toBe(EMAIL)
    expect((await fetch(`${gateway}/admin/x`, {headers: {authorization: `Bearer ${result.sessionToken}`}})).status).toBe(200)
  })

  it('--cookie-jar writes a 0600 curl jar that the gateway and whoami accept; nothing secret is printed', async () => {
    const jar = join(dir, 'ada.jar')
    const r = await runIam(['login', '--email', EMAIL, '--password-stdin', '--cookie-jar', jar], {cwd: dir, input: `${PASSWORD}\n`})
    expect(r.exitCode, r.output).toBe(0)
    expect(r.stdout).toContain(`session cookie written to ${jar}`)
    expect((await stat(jar)).mode & 0o777).toBe(0o600)
    const text = await readFile(jar, 'utf8')
    expect(text).toMatch(/^# Netscape HTTP Cookie File/)
    const cookie = cookieHeaderFromJar(text, '127.0.0.1')
    expect(cookie).toMatch(/ory_kratos_session=/)
    expect(r.stdout).not.toContain(cookie.split('ory_kratos_session=')[1]!.split(';')[0]!)
    expect((await fetch(`${gateway}/admin/x`, {headers: {cookie}})).status).toBe(200)
    const who = await runIam(['whoami', '--cookie-jar', jar], {cwd: dir})
    expect(who.exitCode, who.output).toBe(0)
    expect(who.stdout).toContain(EMAIL)
    expect(who.stdout).toContain('roles: [admin]')
  })

  it('a wrong password is LOGIN_REFUSED (exit 1); an unknown token is SESSION_INVALID (exit 1); no password anywhere', async () => {
    const wrong = await runIam(['login', '--email', EMAIL, '--password-stdin', '--json'], {cwd: dir, input: 'not the password\n'})
    expect(wrong.exitCode).toBe(1)
    expect(wrong.json).toMatchObject({error: {code: 'LOGIN_REFUSED'}})
    expect(wrong.output).not.toContain('not the password')
    const unknown = await runIam(['whoami', '--token-stdin', '--json'], {cwd: dir, input: 'ory_st_madeup\n'})
    expect(unknown.exitCode).toBe(1)
    expect(unknown.json).toMatchObject({error: {code: 'SESSION_INVALID'}})
    const none = await runIam(['login', '--email', EMAIL], {cwd: dir, input: ''})
    expect(none.exitCode).toBe(2)
    expect(none.stderr).toContain('PASSWORD_REQUIRED')
    for (const log of ['kratos.log', 'oathkeeper.log']) {
      const text = await readFile(join(dir, '.iam', 'logs', log), 'utf8')
      expect(text, log).not.toContain(PASSWORD)
      expect(text, log).not.toContain(token)
    }
  })
})
