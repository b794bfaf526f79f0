/**
 * batch-auth overhead: the same batch checks straight to Keto's batch check API vs through batch-auth (which
 * validates, calls that same Keto API over its keep-alive pool and answers), same concurrency, in one run.
 * Rounds alternate (direct, batch-auth / batch-auth, direct) so load from other processes hits both sides alike;
 * the ratio reported is the median of per-pair throughput ratios (target >= 0.90), plus added p50/p99 latency
 * (target p50 <= 0.3 ms). Then a soak through batch-auth at the measured max rate: errors and batch-auth's RSS.
 *
 *   npx tsx bench/batch-auth.ts [--duration 5] [--rounds 5] [--connections 16] [--tuples 2] [--latency-samples 2000] [--soak 60]
 *
 * Real Keto (the installed binary), batch-auth as its own process (the built `serve batch-auth` command: run
 * `npm run build` first), autocannon in this process.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {createRequire} from 'node:module'
import {availableParallelism, tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {parseArgs} from 'node:util'

import {Pool} from 'undici'
import {stringify} from 'yaml'

import {migrationSpec, resolveOryBinary, serveSpec, waitForReady} from '../src/ory/launch.js'
import {getFreePort} from '../src/util/ports.js'
import {ketoConfig, sqliteDsn} from '../test/harness/configs.js'

interface AutocannonResult {
  requests: {average: number; total: number}
  latency: {p50: number; p99: number; average: number}
  non2xx: number
  errors: number
  timeouts: number
  '2xx': number
}
type Autocannon = (o: {
  url: string
  method: 'POST'
  body: string
  headers: Record<string, string>
  connections: number
  duration: number
  overallRate?: number
}) => Promise<AutocannonResult>
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon

const {values} = parseArgs({
  options: {
    duration: {type: 'string', default: '5'},
    rounds: {type: 'string', default: '5'},
    connections: {type: 'string', default: '16'},
    tuples: {type: 'string', default: '2'},
    soak: {type: 'string', default: '60'},
    'latency-samples': {type: 'string', default: '2000'},
  },
})
const DURATION = Number(values.duration)
const ROUNDS = Number(values.rounds)
const CONNECTIONS = Number(values.connections)
const TUPLES = Number(values.tuples)
const SOAK = Number(values.soak)
const LATENCY_SAMPLES = Number(values['latency-samples'])

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const children: ChildProcess[] = []
const dir = await mkdtemp(join(tmpdir(), 'iam-bench-batch-auth-'))
const cleanup = async (): Promise<void> => {
  for (const c of children) c.kill('SIGTERM')
  await rm(dir, {recursive: true, force: true})
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)))

function run(command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(command, args, {cwd: dir, env: {...process.env, ...env}, stdio: ['ignore', 'ignore', 'pipe']})
  let log = ''
  child.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000)
  })
  child.on('exit', (code) => {
    if (code !== 0 && code !== null) process.stderr.write(`${command} exited ${code}:\n${log}\n`)
  })
  children.push(child)
  return child
}

try {
  // --- Keto (real), quiet logs so its logging does not dominate either side.
  const binary = (await resolveOryBinary('keto')).path
  const ports = {read: await getFreePort(), write: await getFreePort(), metrics: await getFreePort(), opl: await getFreePort()}
  const dsn = sqliteDsn(join(dir, 'keto.db'))
  const configPath = join(dir, 'keto.yml')
  await writeFile(configPath, stringify(ketoConfig({dsn, ports, config: {log: {level: 'error'}}})))
  const migrate = migrationSpec('keto', {binary, configPath, dsn})!
  await new Promise<void>((resolve, reject) =>
    run(migrate.command, migrate.args, migrate.env).on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`keto migrate exited ${code}`)))),
  )
  const serve = serveSpec('keto', {binary, configPath, dsn})
  const keto = run(serve.command, serve.args, serve.env)
  const read = `http://127.0.0.1:${ports.read}`
  const write = `http://127.0.0.1:${ports.write}`
  await waitForReady(`${read}/health/ready`, {timeoutMs: 30_000})
  await waitForReady(`${write}/health/ready`, {timeoutMs: 30_000})
  await fetch(`${write}/admin/relation-tuples`, {
    method: 'PUT',
    headers: {'content-type': 'application/json'},
    body: JSON.stringify({namespace: 'Tenant', object: 't1', relation: 'member', subject_id: 'bob'}),
  })

  // --- batch-auth (the built command) as its own process.
  const port = await getFreePort()
  const command = pathToFileURL(join(ROOT, 'dist/commands/serve/batch-auth.js')).href
  const code = `const {default: C} = await import(${JSON.stringify(command)}); await C.run(process.argv.slice(1), ${JSON.stringify(ROOT)})`
  const batchAuth = run(process.execPath, ['--input-type=module', '-e', code, '--', '--port', String(port), '--keto-read-url', read, '--log-level', 'warn'])
  const baUrl = `http://127.0.0.1:${port}`
  await waitForReady(`${baUrl}/health/ready`, {timeoutMs: 30_000})

  // The typical OR check: admin role (denied), then tenant membership (allowed); more tuples with --tuples.
  const tuples = [{namespace: 'Role', object: 'admin', relation: 'member', subject_id: 'bob'}]
  for (let i = 1; i < TUPLES - 1; i++) tuples.push({namespace: 'Tenant', object: `other${i}`, relation: 'member', subject_id: 'bob'})
  tuples.push({namespace: 'Tenant', object: 't1', relation: 'member', subject_id: 'bob'})
  const body = JSON.stringify({tuples})
  const headers = {'content-type': 'application/json'}
  const targets = {direct: `${read}/relation-tuples/batch/check`, 'batch-auth': `${baUrl}/`}
  for (const url of Object.values(targets)) {
    const r = await fetch(url, {method: 'POST', headers, body})
    if (r.status !== 200) throw new Error(`${url} answered ${r.status}: ${await r.text()}`)
  }

  const load = (url: string, duration: number, overallRate?: number) =>
    autocannon({url, method: 'POST', body, headers, connections: CONNECTIONS, duration, ...(overallRate ? {overallRate} : {})})
  // CPU time (user + system, ms) a process has used: what each check costs Keto and batch-auth on a shared machine.
  const cpuMs = async (pid: number | undefined): Promise<number> => {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  }
  const cpu: {ketoDirect: number[]; ketoVia: number[]; batchAuth: number[]} = {ketoDirect: [], ketoVia: [], batchAuth: []}
  const measured = async (side: 'direct' | 'batch-auth'): Promise<AutocannonResult> => {
    const [k0, b0] = [await cpuMs(keto.pid), await cpuMs(batchAuth.pid)]
    const r = await load(targets[side], DURATION)
    const [k1, b1] = [await cpuMs(keto.pid), await cpuMs(batchAuth.pid)]
    const n = Math.max(1, r.requests.total)
    if (side === 'direct') cpu.ketoDirect.push(((k1 - k0) * 1000) / n)
    else {
      cpu.ketoVia.push(((k1 - k0) * 1000) / n)
      cpu.batchAuth.push(((b1 - b0) * 1000) / n)
    }
    return r
  }
  // Warm-up: JIT, connection pools, Keto caches.
  await load(targets.direct, 2)
  await load(targets['batch-auth'], 2)

  const pairs: {direct: AutocannonResult; ba: AutocannonResult}[] = []
  for (let i = 0; i < ROUNDS; i++) {
    let direct: AutocannonResult
    let ba: AutocannonResult
    if (i % 2 === 0) {
      direct = await measured('direct')
      ba = await measured('batch-auth')
    } else {
      ba = await measured('batch-auth')
      direct = await measured('direct')
    }
    pairs.push({direct, ba})
    console.log(
      `round ${i + 1}: direct ${direct.requests.average.toFixed(0)} req/s p50 ${direct.latency.p50} ms p99 ${direct.latency.p99} ms | ` +
        `batch-auth ${ba.requests.average.toFixed(0)} req/s p50 ${ba.latency.p50} ms p99 ${ba.latency.p99} ms | errors ${direct.errors + direct.non2xx}/${ba.errors + ba.non2xx}`,
    )
  }
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b)
    const m = Math.floor(s.length / 2)
    return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
  }
  const ratio = median(pairs.map((p) => p.ba.requests.average / p.direct.requests.average))
  const addedP50 = median(pairs.map((p) => p.ba.latency.p50 - p.direct.latency.p50))
  const addedP99 = median(pairs.map((p) => p.ba.latency.p99 - p.direct.latency.p99))
  const maxRate = median(pairs.map((p) => p.ba.requests.average))
  console.log(`\n${TUPLES} tuples per check, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION}s per side`)
  console.log(`throughput ratio (batch-auth / direct): ${ratio.toFixed(3)}   (target >= 0.90); per pair: ${pairs.map((p) => (p.ba.requests.average / p.direct.requests.average).toFixed(2)).join(' ')}`)
  console.log(
    `CPU per check (median): Keto ${median(cpu.ketoDirect).toFixed(0)} µs direct / ${median(cpu.ketoVia).toFixed(0)} µs via batch-auth; ` +
      `batch-auth ${median(cpu.batchAuth).toFixed(0)} µs (on ${availableParallelism()} cores shared with Keto, the load generator and other processes)`,
  )
  console.log(`added latency under load (autocannon, 1 ms resolution): p50 ${addedP50.toFixed(2)} ms, p99 ${addedP99.toFixed(2)} ms`)

  // --- Added latency without load, at µs resolution: one connection each, requests alternating direct/batch-auth.
  const pools = {direct: new Pool(read), 'batch-auth': new Pool(baUrl)}
  const paths = {direct: '/relation-tuples/batch/check', 'batch-auth': '/'}
  const times: Record<'direct' | 'batch-auth', number[]> = {direct: [], 'batch-auth': []}
  for (let i = 0; i < LATENCY_SAMPLES + 200; i++) {
    for (const side of i % 2 === 0 ? (['direct', 'batch-auth'] as const) : (['batch-auth', 'direct'] as const)) {
      const t0 = performance.now()
      const res = await pools[side].request({path: paths[side], method: 'POST', body, headers})
      await res.body.dump()
      if (i >= 200) times[side].push(performance.now() - t0) // the first 200 warm up
    }
  }
  await Promise.all(Object.values(pools).map((p) => p.close()))
  const pct = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!
  const d50 = pct(times.direct, 0.5)
  const b50 = pct(times['batch-auth'], 0.5)
  const d99 = pct(times.direct, 0.99)
  const b99 = pct(times['batch-auth'], 0.99)
  console.log(
    `sequential latency (${LATENCY_SAMPLES} each, 1 connection): direct p50 ${d50.toFixed(3)} ms p99 ${d99.toFixed(3)} ms | batch-auth p50 ${b50.toFixed(3)} ms p99 ${b99.toFixed(3)} ms`,
  )
  console.log(`added latency: p50 ${(b50 - d50).toFixed(3)} ms (target <= 0.3), p99 ${(b99 - d99).toFixed(3)} ms`)

  // --- Soak at the measured maximum rate.
  if (SOAK > 0) {
    const rss = async (): Promise<number> => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${batchAuth.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024
    const before = await rss()
    const samples: number[] = []
    const sampler = setInterval(() => void rss().then((v) => samples.push(v)), 5000)
    const soak = await load(targets['batch-auth'], SOAK, Math.floor(maxRate))
    clearInterval(sampler)
    const after = await rss()
    const errors = soak.errors + soak.timeouts + soak.non2xx
    console.log(
      `\nsoak ${SOAK}s at ${Math.floor(maxRate)} req/s target: ${soak.requests.average.toFixed(0)} req/s achieved, ${soak.requests.total} requests, ` +
        `errors ${errors} (non-2xx ${soak.non2xx}, socket errors ${soak.errors}, timeouts ${soak.timeouts}), p50 ${soak.latency.p50} ms p99 ${soak.latency.p99} ms`,
    )
    console.log(`batch-auth RSS: before ${before.toFixed(1)} MB, after ${after.toFixed(1)} MB, samples every 5s: ${samples.map((s) => s.toFixed(1)).join(' ')}`)
    const metrics = await (await fetch(`${baUrl}/metrics`)).text()
    console.log(metrics.split('\n').filter((l) => l.startsWith('batch_auth_decisions_total') || l.startsWith('batch_auth_errors_total')).join('\n'))
  }
} finally {
  await cleanup()
}
