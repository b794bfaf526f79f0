/**
 * Time from `iam up` to all-ready (native runtime, cached binaries) next to starting the same binaries, with the same
 * configs and environment, by a plain shell script (migrate, serve in the background, poll /health/ready with curl),
 * interleaved in the same run so machine load affects both sides alike. The ratio is what our orchestration costs
 * (config load, render check, port checks, pid files, progress).
 *
 *   npx tsx bench/up.ts            # ROUNDS=3 by default
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {chmod, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {stringify} from 'yaml'

import {loadConfig} from '../src/config/load.js'
import {migrationSpec, resolveOryBinary, serveSpec} from '../src/ory/launch.js'
import {ketoEnv, kratosEnv, roleWebhookEnv} from '../src/project/env.js'
import {renderProject} from '../src/project/render.js'
import {readSecrets} from '../src/project/secrets.js'
import {oryConfigPath} from '../src/runtime/paths.js'
import {isRecordAlive, readPidRecords} from '../src/runtime/pidfile.js'
import {planServices} from '../src/plan/services.js'
import {freeProjectPorts as freePorts} from '../test/harness/stack.js'

const ROUNDS = Number(process.env.ROUNDS ?? 3)
const IAM = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const q = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`

async function makeProject(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'iam-bench-up-'))
  const ports = await freePorts()
  const proxy = `http://127.0.0.1:${ports.oathkeeperProxy}`
  const upstream = 'http://127.0.0.1:9'
  await writeFile(
    join(dir, 'iam.yaml'),
    stringify({
      version: 1,
      project: 'bench',
      runtime: 'native',
      ports,
      routes: [
        {id: 'hello', match: `${proxy}/hello/<**>`, methods: ['GET'], upstream, auth: 'anonymous', audience: 'bench'},
        {id: 't', match: `${proxy}/t/{tenant}/<**>`, methods: ['GET'], upstream, auth: 'session', audience: 'bench', authorization: {anyOf: [{namespace: 'Tenant', object: '{tenant}', relation: 'member'}]}},
      ],
    }),
  )
  await renderProject(dir)
  return dir
}

/** The fastest shell script a person would write: per server `migrate && exec serve` in the background, all at once; then curl until every /health/ready answers. */
async function writeScript(dir: string): Promise<string> {
  const {config} = await loadConfig(dir)
  const secrets = await readSecrets(dir)
  const lines = ['#!/bin/sh', 'set -e', `mkdir -p ${q(join(dir, '.iam/data'))} ${q(join(dir, '.iam/logs'))}`, `: > ${q(join(dir, 'bench.pids'))}`]
  const waits: string[] = []
  const serves: string[] = []
  for (const s of planServices(config)) {
    const log = q(join(dir, '.iam/logs', `bench-${s.name}.log`))
    const envLine = (env: Record<string, string>): string => Object.entries(env).map(([k, v]) => `${k}=${q(v)}`).join(' ')
    if (s.server) {
      const binary = (await resolveOryBinary(s.server)).path
      const configPath = oryConfigPath(dir, s.server)
      const launch = {binary, configPath}
      const env = s.server === 'kratos' ? kratosEnv({config, projectDir: dir, secrets}) : s.server === 'keto' ? ketoEnv({config, projectDir: dir, secrets}) : {}
      const cd = `cd ${q(join(dir, 'ory', s.server))}`
      const m = migrationSpec(s.server, launch)
      const sv = serveSpec(s.server, {...launch, dev: true})
      const migrate = m ? `env ${envLine({...env, ...m.env})} ${[m.command, ...m.args].map(q).join(' ')} >> ${log} 2>&1 && ` : ''
      // Each server's own chain runs in the background: migrate, then exec serve (the pid becomes the server's).
      serves.push(`(${cd} && ${migrate}exec env ${envLine({...env, ...sv.env})} ${[sv.command, ...sv.args].map(q).join(' ')} >> ${log} 2>&1) & echo $! >> ${q(join(dir, 'bench.pids'))}`)
    } else {
      const args =
        s.name === 'batch-auth'
          ? ['serve', 'batch-auth', '--port', String(config.ports.batchAuth), '--keto-read-url', `http://127.0.0.1:${config.ports.ketoRead}`]
          : ['serve', 'role-webhook', '--port', String(config.ports.roleWebhook), '--kratos-admin-url', `http://127.0.0.1:${config.ports.kratosAdmin}`, '--keto-read-url', `http://127.0.0.1:${config.ports.ketoRead}`]
      const env = s.name === 'role-webhook' ? roleWebhookEnv({secrets}) : {}
      serves.push(`(exec env ${envLine(env)} ${[process.execPath, IAM, ...args].map(q).join(' ')} >> ${log} 2>&1) & echo $! >> ${q(join(dir, 'bench.pids'))}`)
    }
    for (const url of s.healthUrls) waits.push(`until curl -sf -o /dev/null ${q(url)}; do sleep 0.1; done`)
  }
  lines.push(...serves, ...waits)
  const path = join(dir, 'bench-up.sh')
  await writeFile(path, lines.join('\n') + '\n', {mode: 0o700})
  await chmod(path, 0o700)
  return path
}

function timeMs(fn: () => void): number {
  const t0 = process.hrtime.bigint()
  fn()
  return Number(process.hrtime.bigint() - t0) / 1e6
}

async function killScriptServers(dir: string): Promise<void> {
  const pids = (await readFile(join(dir, 'bench.pids'), 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number)
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM')
    } catch {
      // gone
    }
  }
  await new Promise((r) => setTimeout(r, 1500))
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone
    }
  }
}

const dir = await makeProject()
const serviceNames = planServices((await loadConfig(dir)).config).map((s) => s.name)
const script = await writeScript(dir)
const samples: Record<'iam up' | 'shell script', number[]> = {'iam up': [], 'shell script': []}
try {
  for (let i = 0; i < ROUNDS; i++) {
    // Fresh databases for both sides: migrations are part of the cost.
    await rm(join(dir, '.iam', 'data'), {recursive: true, force: true})
    samples['iam up'].push(
      timeMs(() => {
        const r = spawnSync(process.execPath, [IAM, 'up', '--quiet', '--runtime', 'native'], {cwd: dir, stdio: ['ignore', 'ignore', 'inherit']})
        if (r.status !== 0) throw new Error(`iam up exited ${r.status}`)
      }),
    )
    execFileSync(process.execPath, [IAM, 'down', '--quiet'], {cwd: dir, stdio: 'ignore'})
    await rm(join(dir, '.iam', 'data'), {recursive: true, force: true})
    samples['shell script'].push(timeMs(() => execFileSync('sh', [script], {stdio: 'ignore', timeout: 90_000})))
    await killScriptServers(dir)
  }
} catch (error) {
  const {readdir} = await import('node:fs/promises')
  for (const f of await readdir(join(dir, '.iam', 'logs')).catch(() => [])) {
    console.error(`--- ${f}\n${(await readFile(join(dir, '.iam', 'logs', f), 'utf8')).split('\n').slice(-8).join('\n')}`)
  }
  throw error
} finally {
  for (const record of await readPidRecords(join(dir, '.iam', 'run'))) if (await isRecordAlive(record)) process.kill(record.pid, 'SIGKILL')
  await killScriptServers(dir)
  await rm(dir, {recursive: true, force: true})
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN
const base = median(samples['shell script'])
console.log(`rounds: ${ROUNDS} (interleaved; fresh SQLite each round; services: ${serviceNames.join(', ')})`)
for (const [name, xs] of Object.entries(samples)) {
  console.log(`${name.padEnd(13)} median ${median(xs).toFixed(0).padStart(6)} ms  (${xs.map((x) => x.toFixed(0)).join(', ')})  ratio to shell script: ${(median(xs) / base).toFixed(2)}`)
}
