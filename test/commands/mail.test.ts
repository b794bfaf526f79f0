/** `iam mail list | code` through the built CLI against a real catcher (in this process) and a real SMTP client. */
import {mkdtemp, writeFile} from 'node:fs/promises'
import {createServer, type Server} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createTransport} from 'nodemailer'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createLogger} from '../../src/servers/http/index.js'
import {startMailCatcher, type MailCatcher} from '../../src/servers/mail/index.js'
import {getFreePort} from '../harness/index.js'
import {runIam} from '../helpers/cli.js'

let catcher: MailCatcher
let dir: string
beforeAll(async () => {
  catcher = await startMailCatcher({
    host: '127.0.0.1',
    smtpPort: 0,
    httpPort: 0,
    maxMessages: 50,
    maxMessageBytes: 64 * 1024,
    logger: createLogger({stream: {write: () => true}}),
  })
  // A project whose iam.yaml points at the catcher: `-C dir` finds the inbox without --url.
  dir = await mkdtemp(join(tmpdir(), 'iam-mail-cmd-'))
  await writeFile(join(dir, 'iam.yaml'), `version: 1\nproject: demo\nports:\n  mailUi: ${catcher.httpPort}\n`)
})
afterAll(() => catcher?.close())

async function send(to: string, subject: string, text: string): Promise<void> {
  const transport = createTransport({host: '127.0.0.1', port: catcher.smtpPort, secure: false, ignoreTLS: true})
  await transport.sendMail({from: 'no-reply@iam.local', to, subject, text})
  transport.close()
}

describe('iam mail', () => {
  it('code prints just the code of the newest mail to the address, waiting for one that is newer than --newer-than', async () => {
    await send('ada@example.com', 'Login to your account', 'Enter the following code:\n\n111111\n')
    const first = await runIam(['mail', 'code', '--to', 'ada@example.com', '-C', dir])
    expect(first.exitCode, first.output).toBe(0)
    expect(first.stdout).toBe('111111')

    const json = await runIam(['mail', 'code', '--to', 'ADA@example.com', '-C', dir, '--json'])
    const mail = json.json as {id: number; code: string; subject: string}
    expect(mail).toMatchObject({code: '111111', subject: 'Login to your account'})

    // A code newer than the one seen arrives while the command waits.
    const waiting = runIam(['mail', 'code', '--to', 'ada@example.com', '--newer-than', String(mail.id), '--wait', '20s', '-C', dir])
    await new Promise((resolve) => setTimeout(resolve, 1500))
    await send('ada@example.com', 'Login to your account', 'Enter the following code:\n\n222222\n')
    const second = await waiting
    expect(second.exitCode, second.output).toBe(0)
    expect(second.stdout).toBe('222222')
  })

  it('code: no mail in time is exit 1 (MAIL_NO_CODE) naming the address', async () => {
    const r = await runIam(['mail', 'code', '--to', 'nobody@example.com', '--wait', '300ms', '-C', dir, '--json'])
    expect(r.exitCode, r.output).toBe(1)
    expect(r.json).toMatchObject({error: {code: 'MAIL_NO_CODE', message: expect.stringContaining('nobody@example.com')}})
  })

  it('list shows id, recipients, code and subject newest first; --clear deletes what it listed', async () => {
    await send('bob@example.com', 'Please verify your email address', 'code:\n\n333333\n')
    const table = await runIam(['mail', 'list', '--url', catcher.url])
    expect(table.exitCode, table.output).toBe(0)
    expect(table.stdout).toMatch(/^ID\s+RECEIVED\s+TO\s+CODE\s+SUBJECT$/m)
    expect(table.stdout).toMatch(/^\d+\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+bob@example\.com\s+333333\s+Please verify your email address$/m)
    expect(table.stdout.indexOf('bob@example.com')).toBeLessThan(table.stdout.indexOf('ada@example.com'))

    const cleared = await runIam(['mail', 'list', '--to', 'bob@example.com', '--clear', '--json', '--url', catcher.url])
    expect(cleared.json).toMatchObject({total: 1, deleted: 1, messages: [{to: ['bob@example.com'], code: '333333'}]})
    const after = await runIam(['mail', 'list', '--json', '--url', catcher.url])
    expect((after.json as {messages: {to: string[]}[]}).messages.every((m) => !m.to.includes('bob@example.com'))).toBe(true)
  })

  it('no catcher is exit 3 (MAIL_UNREACHABLE); a server that is not the catcher (Mailpit under compose) is named as such', async () => {
    const nothing = await runIam(['mail', 'list', '--url', `http://127.0.0.1:${await getFreePort()}`])
    expect(nothing.exitCode, nothing.output).toBe(3)
    expect(nothing.stderr).toContain('error [MAIL_UNREACHABLE]')
    expect(nothing.stderr).toContain('iam up')

    const other: Server = createServer((_req, res) => res.writeHead(404, {'content-type': 'text/plain'}).end('404 page not found'))
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve))
    try {
      const port = (other.address() as {port: number}).port
      const r = await runIam(['mail', 'code', '--to', 'a@example.com', '--url', `http://127.0.0.1:${port}`, '--json'])
      expect(r.exitCode, r.output).toBe(3)
      expect(r.json).toMatchObject({error: {code: 'MAIL_NOT_IAM', suggestion: expect.stringContaining('Mailpit')}})
    } finally {
      other.close()
    }
  })

  it('a bad --wait is a usage error (exit 2)', async () => {
    const r = await runIam(['mail', 'code', '--to', 'a@example.com', '--wait', 'soon', '--url', catcher.url])
    expect(r.exitCode, r.output).toBe(2)
    expect(r.stderr).toContain('error [INVALID_DURATION]: --wait takes a duration like 500ms')
  })
})
