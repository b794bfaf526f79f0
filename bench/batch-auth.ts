/**
 * batch-auth vs Keto's batch check called directly, side by side in one run, on the real Keto.
 *
 * Traffic as Oathkeeper sends it: every request asks 2 tuples for a random subject (of 1,000): its
 * `Role:admin#member` and its membership of a random tenant (of 100); bodies differ from request to request.
 * Closed loop at --connections (16) per side, in interleaved rounds (the side order rotates every round so load from
 * other processes hits all sides alike). Prints:
 *
 *   throughput ratio: <R>                          batch-auth (coalescing on) ÷ direct, median of per-round ratios
 *   added p50: <ms> ms                             1 connection, requests alternating: batch-auth p50 − direct p50
 *   cpu per request: batch-auth <N> µs, keto <M> µs   /proc/<pid>/stat over the measured windows ÷ requests
 *
 * before them: per-round figures, checks per Keto call under load, the same figures with coalescing off (unless
 * --no-off) and, with --also-max-in-flight N, for coalescing with N Keto calls in flight.
 *
 *   npx tsx bench/batch-auth.ts [--duration 5] [--rounds 4] [--connections 16] [--latency-samples 2000]
 *                              [--max-batch 32] [--max-in-flight 2] [--also-max-in-flight 1] [--no-off] [--soak 0]
 *
 * Keto is the installed binary with `limit.max_batch_check_size` = --max-batch (batch-auth gets the same value; 32
 * lets one call carry all 16 connections' 2 tuples);
 * each batch-auth runs as its own process from the TypeScript sources (this file re-run with --serve), the load
 * generator (undici) in this process.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {availableParallelism, tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import {Pool} from 'undici'
import {stringify} from 'yaml'

import {migrationSpec, resolveOryBinary, serveSpec, waitForReady} from '../src/ory/launch.js'
import {BATCH_AUTH_DEFAULTS, startBatchAuth, type BatchAuthOptions} from '../src/servers/batch-auth/index.js'
import {createLogger} from '../src/servers/http/index.js'
import {getFreePort} from '../src/util/ports.js'
import {ketoConfig, sqliteDsn} from '../test/harness/configs.js'

const {values} = parseArgs({
  options: {
    duration: {type: 'string', default: '5'},
    rounds: {type: 'string', default: '4'},
    connections: {type: 'string', default: '16'},
    'latency-samples': {type: 'string', default: '2000'},
    'max-batch': {type: 'string', default: '32'},
    'max-in-flight': {type: 'string', default: '2'},
    'no-off': {type: 'boolean', default: false},
    // Also measure coalescing with this many Keto calls in flight (e.g. 1), as one more side.
    'also-max-in-flight': {type: 'string'},
    soak: {type: 'string', default: '0'},
    // Internal: run one batch-auth with these options (JSON) until SIGTERM.
    serve: {type: 'string'},
  },
})

if (values.serve !== undefined) {
  const o = JSON.parse(values.serve) as Partial<BatchAuthOptions>
  const server = await startBatchAuth({...BATCH_AUTH_DEFAULTS, ...o, logger: createLogger({level: 'warn', base: {service: 'batch-auth'}})})
  process.on('SIGTERM', () => void server.close().then(() => process.exit(0)))
} else {
  await bench()
}

async function bench(): Promise<void> {
  const DURATION = Number(values.duration)
  const ROUNDS = Number(values.rounds)
  const CONNECTIONS = Number(values.connections)
  const LATENCY_SAMPLES = Number(values['latency-samples'])
  const MAX_BATCH = Number(values['max-batch'])
  const MAX_IN_FLIGHT = Number(values['max-in-flight'])
  const WITH_OFF = !values['no-off']
  const ALSO_IN_FLIGHT = values['also-max-in-flight'] === undefined ? undefined : Number(values['also-max-in-flight'])
  const SOAK = Number(values.soak)
  const SUBJECTS = 1000
  const TENANTS = 100

  const children: ChildProcess[] = []
  const dir = await mkdtemp(join(tmpdir(), 'iam-bench-batch-auth-'))
  const cleanup = async (): Promise<void> => {
    for (const c of children) c.kill('SIGTERM')
    await rm(dir, {recursive: true, force: true})
  }
  process.on('SIGINT', () => void cleanup().then(() => process.exit(130)))

  const run = (command: string, args: string[], env: Record<string, string> = {}, cwd = dir): ChildProcess => {
    const child = spawn(command, args, {cwd, env: {...process.env, ...env}, stdio: ['ignore', 'ignore', 'pipe']})
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
    await writeFile(configPath, stringify(ketoConfig({dsn, ports, config: {log: {level: 'error'}, limit: {max_batch_check_size: MAX_BATCH}}})))
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

    // --- Seed: 5% of the subjects are admins, every subject is a member of 10 (distinct, spread) tenants.
    const seed: object[] = []
    for (let s = 0; s < SUBJECTS; s++) {
      if (s % 20 === 0) seed.push({namespace: 'Role', object: 'admin', relation: 'member', subject_id: `s${s}`})
      for (let k = 0; k < 10; k++) seed.push({namespace: 'Tenant', object: `t${(s * 7 + k * 13) % TENANTS}`, relation: 'member', subject_id: `s${s}`})
    }
    for (let i = 0; i < seed.length; i += 1000) {
      const res = await fetch(`${write}/admin/relation-tuples`, {
        method: 'PATCH',
        headers: {'content-type': 'application/json'},
        body: JSON.stringify(seed.slice(i, i + 1000).map((relation_tuple) => ({action: 'insert', relation_tuple}))),
      })
      if (res.status !== 204) throw new Error(`seeding Keto: ${res.status} ${await res.text()}`)
    }

    // --- batch-auth processes: coalescing on (the default) and off.
    const self = fileURLToPath(import.meta.url)
    const startSide = async (o: Partial<BatchAuthOptions>): Promise<{url: string; proc: ChildProcess}> => {
      const port = await getFreePort()
      const opts = {port, ketoReadUrl: read, maxBatch: MAX_BATCH, ...o}
      // From the project root, where `--import tsx` resolves.
      const proc = run(process.execPath, ['--import', 'tsx', self, '--serve', JSON.stringify(opts)], {}, fileURLToPath(new URL('../', import.meta.url)))
      const url = `http://127.0.0.1:${port}`
      await waitForReady(`${url}/health/ready`, {timeoutMs: 30_000})
      return {url, proc}
    }
    // 'direct' is Keto itself; the others are batch-auth processes (each with its own pid for CPU figures).
    type Side = string
    const target: Record<Side, {origin: string; path: string; proc?: ChildProcess}> = {direct: {origin: read, path: '/relation-tuples/batch/check'}}
    const addSide = async (side: Side, o: Partial<BatchAuthOptions>): Promise<void> => {
      const {url, proc} = await startSide(o)
      target[side] = {origin: url, path: '/', proc}
    }
    await addSide('on', {coalesce: true, maxInFlight: MAX_IN_FLIGHT})
    if (WITH_OFF) await addSide('off', {coalesce: false})
    const also = ALSO_IN_FLIGHT === undefined ? undefined : `on, maxInFlight ${ALSO_IN_FLIGHT}`
    if (also !== undefined) await addSide(also, {coalesce: true, maxInFlight: ALSO_IN_FLIGHT})
    const sides: Side[] = Object.keys(target)
    const coalescing = sides.filter((s) => s === 'on' || s === also)
    const body = (): string => {
      const s = `s${Math.floor(Math.random() * SUBJECTS)}`
      const t = `t${Math.floor(Math.random() * TENANTS)}`
      return `{"tuples":[{"namespace":"Role","object":"admin","relation":"member","subject_id":"${s}"},{"namespace":"Tenant","object":"${t}","relation":"member","subject_id":"${s}"}]}`
    }
    const headers = {'content-type': 'application/json'}

    // Sanity: every side gives the same decision for the same bodies.
    for (let i = 0; i < 50; i++) {
      const b = body()
      const decisions = await Promise.all(
        sides.map(async (side) => {
          const res = await fetch(target[side]!.origin + target[side]!.path, {method: 'POST', headers, body: b})
          const json = (await res.json()) as {results: {allowed: boolean}[]}
          if (side === 'direct') return res.status === 200 && json.results.some((r) => r.allowed) ? 'allow' : res.status === 200 ? 'deny' : `HTTP ${res.status}`
          return res.status === 200 ? 'allow' : res.status === 403 ? 'deny' : `HTTP ${res.status}`
        }),
      )
      if (new Set(decisions).size !== 1) throw new Error(`sides disagree on ${b}: ${sides.map((s, j) => `${s} ${decisions[j]}`).join(', ')}`)
    }

    // --- Closed-loop load: `connections` workers, each sending its next random request when the last one answered.
    interface Load {
      requests: number
      rps: number
      failures: number
      p50: number
      p99: number
    }
    const load = async (side: Side, seconds: number, connections = CONNECTIONS): Promise<Load> => {
      const pool = new Pool(target[side]!.origin, {connections, pipelining: 1})
      const path = target[side]!.path
      const latencies: number[] = []
      let failures = 0
      const started = performance.now()
      const end = started + seconds * 1000
      await Promise.all(
        Array.from({length: connections}, async () => {
          while (performance.now() < end) {
            const t0 = performance.now()
            try {
              const res = await pool.request({method: 'POST', path, headers, body: body()})
              await res.body.dump()
              // 200 and 403 are answers (allow, deny); direct Keto answers 200 for both.
              if (res.statusCode !== 200 && res.statusCode !== 403) failures++
            } catch {
              failures++
            }
            latencies.push(performance.now() - t0)
          }
        }),
      )
      const elapsed = (performance.now() - started) / 1000
      await pool.close()
      latencies.sort((a, b) => a - b)
      return {requests: latencies.length, rps: latencies.length / elapsed, failures, p50: pct(latencies, 0.5), p99: pct(latencies, 0.99)}
    }
    // CPU time (user + system, ms) a process has used.
    const cpuMs = async (pid: number | undefined): Promise<number> => {
      const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
    }
    const cpu = Object.fromEntries(sides.map((s) => [s, {keto: [] as number[], batchAuth: [] as number[]}]))
    // Keto calls and the checks they carried, over the measured windows only.
    const shared = Object.fromEntries(coalescing.map((s) => [s, {calls: 0, checks: 0, tuples: 0}]))
    const sharing = async (side: Side): Promise<{calls: number; checks: number; tuples: number}> => {
      const text = await (await fetch(`${target[side]!.origin}/metrics`)).text()
      return {
        calls: metricValue(text, 'batch_auth_keto_batch_checks_count'),
        checks: metricValue(text, 'batch_auth_keto_batch_checks_sum'),
        tuples: metricValue(text, 'batch_auth_keto_batch_tuples_sum'),
      }
    }
    const measured = async (side: Side): Promise<Load> => {
      const p = target[side]!.proc?.pid
      const m0 = shared[side] === undefined ? undefined : await sharing(side)
      const [k0, b0] = [await cpuMs(keto.pid), p === undefined ? 0 : await cpuMs(p)]
      const r = await load(side, DURATION)
      const [k1, b1] = [await cpuMs(keto.pid), p === undefined ? 0 : await cpuMs(p)]
      if (m0 !== undefined) {
        const m1 = await sharing(side)
        shared[side]!.calls += m1.calls - m0.calls
        shared[side]!.checks += m1.checks - m0.checks
        shared[side]!.tuples += m1.tuples - m0.tuples
      }
      const n = Math.max(1, r.requests)
      cpu[side]!.keto.push(((k1 - k0) * 1000) / n)
      cpu[side]!.batchAuth.push(((b1 - b0) * 1000) / n)
      return r
    }

    // Warm-up: JIT, connection pools, Keto caches.
    for (const side of sides) await load(side, 2)

    const rounds: Record<Side, Load>[] = []
    for (let i = 0; i < ROUNDS; i++) {
      const r: Record<Side, Load> = {}
      for (let j = 0; j < sides.length; j++) {
        const side = sides[(i + j) % sides.length]!
        r[side] = await measured(side)
      }
      rounds.push(r)
      console.log(
        `round ${i + 1}: ` +
          sides.map((s) => `${s} ${r[s]!.rps.toFixed(0)} req/s p50 ${r[s]!.p50.toFixed(2)} ms p99 ${r[s]!.p99.toFixed(2)} ms failures ${r[s]!.failures}`).join(' | '),
      )
    }

    // --- Added latency without load, µs resolution: one connection per side, the sides' requests alternating.
    const pools = Object.fromEntries(sides.map((s) => [s, new Pool(target[s]!.origin, {connections: 1})]))
    const times = Object.fromEntries(sides.map((s) => [s, [] as number[]]))
    for (let i = 0; i < LATENCY_SAMPLES + 200; i++) {
      for (let j = 0; j < sides.length; j++) {
        const side = sides[(i + j) % sides.length]!
        const b = body()
        const t0 = performance.now()
        const res = await pools[side]!.request({method: 'POST', path: target[side]!.path, headers, body: b})
        await res.body.dump()
        if (i >= 200) times[side]!.push(performance.now() - t0) // the first 200 warm up
      }
    }
    await Promise.all(Object.values(pools).map((p) => p.close()))
    for (const s of sides) times[s]!.sort((a, b) => a - b)

    const perRound = (s: Side): string => rounds.map((r) => (r[s]!.rps / r.direct!.rps).toFixed(2)).join(' ')
    const ratio = (s: Side): number => median(rounds.map((r) => r[s]!.rps / r.direct!.rps))
    const addedP50 = (s: Side): number => pct(times[s]!, 0.5) - pct(times.direct!, 0.5)
    const cpuLine = (s: Side): string => `batch-auth ${median(cpu[s]!.batchAuth).toFixed(0)} µs, keto ${median(cpu[s]!.keto).toFixed(0)} µs`
    const sharingLine = (s: Side): string => {
      const m = shared[s]!
      return `${(m.checks / m.calls).toFixed(2)} checks and ${(m.tuples / m.calls).toFixed(2)} distinct tuples per Keto call`
    }

    console.log(
      `\n${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION}s per side, Keto limit.max_batch_check_size = batch-auth maxBatch = ${MAX_BATCH}, ` +
        `maxInFlight ${MAX_IN_FLIGHT}; ${availableParallelism()} cores shared with Keto, the load generator and other processes`,
    )
    console.log(
      `direct: ${median(rounds.map((r) => r.direct!.rps)).toFixed(0)} req/s, keto ${median(cpu.direct!.keto).toFixed(0)} µs CPU per request; ` +
        `p50 ${pct(times.direct!, 0.5).toFixed(3)} ms at concurrency 1`,
    )
    console.log(`coalescing on (maxInFlight ${MAX_IN_FLIGHT}): ${sharingLine('on')} under load; per-round ratios ${perRound('on')}`)
    if (WITH_OFF) {
      console.log(`coalescing off: throughput ratio ${ratio('off').toFixed(3)}, added p50 ${addedP50('off').toFixed(3)} ms, cpu per request: ${cpuLine('off')}; per-round ratios ${perRound('off')}`)
    }
    if (also !== undefined) {
      console.log(
        `${also}: throughput ratio ${ratio(also).toFixed(3)}, added p50 ${addedP50(also).toFixed(3)} ms, cpu per request: ${cpuLine(also)}; ` +
          `${sharingLine(also)} under load; per-round ratios ${perRound(also)}`,
      )
    }
    console.log(`throughput ratio: ${ratio('on').toFixed(3)}`)
    console.log(`added p50: ${addedP50('on').toFixed(3)} ms`)
    console.log(`cpu per request: ${cpuLine('on')}`)

    // --- Optional soak through batch-auth (coalescing on): failures and RSS.
    if (SOAK > 0) {
      const rss = async (): Promise<number> => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${target.on!.proc!.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024
      const before = await rss()
      const soak = await load('on', SOAK)
      const after = await rss()
      console.log(
        `\nsoak ${SOAK}s: ${soak.rps.toFixed(0)} req/s, ${soak.requests} requests, failures ${soak.failures}, p50 ${soak.p50.toFixed(2)} ms p99 ${soak.p99.toFixed(2)} ms; ` +
          `batch-auth RSS ${before.toFixed(1)} MB → ${after.toFixed(1)} MB`,
      )
    }
  } finally {
    await cleanup()
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Percentile of a sorted array. */
function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN
}

function metricValue(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)
}
