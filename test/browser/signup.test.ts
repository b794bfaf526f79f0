/**
 * The quick start in a real browser (Debian's Chromium driven by playwright-core), on a real native stack: the app,
 * Kratos (/.ory/) and the built-in sign-in pages (/ui/) on the gateway's one origin. Sign up (the two steps Kratos
 * v26 asks: profile, then password), read the verification code from the mail catcher and verify, see the example
 * app greet you by email; sign out; sign in; change the password in settings; sign in with the new one. Every page
 * carries the strict CSP and works without JavaScript (it is turned off). A missing Chromium fails, never skips.
 */
import {access} from 'node:fs/promises'

import {chromium, type Browser, type Page} from 'playwright-core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {PAGE_CSP} from '../../src/servers/ui/render.js'
import {runIam} from '../helpers/cli.js'
import {nativeFixtures} from '../runtime/helpers.js'

const CHROMIUM = '/usr/bin/chromium'
const fixtures = nativeFixtures()
let browser: Browser | undefined
afterAll(async () => {
  await browser?.close()
  await fixtures.cleanup()
}, 60_000)

const EMAIL = 'grace@example.com'
const PASSWORD = 'a long and unusual passphrase 1'
const NEW_PASSWORD = 'another long and unusual passphrase 2'

describe('sign-up, sign-in and the app on one origin (real Chromium, real stack)', () => {
  let gateway: string
  let mailApi: string
  let page: Page

  beforeAll(async () => {
    await access(CHROMIUM).catch(() => {
      throw new Error(`${CHROMIUM} is missing: the browser tests need Debian's chromium (apt-get install chromium; .ci/run installs it)`)
    })
    // The starter routes forward to the example app: point them at its (free) port.
    const project = await fixtures.makeProject('browser', 1, (yaml) => {
      const appPort = /^ {2}exampleApp: (\d+)/m.exec(yaml)?.[1]
      return yaml.replaceAll('http://127.0.0.1:1\n', `http://127.0.0.1:${appPort}\n`).replace(/^exampleApp: false$/m, 'exampleApp: true')
    })
    gateway = `http://127.0.0.1:${project.ports.oathkeeperProxy}`
    mailApi = `http://127.0.0.1:${project.ports.mailUi}`
    const up = await runIam(['up'], {cwd: project.dir, timeoutMs: 180_000})
    expect(up.exitCode, up.output).toBe(0)
    expect(up.stdout).toContain(`${gateway}/ui/login`)
    browser = await chromium.launch({executablePath: CHROMIUM, args: ['--no-sandbox']})
    const context = await browser.newContext({javaScriptEnabled: false})
    page = await context.newPage()
  }, 240_000)

  async function latestCode(): Promise<string> {
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${mailApi}/api/messages/latest?to=${encodeURIComponent(EMAIL)}`)
      if (res.status === 200) {
        const code = ((await res.json()) as {code?: string}).code
        if (code) return code
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error('no code arrived in the mail catcher')
  }

  const submit = (value: string) => page.locator(`button[type=submit][value="${value}"]`).first()

  it('the sign-in page is served on the gateway origin with the strict CSP, from a real Kratos flow', async () => {
    const response = await page.goto(`${gateway}/ui/login`)
    expect(response?.status()).toBe(200)
    expect(response?.headers()['content-security-policy']).toBe(PAGE_CSP)
    expect(page.url()).toMatch(new RegExp(`^${gateway}/ui/login\\?flow=[0-9a-f-]{36}$`))
    expect(await page.locator('form').getAttribute('action')).toMatch(new RegExp(`^${gateway}/\\.ory/self-service/login\\?flow=`))
    expect(await page.locator('input[name=csrf_token]').getAttribute('type')).toBe('hidden')
  })

  it('sign up (profile, then password): the session cookie is on the gateway origin and the app greets you', async () => {
    await page.goto(`${gateway}/ui/registration`)
    await page.fill('input[name="traits.email"]', EMAIL)
    if ((await page.locator('input[name="traits.name"]').count()) > 0) await page.fill('input[name="traits.name"]', 'Grace')
    // Kratos v26 asks for the profile first, then the password; a one-step form takes both at once.
    if ((await page.locator('input[name=password]').count()) === 0) {
      await submit('profile').click()
      await page.waitForURL(/\/ui\/registration\?flow=/)
    }
    await page.fill('input[name=password]', PASSWORD)
    await submit('password').click()
    await page.waitForURL((url) => !url.pathname.startsWith('/ui/registration'))
    const cookies = await page.context().cookies(gateway)
    const session = cookies.find((c) => c.name === 'ory_kratos_session')
    expect(session, JSON.stringify(cookies.map((c) => c.name))).toBeDefined()
    expect(session).toMatchObject({domain: '127.0.0.1', secure: false, httpOnly: true, sameSite: 'Lax'})
    await page.goto(`${gateway}/app/`)
    expect(await page.locator('h1').textContent()).toBe(`Hello, ${EMAIL}!`)
  })

  it('verify the email with the code from the mail catcher', async () => {
    await page.goto(`${gateway}/ui/verification`)
    expect(await page.locator('a[href^="http://127.0.0.1"]', {hasText: 'mail catcher'}).count()).toBe(1)
    if ((await page.locator('input[name=code]').count()) === 0) {
      // This flow mails a code of its own: once the registration's mail is in, clear the inbox, so that only a mail
      // sent after this point (holding this flow's code) is read.
      await latestCode()
      expect((await fetch(`${mailApi}/api/messages?to=${encodeURIComponent(EMAIL)}`, {method: 'DELETE'})).status).toBeLessThan(300)
      await page.fill('input[name=email]', EMAIL)
      await submit('code').click()
      await page.waitForURL(/\/ui\/verification\?flow=/)
    }
    await page.fill('input[name=code]', await latestCode())
    await submit('code').click()
    await page.waitForLoadState()
    expect(await page.locator('.msg').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/verified|success/i)]))
  })

  it('sign out, then sign in with the password; the app greets you again', async () => {
    await page.goto(`${gateway}/ui/logout`)
    await page.waitForURL(/\/ui\/login/)
    expect((await page.context().cookies(gateway)).find((c) => c.name === 'ory_kratos_session')).toBeUndefined()
    expect((await page.goto(`${gateway}/app/`))?.status()).toBe(401)
    await page.goto(`${gateway}/ui/login`)
    await page.fill('input[name=identifier]', EMAIL)
    await page.fill('input[name=password]', PASSWORD)
    await submit('password').click()
    await page.waitForURL(`${gateway}/app/`)
    expect(await page.locator('h1').textContent()).toBe(`Hello, ${EMAIL}!`)
  })

  it('change the password in settings; only the new one signs in', async () => {
    await page.goto(`${gateway}/ui/settings`)
    await page.waitForURL(/\/ui\/settings\?flow=/)
    await page.locator('input[name=password]').fill(NEW_PASSWORD)
    await submit('password').click()
    await page.waitForURL(/\/ui\/settings\?flow=/)
    expect(await page.locator('.msg').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/saved|success/i)]))
    await page.goto(`${gateway}/ui/logout`)
    await page.waitForURL(/\/ui\/login/)
    await page.fill('input[name=identifier]', EMAIL)
    await page.fill('input[name=password]', PASSWORD)
    await submit('password').click()
    await page.waitForURL(/\/ui\/login\?flow=/)
    expect(await page.locator('.msg.error').count()).toBeGreaterThan(0)
    await page.fill('input[name=identifier]', EMAIL)
    await page.fill('input[name=password]', NEW_PASSWORD)
    await submit('password').click()
    await page.waitForURL(`${gateway}/app/`)
    expect(await page.locator('h1').textContent()).toBe(`Hello, ${EMAIL}!`)
  })
})
