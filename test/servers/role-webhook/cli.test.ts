import {randomBytes} from 'node:crypto'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {KetoClient} from '../../../src/ory/keto-client.js'
import {KratosAdminClient} from '../../../src/ory/kratos-client.js'
import {getFreePort, startKeto, startKratos} from '../../harness/index.js'
import {IAM_BIN, runIam} from '../../helpers/cli.js'

/** `iam serve role-webhook` as the runtime starts it: a child process, secret from the environment, SIGTERM to stop. */
let keto: Awaited<ReturnType<typeof startKeto>>
let kratos: Awaited<ReturnType<typeof startKratos>>
let dir: string

beforeAll(async () => {
  ;[keto, kratos] = await Promise.all([startKeto(), startKratos()])
  dir = await mkdtemp(join(tmpdir(), 'iam-webhook-cli-'))
})

afterAll(async () => {
  if (dir) await rm(dir, {recursive: true, force: true})
})

async function waitReady(url: string, child: {exitCode: number | null}): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`webhook exited with ${child.exitCode}`)
    try {
      if ((await fetch(url)).ok) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error('webhook did not become ready')
}

describe('iam serve role-webhook', {timeout: 180_000}, () => {
  it('refuses to start without a secret, or with a weak one (exit 2)', async () => {
    const env = {ROLE_WEBHOOK_SECRET: ''}
    // A server has no --json: its errors are the one `error [CODE]` line and the fix, on stderr.
    const none = await runIam(['serve', 'role-webhook', '--port', '0'], {cwd: dir, env})
    expect(none.exitCode, none.output).toBe(2)
    expect(none.stderr).toContain('error [WEBHOOK_SECRET_MISSING]')
    const weak = await runIam(['serve', 'role-webhook', '--port', '0'], {cwd: dir, env: {ROLE_WEBHOOK_SECRET: 'short'}})
    expect(weak.exitCode, weak.output).toBe(2)
    expect(weak.stderr).toContain('error [WEBHOOK_SECRET_WEAK]')
  })

  it('serves the hook with the secret from a file, logs JSON without the secret, and exits 0 on SIGTERM', async () => {
    const secret = randomBytes(24).toString('base64url')
    const secretFile = join(dir, 'webhook.secret')
    await writeFile(secretFile, secret + '\n', {mode: 0o600})
    const port = await getFreePort()
    const child = execa(
      'node',
      [IAM_BIN, 'serve', 'role-webhook', '--port', String(port), '--kratos-admin-url', kratos.urls.admin, '--keto-read-url', keto.urls.read, '--secret-file', secretFile],
      {cwd: dir, reject: false, env: {ROLE_WEBHOOK_SECRET: ''}},
    )
    try {
      const base = `http://127.0.0.1:${port}`
      await waitReady(`${base}/health/ready`, child)

      const kratosClient = new KratosAdminClient({adminUrl: kratos.urls.admin})
      const ketoClient = new KetoClient({readUrl: keto.urls.read, writeUrl: keto.urls.write})
      const created = await kratosClient.createIdentity({schemaId: 'default', traits: {email: `cli-${randomBytes(3).toString('hex')}@example.com`}, metadataPublic: {x: 1}})
      if (created.conflict) throw new Error('conflict')
      await ketoClient.create({namespace: 'Role', object: 'admin', relation: 'member', subjectId: created.identity.id})
      const res = await fetch(`${base}/hooks/kratos`, {
        method: 'POST',
        headers: {'content-type': 'application/json', authorization: `Bearer ${secret}`},
        body: JSON.stringify({identity_id: created.identity.id}),
      })
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({roles: ['admin'], changed: true})
      expect((await kratosClient.getIdentity(created.identity.id))!.metadata_public).toEqual({x: 1, roles: ['admin']})
      await Promise.all([kratosClient.close(), ketoClient.close()])
    } finally {
      child.kill('SIGTERM')
    }
    const result = await child
    expect(result.exitCode).toBe(0)
    const lines = String(result.stderr).trim().split('\n')
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow()
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(expect.arrayContaining(['roles synced', 'shutting down', 'stopped']))
    expect(String(result.stderr)).not.toContain(secret)
  })
})
