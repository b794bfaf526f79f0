/**
 * A dead or frozen Keto through the REAL gateway: Oathkeeper's remote_json authorizer retries a 5xx from batch-auth
 * four times, and maps every answer but 200/403/429 to its own JSON 500 (v26.2.0 has no way to pass a 503 through).
 * What iam controls: no back-off between those retries (it cost 4 s per request with Keto refused) and batch-auth
 * failing fast after a Keto timeout (a frozen Keto cost five deadlines, 10 s). Fail closed throughout, and the gateway
 * recovers once Keto is back.
 */
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {readPidRecords} from '../../src/runtime/pidfile.js'
import {runIam} from '../helpers/cli.js'
import {registerIdentity} from '../harness/stack.js'
import {nativeFixtures} from '../runtime/helpers.js'

const fixtures = nativeFixtures()
afterAll(() => fixtures.cleanup(), 60_000)

/** batch-auth's default deadline for a whole check (`iam serve batch-auth --timeout`). */
const BATCH_AUTH_DEADLINE_MS = 2000

describe('Keto down behind the gateway (real servers)', () => {
  let dir: string
  let proxy: string
  let token: string
  let ketoPid: number

  beforeAll(async () => {
    const upstream = await fixtures.startUpstream()
    const project = await fixtures.makeProject('ketodown', upstream)
    dir = project.dir
    proxy = `http://127.0.0.1:${project.ports.oathkeeperProxy}`
    const up = await runIam(['up'], {cwd: dir})
    expect(up.exitCode, up.output).toBe(0)
    token = (await registerIdentity(`http://127.0.0.1:${project.ports.kratosPublic}`, 'kd@example.com', 'a-long-Passw0rd-for-tests!')).token
    ketoPid = (await readPidRecords(join(dir, '.iam', 'run'))).find((r) => r.service === 'keto')!.pid
  }, 240_000)

  afterAll(() => {
    try {
      process.kill(-ketoPid, 'SIGCONT')
    } catch {
      // already gone
    }
  })

  /** A tenant route request (an anyOf route: batch-auth asks Keto), timed. */
  async function tenantRequest(): Promise<{status: number; ms: number; body: string}> {
    const started = Date.now()
    const res = await fetch(`${proxy}/tenants/acme/x`, {headers: {authorization: `Bearer ${token}`, accept: 'application/json'}})
    return {status: res.status, ms: Date.now() - started, body: await res.text()}
  }

  it('Keto answering: a non-member is denied (403)', async () => {
    expect((await tenantRequest()).status).toBe(403)
  })

  it('Keto frozen: the gateway answers a JSON error after one batch-auth deadline, not five; never 200', async () => {
    process.kill(-ketoPid, 'SIGSTOP')
    const r = await tenantRequest()
    expect(r.status).toBe(500)
    expect(JSON.parse(r.body)).toMatchObject({error: {code: 500}})
    // One deadline plus the immediate, failed-fast retries (was 5 × 2 s = 10 s).
    expect(r.ms).toBeLessThan(2 * BATCH_AUTH_DEADLINE_MS)
    process.kill(-ketoPid, 'SIGCONT')
    // Once Keto answers again (after batch-auth's fail-fast window), so does the gateway.
    let after = await tenantRequest()
    for (let i = 0; i < 20 && after.status !== 403; i++) {
      await sleep(250)
      after = await tenantRequest()
    }
    expect(after.status).toBe(403)
  }, 60_000)

  it('Keto killed: the gateway answers a JSON error within batch-auth deadline (was 4 s of retry back-off); never 200', async () => {
    process.kill(-ketoPid, 'SIGKILL')
    await sleep(200)
    const r = await tenantRequest()
    expect(r.status).toBe(500)
    expect(JSON.parse(r.body)).toMatchObject({error: {code: 500}})
    expect(r.ms).toBeLessThan(BATCH_AUTH_DEADLINE_MS)
  }, 60_000)
})
