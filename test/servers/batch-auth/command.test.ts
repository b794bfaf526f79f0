import {mkdtemp, writeFile} from 'node:fs/promises'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'

import {getFreePort, startKeto} from '../../harness/index.js'
import {runIam} from '../../helpers/cli.js'
import {postJson, putTuples, rel, spawnBatchAuthCli, waitFor} from './helpers.js'

// The `serve batch-auth` command as a process: configuration sources, usage errors, graceful shutdown.
let keto: Awaited<ReturnType<typeof startKeto>>

beforeAll(async () => {
  keto = await startKeto({config: {limit: {max_batch_check_size: 3}}})
  await putTuples(keto.urls.write, [rel('Tenant', 't6', 'member', 'bob')])
})

const ready = (url: string) => waitFor(`${url} ready`, async () => (await fetch(`${url}/health/ready`)).status === 200)

describe('iam serve batch-auth', () => {
  it('takes its port, Keto URL and batch size from iam.yaml with -C', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iam-batch-auth-'))
    const port = await getFreePort()
    const ketoPort = new URL(keto.urls.read).port
    await writeFile(join(dir, 'iam.yaml'), `version: 1\nproject: demo\nports:\n  batchAuth: ${port}\n  ketoRead: ${ketoPort}\nketo:\n  maxBatchCheckSize: 3\n`)
    const proc = spawnBatchAuthCli(['-C', dir])
    try {
      const url = `http://127.0.0.1:${port}`
      await ready(url)
      // 7 tuples only work in batches of 3: Keto is configured to refuse more.
      const tuples = Array.from({length: 7}, (_, i) => rel('Tenant', `t${i}`, 'member', 'bob'))
      const r = await postJson(url, {tuples})
      expect(r.status).toBe(200)
      expect(r.body.results?.[6]).toEqual({allowed: true})
    } finally {
      proc.kill('SIGTERM')
      expect((await proc).exitCode).toBe(0)
    }
  })

  it('flags win over environment variables; logs are JSON lines without secrets', async () => {
    const [envPort, flagPort] = [await getFreePort(), await getFreePort()]
    const proc = spawnBatchAuthCli(['--port', String(flagPort), '--max-batch', '3'], {IAM_BATCH_AUTH_PORT: String(envPort), IAM_KETO_READ_URL: keto.urls.read})
    try {
      const url = `http://127.0.0.1:${flagPort}`
      await ready(url)
      const r = await fetch(url, {method: 'POST', headers: {'content-type': 'application/json', authorization: 'Bearer very-secret-token'}, body: JSON.stringify({tuples: [rel('Tenant', 't6', 'member', 'bob')]})})
      expect(r.status).toBe(200)
    } finally {
      proc.kill('SIGTERM')
    }
    const result = await proc
    expect(result.exitCode).toBe(0)
    const lines = String(result.stderr).trim().split('\n')
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow()
    expect(result.stderr).toContain(`"url":"http://127.0.0.1:${flagPort}"`)
    expect(result.stderr).not.toContain('very-secret-token')
    // No info line per allowed request.
    expect(lines.filter((l) => l.includes('"level":"info"')).length).toBeLessThanOrEqual(4)
  })

  it.each([
    [['--timeout', 'soon'], '--timeout'],
    [['--max-body', 'huge'], '--max-body'],
    [['--max-tuples', '0'], '--max-tuples'],
    [['--keto-read-url', 'ftp://x'], '--keto-read-url'],
  ])('%j is a usage error (exit 2)', async (args, flag) => {
    const result = await spawnBatchAuthCli(args)
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain(flag)
  })

  it('on SIGTERM finishes the in-flight check (answered, not cut), then exits 0', async () => {
    // A Keto address that accepts connections and never answers keeps a check in flight until --timeout.
    const blackhole = createServer(() => {})
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r))
    const port = await getFreePort()
    const proc = spawnBatchAuthCli(['--port', String(port), '--keto-read-url', `http://127.0.0.1:${(blackhole.address() as {port: number}).port}`, '--timeout', '1500ms'])
    try {
      const url = `http://127.0.0.1:${port}`
      await waitFor('alive', async () => (await fetch(`${url}/health/alive`)).ok)
      const inflight = postJson(url, {tuples: [rel('Tenant', 't1', 'member', 'bob')]})
      await new Promise((r) => setTimeout(r, 300))
      proc.kill('SIGTERM')
      const answer = await inflight
      expect(answer.status).toBe(504)
      expect(answer.body.error?.code).toBe('KETO_TIMEOUT')
      const result = await proc
      expect(result.exitCode).toBe(0)
      expect(result.stderr).toContain('"msg":"shutting down"')
      await expect(fetch(`${url}/health/alive`)).rejects.toThrow()
    } finally {
      proc.kill('SIGKILL')
      blackhole.close()
    }
  })
})


describe('iam serve batch-auth --help', () => {
  it('documents every flag with its environment variable, and has examples', async () => {
    const r = await runIam(['serve', 'batch-auth', '--help'])
    expect(r.exitCode).toBe(0)
    for (const flag of ['--port', '--host', '--keto-read-url', '--timeout', '--max-body', '--max-tuples', '--max-batch', '--cache-ttl', '--cache-size', '--dir']) {
      expect(r.stdout).toContain(flag)
    }
    expect(r.stdout).toContain('IAM_BATCH_AUTH_PORT')
    expect(r.stdout).toContain('EXAMPLES')
    expect(r.stdout).toContain('revoked permission stays allowed')
  })
})
