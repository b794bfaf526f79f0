/**
 * One launch for iam's own servers in both runtimes, proved on a real native stack: what `iam up` actually started
 * (the pid records' command lines) equals the compose file's commands flag for flag — only where a server listens
 * and how it reaches Keto and Kratos differ. And the two bugs that came from building them twice, through the real
 * servers: natively batch-auth did not get Keto's batch size (every check of more tuples than keto.maxBatchCheckSize
 * was a 502), and the compose role webhook did not get roles.namespace / roles.relation (custom ones were ignored).
 */
import {execa, type ResultPromise} from 'execa'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {parseDotEnv} from '../../src/project/secrets.js'
import {readNativeRecords} from '../../src/runtime/native.js'
import {getFreePort} from '../harness/ports.js'
import {IAM_BIN, runIam} from '../helpers/cli.js'
import {nativeFixtures} from '../runtime/helpers.js'

const fixtures = nativeFixtures()
const NATIVE = {IAM_RUNTIME: 'native'}
/** Flags whose values are where the runtime puts things, not what iam.yaml says. */
const RUNTIME_FLAGS = new Set(['--host', '--keto-read-url', '--kratos-admin-url'])

/** `[flag, value]` pairs of an `iam serve …` argument list (a flag without a value pairs with `true`). */
function flagPairs(args: string[]): [string, string | true][] {
  const pairs: [string, string | true][] = []
  for (let i = 2; i < args.length; i++) {
    const flag = args[i]!
    const next = args[i + 1]
    if (next !== undefined && !next.startsWith('--')) {
      pairs.push([flag, next])
      i++
    } else pairs.push([flag, true])
  }
  return pairs
}

let dir: string
let ports: Awaited<ReturnType<typeof fixtures.makeProject>>['ports']
let compose: {services: Record<string, {command: string[]}>}
const children: ResultPromise[] = []

beforeAll(async () => {
  ;({dir, ports} = await fixtures.makeProject('launch', await fixtures.startUpstream(), (yaml) =>
    yaml
      .replace('maxBatchCheckSize: 10', 'maxBatchCheckSize: 5')
      .replace('    - {name: Role, relations: [member]}', '    - {name: Role, relations: [member]}\n    - {name: AppRole, relations: [holder]}')
      .replace(/(roles:\n  enabled: true\n  namespace: )Role\n  relation: member/, '$1AppRole\n  relation: holder'),
  ))
  const up = await runIam(['up', '--json'], {cwd: dir, env: NATIVE, timeoutMs: 180_000})
  expect(up.exitCode, up.output).toBe(0)
  compose = parse(await readFile(join(dir, 'ory/compose.yaml'), 'utf8')) as typeof compose
}, 240_000)

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL')
  await fixtures.cleanup()
}, 60_000)

describe('one launch for the embedded servers (real native stack)', () => {
  it('the native runtime starts batch-auth and the role webhook with exactly the compose file\'s flags, only listen address and Ory URLs differ', async () => {
    const records = await readNativeRecords(dir)
    for (const service of ['batch-auth', 'role-webhook']) {
      const native = records.find((r) => r.service === service)!.command.slice(2) // node, bin/run.js
      const composed = compose.services[service]!.command.slice(4) // npx --yes --package=… iam
      expect(native.slice(0, 2), service).toEqual(['serve', service])
      expect(composed.slice(0, 2), service).toEqual(['serve', service])
      const n = flagPairs(native)
      const c = flagPairs(composed)
      expect(n.map(([flag]) => flag), service).toEqual(c.map(([flag]) => flag))
      for (const [index, [flag, value]] of n.entries()) {
        if (RUNTIME_FLAGS.has(flag)) continue
        expect([flag, value], service).toEqual(c[index])
      }
      expect(Object.fromEntries(n)).toMatchObject({'--host': '127.0.0.1', '--keto-read-url': `http://127.0.0.1:${ports.ketoRead}`})
      expect(Object.fromEntries(c)).toMatchObject({'--host': '0.0.0.0', '--keto-read-url': `http://keto:${ports.ketoRead}`})
    }
    expect(Object.fromEntries(flagPairs(records.find((r) => r.service === 'role-webhook')!.command.slice(2)))).toMatchObject({
      '--roles-namespace': 'AppRole',
      '--roles-relation': 'holder',
      '--kratos-admin-url': `http://127.0.0.1:${ports.kratosAdmin}`,
    })
  })

  it('natively, a check of more tuples than keto.maxBatchCheckSize is answered (batches of Keto\'s size), not a 502', async () => {
    const tuples = Array.from({length: 7}, (_, i) => ({namespace: 'Tenant', object: `t${i}`, relation: 'member', subject_id: 'nobody'}))
    // The scenario is real: this Keto refuses 7 tuples in one batch.
    const direct = await fetch(`http://127.0.0.1:${ports.ketoRead}/relation-tuples/batch/check`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({tuples})})
    expect(direct.status).toBe(400)
    const res = await fetch(`http://127.0.0.1:${ports.batchAuth}/check`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({tuples})})
    expect(res.status, await res.clone().text()).toBe(403)
    expect(((await res.json()) as {results: unknown[]}).results).toHaveLength(7)
  })

  it('the compose role webhook command, run for real, syncs roles from the custom roles namespace and relation', async () => {
    const created = await runIam(['identities', 'create', '--email', 'launch@example.com', '--password-env', 'PW', '--role', 'admin', '--json'], {cwd: dir, env: {PW: 'launch-test-password-9'}})
    expect(created.exitCode, created.output).toBe(0)
    const id = (created.json as {id: string}).id
    const kratosAdmin = `http://127.0.0.1:${ports.kratosAdmin}`
    // Forget what the CLI mirrored, so only the webhook under test can put the role back.
    const wipe = await fetch(`${kratosAdmin}/admin/identities/${id}`, {method: 'PATCH', headers: {'content-type': 'application/json'}, body: JSON.stringify([{op: 'replace', path: '/metadata_public', value: {}}])})
    expect(wipe.status).toBe(200)

    // The compose command as the container runs it, with the service names pointed at this machine and a free port.
    const port = await getFreePort()
    const args = compose.services['role-webhook']!.command.slice(4).map((arg) => arg.replace('http://keto:', 'http://127.0.0.1:').replace('http://kratos:', 'http://127.0.0.1:'))
    args[args.indexOf('--port') + 1] = String(port)
    args[args.indexOf('--host') + 1] = '127.0.0.1'
    const secret = parseDotEnv(await readFile(join(dir, '.env'), 'utf8')).get('ROLE_WEBHOOK_SECRET')!
    // Outside the project: no iam.yaml to fall back on, as in the container.
    const cwd = await mkdtemp(join(tmpdir(), 'iam-compose-webhook-'))
    try {
      const child = execa('node', [IAM_BIN, ...args], {cwd, env: {ROLE_WEBHOOK_SECRET: secret}, reject: false})
      children.push(child)
      let ready = false
      for (let i = 0; i < 100 && !ready; i++) {
        ready = await fetch(`http://127.0.0.1:${port}/health/alive`).then((r) => r.ok, () => false)
        if (!ready) await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(ready).toBe(true)
      const hook = await fetch(`http://127.0.0.1:${port}/hooks/kratos`, {method: 'POST', headers: {'content-type': 'application/json', authorization: `Bearer ${secret}`}, body: JSON.stringify({identity_id: id})})
      expect(hook.status, await hook.clone().text()).toBe(200)
      const identity = (await (await fetch(`${kratosAdmin}/admin/identities/${id}`)).json()) as {metadata_public: {roles?: string[]}}
      expect(identity.metadata_public.roles).toEqual(['admin'])
    } finally {
      await rm(cwd, {recursive: true, force: true})
    }
  })
})
