/**
 * A machine client's route next to a user's, side by side in one run, through the real gateway of one native stack
 * (`iam up`, Hydra on): `auth: client` (Oathkeeper's oauth2_introspection against Hydra, answers cached for
 * hydra.introspectionCache) vs `auth: session` (Oathkeeper asks Kratos' whoami on every request). Both mint the same
 * id_token; the upstream is an in-process server answering 200. Closed loop at --connections per side, interleaved
 * rounds (the side order rotates). Prints:
 *
 *   throughput ratio client ÷ session: <R>     median of per-round ratios
 *   p50: client <ms> ms, session <ms> ms       1 connection, requests alternating
 *   cpu per request: client — oathkeeper <µs>, hydra <µs>; session — oathkeeper <µs>, kratos <µs>
 *
 *   npx tsx bench/machine.ts [--duration 5] [--rounds 4] [--connections 16] [--introspection-cache 5s]
 */
import {createServer} from 'node:http'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {spawnSync} from 'node:child_process'

import {Pool} from 'undici'
import {stringify} from 'yaml'

import {contextFromConfig, createClients} from '../src/admin/context.js'
import {createClient, issueToken} from '../src/clients/index.js'
import {loadConfig} from '../src/config/load.js'
import {readPidRecords} from '../src/runtime/pidfile.js'
import {getFreePort} from '../src/util/ports.js'
import {freeProjectPorts} from '../test/harness/stack.js'

const {values} = parseArgs({
  options: {
    duration: {type: 'string', default: '5'},
    rounds: {type: 'string', default: '4'},
    connections: {type: 'string', default: '16'},
    'latency-samples': {type: 'string', default: '1000'},
    'introspection-cache': {type: 'string', default: '5s'},
  },
})
const DURATION_MS = Number(values.duration) * 1000
const ROUNDS = Number(values.rounds)
const CONNECTIONS = Number(values.connections)
const IAM = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN

const upstreamPort = await getFreePort()
const upstream = createServer((_req, res) => res.end('ok'))
await new Promise<void>((resolve) => upstream.listen(upstreamPort, '127.0.0.1', resolve))

const dir = await mkdtemp(join(tmpdir(), 'iam-bench-machine-'))
const ports = await freeProjectPorts()
const target = `http://127.0.0.1:${upstreamPort}`
await writeFile(
  join(dir, 'iam.yaml'),
  stringify({
    version: 1,
    project: 'bench',
    runtime: 'native',
    ports,
    kratos: {passwordBreachCheck: false},
    hydra: {enabled: true, introspectionCache: values['introspection-cache']},
    routes: [
      {id: 'client', match: '/client/<**>', methods: ['GET'], upstream: target, auth: 'client', scopes: ['bench:read'], audience: 'bench'},
      {id: 'session', match: '/session/<**>', methods: ['GET'], upstream: target, auth: 'session', audience: 'bench'},
    ],
  }),
)

const iam = (...args: string[]): void => {
  const r = spawnSync(process.execPath, [IAM, ...args, '-C', dir], {encoding: 'utf8', env: {...process.env, IAM_RUNTIME: 'native'}})
  if (r.status !== 0) throw new Error(`iam ${args.join(' ')} failed: ${r.stderr}${r.stdout}`)
}

try {
  iam('up')
  const {config} = await loadConfig(dir)
  const clients = createClients(contextFromConfig(config))
  const {secret} = await createClient(clients, {id: 'bench', scopes: ['bench:read'], audience: [], metadata: {tier: 'bench'}})
  const clientToken = (await issueToken(clients, {id: 'bench', secret})).accessToken
  const password = 'bench-Passw0rd-0123456789'
  await clients.kratos.createIdentity({schemaId: 'default', traits: {email: 'bench@example.com'}, password})
  const login = await clients.kratosPublic.login({method: 'password', identifier: 'bench@example.com', password})
  if (login.result !== 'ok' || !login.sessionToken) throw new Error('login failed')
  const sessionToken = login.sessionToken
  await clients.close()

  const sides = {client: {path: '/client/x', token: clientToken}, session: {path: '/session/x', token: sessionToken}} as const
  type Side = keyof typeof sides
  const pids = Object.fromEntries((await readPidRecords(join(dir, '.iam', 'run'))).map((r) => [r.service, r.pid]))
  const cpuMs = async (service: string): Promise<number> => {
    const fields = (await readFile(`/proc/${pids[service]}/stat`, 'utf8')).split(') ')[1]!.split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  }
  const measured: Record<Side, string[]> = {client: ['oathkeeper', 'hydra'], session: ['oathkeeper', 'kratos']}
  const pool = new Pool(`http://127.0.0.1:${ports.oathkeeperProxy}`, {connections: CONNECTIONS})
  const once = async (side: Side): Promise<void> => {
    const res = await pool.request({method: 'GET', path: sides[side].path, headers: {authorization: `Bearer ${sides[side].token}`}})
    await res.body.text()
    if (res.statusCode !== 200) throw new Error(`${side}: status ${res.statusCode}`)
  }
  const load = async (side: Side): Promise<{rps: number; cpu: Record<string, number>}> => {
    const before = Object.fromEntries(await Promise.all(measured[side].map(async (s) => [s, await cpuMs(s)] as const)))
    const end = Date.now() + DURATION_MS
    let n = 0
    await Promise.all(
      Array.from({length: CONNECTIONS}, async () => {
        while (Date.now() < end) {
          await once(side)
          n++
        }
      }),
    )
    const cpu: Record<string, number> = {}
    for (const s of measured[side]) cpu[s] = (((await cpuMs(s)) - before[s]!) * 1000) / n
    return {rps: n / (DURATION_MS / 1000), cpu}
  }

  for (const side of Object.keys(sides) as Side[]) for (let i = 0; i < 200; i++) await once(side) // warm-up
  const rounds: Record<Side, {rps: number; cpu: Record<string, number>}>[] = []
  for (let r = 0; r < ROUNDS; r++) {
    const order: Side[] = r % 2 === 0 ? ['client', 'session'] : ['session', 'client']
    const round = {} as Record<Side, {rps: number; cpu: Record<string, number>}>
    for (const side of order) round[side] = await load(side)
    rounds.push(round)
    console.log(`round ${r + 1}: client ${round.client.rps.toFixed(0)} req/s, session ${round.session.rps.toFixed(0)} req/s`)
  }
  const latency: Record<Side, number[]> = {client: [], session: []}
  for (let i = 0; i < Number(values['latency-samples']); i++) {
    for (const side of (i % 2 === 0 ? ['client', 'session'] : ['session', 'client']) as Side[]) {
      const t = performance.now()
      await once(side)
      latency[side].push(performance.now() - t)
    }
  }
  await pool.close()
  const cpu = (side: Side): string => measured[side].map((s) => `${s} ${median(rounds.map((r) => r[side].cpu[s]!)).toFixed(0)} µs`).join(', ')
  console.log(`throughput ratio client ÷ session: ${median(rounds.map((r) => r.client.rps / r.session.rps)).toFixed(3)} (${CONNECTIONS} connections, introspection cache ${values['introspection-cache']})`)
  console.log(`p50: client ${median(latency.client).toFixed(2)} ms, session ${median(latency.session).toFixed(2)} ms`)
  console.log(`cpu per request: client — ${cpu('client')}; session — ${cpu('session')}`)
} finally {
  spawnSync(process.execPath, [IAM, 'down', '-C', dir], {stdio: 'ignore'})
  upstream.close()
  await rm(dir, {recursive: true, force: true})
}
