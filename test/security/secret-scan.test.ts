/**
 * No secret leaves its file. A native stack on the REAL servers goes through what leaks secrets in practice —
 * registrations, logins (each calls the role webhook with its shared secret), a recovery (a mail with a code), a
 * request through the gateway and a key rotation — and then every value of `.env` and every private member of the
 * JWKS is looked for in every log file, in `iam logs` (text and --json), in the output of every command run, and in
 * the command lines of every process the stack runs.
 */
import {readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {readPidRecords} from '../../src/runtime/pidfile.js'
import {runIam} from '../helpers/cli.js'
import {loginIdentity, registerIdentity} from '../harness/stack.js'
import {nativeFixtures} from '../runtime/helpers.js'

const fixtures = nativeFixtures()
afterAll(() => fixtures.cleanup(), 60_000)

const PASSWORD = 'scan-long-Passw0rd-for-logs!'
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const

/** Every secret value of the project: .env values and the private parts of every signing key. */
async function secretValues(dir: string): Promise<Map<string, string>> {
  const secrets = new Map<string, string>()
  for (const line of (await readFile(join(dir, '.env'), 'utf8')).split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line)
    if (m && m[2]!.length >= 8) secrets.set(m[2]!.replace(/^"|"$/g, ''), `.env ${m[1]}`)
  }
  const jwks = JSON.parse(await readFile(join(dir, 'ory/oathkeeper/jwks.json'), 'utf8')) as {keys: Record<string, unknown>[]}
  for (const key of jwks.keys) {
    for (const member of PRIVATE_JWK_MEMBERS) {
      const value = key[member]
      if (typeof value === 'string') secrets.set(value, `jwks.json ${String(key.kid)}.${member}`)
    }
  }
  return secrets
}

describe('secrets never leave their files (real servers)', () => {
  let dir: string
  let kratosPublic: string
  let proxy: string
  const outputs: {label: string; text: string}[] = []

  const iam = async (args: string[]): Promise<Awaited<ReturnType<typeof runIam>>> => {
    const r = await runIam(args, {cwd: dir})
    outputs.push({label: `iam ${args.join(' ')}`, text: r.stdout + r.stderr})
    return r
  }

  beforeAll(async () => {
    const upstream = await fixtures.startUpstream()
    const project = await fixtures.makeProject('scan', upstream)
    dir = project.dir
    kratosPublic = `http://127.0.0.1:${project.ports.kratosPublic}`
    proxy = `http://127.0.0.1:${project.ports.oathkeeperProxy}`
    const up = await iam(['up'])
    expect(up.exitCode, up.output).toBe(0)
  }, 240_000)

  it('after registrations, logins, a recovery, gateway requests and a key rotation, no secret is in a log, an output or a command line', async () => {
    const tokens: string[] = []
    for (const name of ['ada', 'bob']) {
      const email = `${name}@example.com`
      tokens.push((await registerIdentity(kratosPublic, email, PASSWORD)).token)
      for (let i = 0; i < 2; i++) {
        const login = await loginIdentity(kratosPublic, email, PASSWORD)
        expect(login.status, JSON.stringify(login.body)).toBe(200)
        tokens.push(login.token!)
      }
    }
    const flow = (await (await fetch(`${kratosPublic}/self-service/recovery/api`)).json()) as {id: string}
    const recovery = await fetch(`${kratosPublic}/self-service/recovery?flow=${flow.id}`, {
      method: 'POST',
      headers: {'content-type': 'application/json', accept: 'application/json'},
      body: JSON.stringify({method: 'code', email: 'ada@example.com'}),
    })
    expect(recovery.status).toBe(200)
    for (const token of tokens.slice(0, 2)) {
      const res = await fetch(`${proxy}/admin/x`, {headers: {authorization: `Bearer ${token}`}})
      expect([200, 403]).toContain(res.status)
    }
    expect((await iam(['keys', 'rotate'])).exitCode).toBe(0)
    expect((await iam(['status'])).exitCode).toBe(0)
    await iam(['logs'])
    await iam(['logs', '--json'])

    const secrets = await secretValues(dir)
    expect(secrets.size).toBeGreaterThanOrEqual(8)
    const haystacks = [...outputs]
    const logDir = join(dir, '.iam', 'logs')
    for (const file of await readdir(logDir)) haystacks.push({label: `.iam/logs/${file}`, text: await readFile(join(logDir, file), 'utf8')})
    for (const record of await readPidRecords(join(dir, '.iam', 'run'))) {
      try {
        haystacks.push({label: `/proc/${record.pid}/cmdline (${record.service})`, text: (await readFile(`/proc/${record.pid}/cmdline`, 'utf8')).replaceAll('\0', ' ')})
      } catch {
        // exited: nothing to read
      }
    }
    // The scan is only worth something if Kratos logged the hook calls it made with the secret (its headers included).
    const kratosLog = haystacks.find((h) => h.label === '.iam/logs/kratos.log')?.text ?? ''
    const dispatched = kratosLog.split('\n').filter((l) => l.includes('Dispatching webhook'))
    expect(dispatched.length).toBeGreaterThanOrEqual(4)
    // Kratos logs every web hook request's headers; the secret travels in the one header it redacts.
    for (const line of dispatched) expect(line).toContain('headers:map[authorization:Value is sensitive and has been redacted.')
    const leaks = haystacks.flatMap((h) => [...secrets].filter(([value]) => h.text.includes(value)).map(([, what]) => `${what} in ${h.label}`))
    expect(leaks).toEqual([])
  }, 180_000)
})
