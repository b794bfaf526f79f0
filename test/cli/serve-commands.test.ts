/**
 * One way to serve: every `iam serve` command shares --host/--port/-C, --dir/--log-level with its own env prefix,
 * has no --json, and turns a port it cannot bind into PORT_UNAVAILABLE (exit 3) with the fix — batch-auth used to
 * report INTERNAL ("a bug in iam", exit 1) there.
 */
import {createServer} from 'node:http'
import {describe, expect, it} from 'vitest'

import {getFreePort} from '../harness/ports.js'
import {runIam} from '../helpers/cli.js'

const SERVERS = [
  {name: 'batch-auth', prefix: 'IAM_BATCH_AUTH', extra: [] as string[]},
  {name: 'role-webhook', prefix: 'IAM_ROLE_WEBHOOK', extra: [] as string[]},
  {name: 'mail', prefix: 'IAM_MAIL', extra: ['--smtp-port', '0']},
]

describe('iam serve <server>: one way to serve', () => {
  it.each(SERVERS)('serve $name: a taken port is exit 3 PORT_UNAVAILABLE naming the address and the fix', async ({name, extra}) => {
    const blocker = createServer()
    const port = await getFreePort()
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve))
    try {
      // The role webhook refuses to start without its secret: give it one.
      const r = await runIam(['serve', name, '--port', String(port), ...extra], {env: {ROLE_WEBHOOK_SECRET: 'a-secret-that-is-long-enough-for-the-webhook-0123'}})
      expect(r.exitCode, r.output).toBe(3)
      expect(r.stderr).toContain('error [PORT_UNAVAILABLE]')
      expect(r.stderr).toContain(`127.0.0.1`)
      expect(r.stderr).toContain(String(port))
      expect(r.stderr).toMatch(/fix: .*--port/)
    } finally {
      blocker.close()
    }
  })

  it.each(SERVERS)('serve $name --help: the shared flags with the server\'s env prefix, no --json', async ({name, prefix}) => {
    const r = await runIam(['serve', name, '--help'])
    expect(r.exitCode, r.output).toBe(0)
    for (const flag of ['--host', '--port', '--dir', '--log-level']) expect(r.stdout, flag).toContain(flag)
    for (const env of ['HOST', 'PORT', 'DIR', 'LOG_LEVEL']) expect(r.stdout, env).toContain(`${prefix}_${env}`)
    expect(r.stdout).not.toContain('--json')
  })

  it('serve role-webhook --timeout takes the duration syntax of iam.yaml: a bare number is a usage error', async () => {
    const r = await runIam(['serve', 'role-webhook', '--timeout', '1500', '--port', String(await getFreePort())], {env: {ROLE_WEBHOOK_SECRET: 'a-secret-that-is-long-enough-for-the-webhook-0123'}})
    expect(r.exitCode, r.output).toBe(2)
    expect(r.stderr).toContain('error [INVALID_DURATION]: --timeout takes a duration like 500ms')
    expect(r.stderr).toContain('fix: Write the unit: --timeout 1500s (seconds) or --timeout 1500ms (milliseconds).')
  })
})
