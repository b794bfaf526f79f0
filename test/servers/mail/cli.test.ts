/** `iam serve mail` as a process: ports from iam.yaml, a mail through SMTP, SIGTERM exits 0; a taken port is exit 3. */
import {execa} from 'execa'
import {mkdtemp, writeFile} from 'node:fs/promises'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createTransport} from 'nodemailer'
import {describe, expect, it} from 'vitest'

import {getFreePort} from '../../harness/index.js'
import {IAM_BIN, runIam} from '../../helpers/cli.js'
import {waitFor} from '../batch-auth/helpers.js'

describe('iam serve mail', () => {
  it('takes both ports from iam.yaml with -C, stores a mail, and exits 0 on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iam-mail-'))
    const [smtpPort, httpPort] = [await getFreePort(), await getFreePort()]
    await writeFile(join(dir, 'iam.yaml'), `version: 1\nproject: demo\nports:\n  mailSmtp: ${smtpPort}\n  mailUi: ${httpPort}\n`)
    const proc = execa('node', [IAM_BIN, 'serve', 'mail', '-C', dir], {reject: false})
    try {
      const url = `http://127.0.0.1:${httpPort}`
      await waitFor(`${url} ready`, async () => (await fetch(`${url}/health/ready`)).status === 200)
      const transport = createTransport({host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true})
      await transport.sendMail({from: 'no-reply@iam.local', to: 'ada@example.com', subject: 'Login', text: 'code:\n\n314159\n'})
      transport.close()
      const latest = (await (await fetch(`${url}/api/messages/latest?to=ada@example.com`)).json()) as {code?: string}
      expect(latest.code).toBe('314159')
    } finally {
      proc.kill('SIGTERM')
    }
    const result = await proc
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stderr).toContain('"msg":"message stored"')
    expect(result.stderr).not.toContain('314159')
  })

  it('a taken SMTP port is exit 3 (PORT_UNAVAILABLE) with the fix', async () => {
    const blocker = createServer()
    const port = await getFreePort()
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve))
    try {
      const r = await runIam(['serve', 'mail', '--smtp-port', String(port), '--port', String(await getFreePort())])
      expect(r.exitCode, r.output).toBe(3)
      expect(r.stderr).toContain('error [PORT_UNAVAILABLE]')
      expect(r.stderr).toContain('--smtp-port')
    } finally {
      blocker.close()
    }
  })

  it('--max-size must be a size: exit 2', async () => {
    const r = await runIam(['serve', 'mail', '--max-size', 'huge', '--port', '0', '--smtp-port', '0'])
    expect(r.exitCode, r.output).toBe(2)
    expect(r.stderr).toContain('--max-size must be a size')
  })
})
