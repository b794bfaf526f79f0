/**
 * The compose runtime against a stub `docker`/`podman` first on PATH (no container engine on these machines): the
 * exact compose calls for up/down/status/logs and our health-wait logic. The stub records argv and answers
 * `ps --format json` like compose v2 does, from a scripted sequence.
 */
import {chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'
import {PassThrough} from 'node:stream'
import {fileURLToPath} from 'node:url'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {createServer} from 'node:net'

import {defaultConfig} from '../../src/config/defaults.js'
import type {IamConfig} from '../../src/config/model.js'
import {IamError} from '../../src/errors.js'
import {ComposeRuntime, containerState, parseComposePs, type ComposeContainer} from '../../src/runtime/compose.js'
import {selectRuntime} from '../../src/runtime/select.js'
import type {RuntimeEvent} from '../../src/runtime/types.js'
import {freePorts} from './helpers.js'

const STUB = fileURLToPath(new URL('./fixtures/compose-stub.mjs', import.meta.url))
const SERVICES = ['kratos-migrate', 'kratos', 'keto-migrate', 'keto', 'oathkeeper', 'mailslurper']
const BASE = ['compose', '-p', 'demo', '-f', 'ory/compose.yaml', '--env-file', '.env']

let project: string
let stubDir: string
let env: NodeJS.ProcessEnv
let config: IamConfig

function container(service: string, state: string, health = '', exitCode = 0): ComposeContainer {
  return {
    Name: `demo-${service}-1`,
    Service: service,
    State: state,
    Health: health,
    ExitCode: exitCode,
    Image: `oryd/${service.replace(/-migrate$/, '')}:v26.2.0`,
    Publishers: service === 'kratos' ? [{URL: '0.0.0.0', TargetPort: 4433, PublishedPort: 4433, Protocol: 'tcp'}] : [],
  }
}

/** Compose ≥2.21 prints one object per line. */
const ndjson = (cs: ComposeContainer[]): string => cs.map((c) => JSON.stringify(c)).join('\n') + '\n'
const starting = (): ComposeContainer[] => [
  container('kratos-migrate', 'running'),
  container('kratos', 'running', 'starting'),
  container('keto-migrate', 'exited', '', 0),
  container('keto', 'running', 'starting'),
  container('oathkeeper', 'running', 'starting'),
  container('mailslurper', 'running'),
]
const healthy = (): ComposeContainer[] => [
  container('kratos-migrate', 'exited', '', 0),
  container('kratos', 'running', 'healthy'),
  container('keto-migrate', 'exited', '', 0),
  container('keto', 'running', 'healthy'),
  container('oathkeeper', 'running', 'healthy'),
  container('mailslurper', 'running'),
]

async function scriptPs(...answers: string[]): Promise<void> {
  for (const [i, a] of answers.entries()) await writeFile(join(stubDir, `ps.${i}.json`), a)
}

async function calls(): Promise<string[][]> {
  const text = await readFile(join(stubDir, 'calls.jsonl'), 'utf8').catch(() => '')
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as string[])
}

function runtime(engine: 'docker' | 'podman' = 'docker'): ComposeRuntime {
  return new ComposeRuntime({projectDir: project, config, engine, env, pollIntervalMs: 5})
}

beforeEach(async () => {
  project = await mkdtemp(join(tmpdir(), 'iam-compose-'))
  stubDir = join(project, 'stub')
  const bin = join(stubDir, 'bin')
  await mkdir(bin, {recursive: true})
  for (const name of ['docker', 'podman']) {
    await copyFile(STUB, join(bin, name))
    await chmod(join(bin, name), 0o755)
  }
  await mkdir(join(project, 'ory'), {recursive: true})
  await writeFile(join(project, 'ory', 'compose.yaml'), `services:\n${SERVICES.map((s) => `  ${s}:\n    image: oryd/x\n`).join('')}`)
  await writeFile(join(project, '.env'), 'KRATOS_SECRETS_COOKIE=x\n', {mode: 0o600})
  env = {...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, STUB_DIR: stubDir}
  // Free ports: the runtime checks them before `up`, and other tests run in parallel.
  config = defaultConfig('demo', {ports: await freePorts()})
})

afterEach(async () => {
  await rm(project, {recursive: true, force: true})
})

describe('compose ps parsing', () => {
  it('accepts the JSON array of compose < 2.21 and the NDJSON of newer versions', () => {
    const cs = healthy()
    expect(parseComposePs(JSON.stringify(cs))).toEqual(cs)
    expect(parseComposePs(ndjson(cs))).toEqual(cs)
    expect(parseComposePs('\n')).toEqual([])
  })

  it('maps container states: one-shot exit 0 is done, non-zero exit failed, health drives readiness', () => {
    expect(containerState(container('m', 'exited', '', 0))).toMatchObject({state: 'stopped', done: true, failed: false})
    expect(containerState(container('m', 'exited', '', 3))).toMatchObject({state: 'crashed', health: 'exited with code 3', failed: true})
    expect(containerState(container('k', 'running', 'starting'))).toMatchObject({state: 'starting', done: false})
    expect(containerState(container('k', 'running', 'healthy'))).toMatchObject({state: 'ready', done: true})
    expect(containerState(container('k', 'running', 'unhealthy'))).toMatchObject({state: 'unhealthy', done: false})
    expect(containerState(container('mail', 'running', ''))).toMatchObject({state: 'ready', done: true})
  })
})

describe('compose runtime (stub engine)', () => {
  it('up: `up -d`, then polls `ps` until every service is healthy; events move starting → ready', async () => {
    await scriptPs('', ndjson(starting()), ndjson(starting()), ndjson(healthy()))
    const events: RuntimeEvent[] = []
    const result = await runtime().start({onEvent: (e) => events.push(e), timeoutMs: 10_000})
    expect(result.alreadyRunning).toBe(false)
    expect(result.status.healthy).toBe(true)
    const ps = [...BASE, 'ps', '-a', '--format', 'json']
    expect(await calls()).toEqual([ps, [...BASE, 'up', '-d'], ps, ps, ps, ps])
    const kratos = events.flatMap((e) => (e.type === 'service' && e.service === 'kratos' ? [e.state] : []))
    expect(kratos).toEqual(['pending', 'starting', 'ready'])
    const marker = JSON.parse(await readFile(join(project, '.iam', 'run', 'runtime.json'), 'utf8'))
    expect(marker).toMatchObject({kind: 'compose', engine: 'docker', project: 'demo'})
  })

  it('up on a healthy stack still calls `up -d` (compose recreates changed containers); nothing recreated → already running', async () => {
    await scriptPs(ndjson(healthy()))
    const result = await runtime().start()
    expect(result).toMatchObject({alreadyRunning: true, started: [], restarted: []})
    const ps = [...BASE, 'ps', '-a', '--format', 'json']
    expect(await calls()).toEqual([ps, [...BASE, 'up', '-d'], ps, ps])
  })

  it('up on a healthy stack after an iam.yaml change: the containers compose recreated are reported as restarted', async () => {
    await scriptPs(ndjson(healthy()))
    env = {...env, STUB_UP_RECREATES: 'oathkeeper,kratos'}
    const result = await runtime().start()
    expect(result.alreadyRunning).toBe(false)
    expect(result.started).toEqual(['oathkeeper', 'kratos'])
    expect(result.restarted).toEqual([
      {service: 'oathkeeper', reasons: ['its compose configuration changed (recreated by docker compose)']},
      {service: 'kratos', reasons: ['its compose configuration changed (recreated by docker compose)']},
    ])
  })

  it('a service that stays unhealthy: timeout error naming it with its log tail, and the stack is taken down', async () => {
    const stuck = healthy().map((c) => (c.Service === 'keto' ? container('keto', 'running', 'unhealthy') : c))
    await scriptPs('', ndjson(stuck))
    const error = await runtime().start({timeoutMs: 200}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(IamError)
    expect(error).toMatchObject({code: 'SERVICE_NOT_READY', exitCode: 1, details: {service: 'keto'}})
    expect((error as Error).message).toContain('keto did not become ready: not healthy within 0s: keto (unhealthy)')
    expect((error as Error).message).toContain('keto  | line 2')
    const all = await calls()
    expect(all.at(-2)).toEqual([...BASE, 'logs', '--no-color', '--tail', '20', 'keto'])
    expect(all.at(-1)).toEqual([...BASE, 'down'])
  })

  it('a migration that exits non-zero fails at once (no waiting for the timeout)', async () => {
    const broken = starting().map((c) => (c.Service === 'kratos-migrate' ? container('kratos-migrate', 'exited', '', 1) : c))
    await scriptPs('', ndjson(broken))
    const error = await runtime().start({timeoutMs: 60_000}).catch((e: unknown) => e)
    expect(error).toMatchObject({code: 'SERVICE_NOT_READY', details: {service: 'kratos-migrate', reason: 'exited with code 1'}})
    expect((await calls()).at(-1)).toEqual([...BASE, 'down'])
  })

  it('`up -d` failing reports compose\'s error and leaves nothing behind', async () => {
    env.STUB_UP_FAIL = '1'
    await scriptPs('')
    const error = await runtime().start().catch((e: unknown) => e)
    expect(error).toMatchObject({code: 'COMPOSE_FAILED'})
    expect((error as Error).message).toContain('pull access denied')
    expect((await calls()).at(-1)).toEqual([...BASE, 'down'])
  })

  it('a published port already taken: PORT_IN_USE naming it, and compose is never asked to start', async () => {
    await scriptPs('')
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(config.ports.mailUi, '127.0.0.1', resolve))
    try {
      const error = await runtime().start().catch((e: unknown) => e)
      expect(error).toMatchObject({code: 'PORT_IN_USE', exitCode: 3})
      expect((error as Error).message).toContain(`port ${config.ports.mailUi} (mail ui) is in use by pid ${process.pid}`)
      expect((await calls()).some((c) => c.includes('up'))).toBe(false)
    } finally {
      blocker.close()
    }
  })

  it('down keeps volumes; --volumes removes them', async () => {
    await scriptPs(ndjson(healthy()))
    const r1 = await runtime().stop()
    expect(r1).toMatchObject({purged: false})
    expect(r1.stopped).toEqual(expect.arrayContaining(['kratos', 'keto', 'oathkeeper']))
    await runtime().stop({purge: true})
    const downs = (await calls()).filter((c) => c.includes('down'))
    expect(downs).toEqual([
      [...BASE, 'down'],
      [...BASE, 'down', '--volumes'],
    ])
  })

  it('status maps containers to services with container name, published ports and image version', async () => {
    await scriptPs(ndjson(starting()))
    const report = await runtime().status()
    expect(report.runtime).toBe('compose')
    expect(report.healthy).toBe(false)
    const kratos = report.services.find((s) => s.name === 'kratos')
    expect(kratos).toMatchObject({state: 'starting', container: 'demo-kratos-1', ports: {4433: 4433}, version: 'v26.2.0'})
    await scriptPs(ndjson(healthy()))
    await rm(join(stubDir, 'ps.count'))
    expect((await runtime().status()).healthy).toBe(true)
  })

  it('logs passes --follow, --tail and the service, and streams the output', async () => {
    const out = new PassThrough()
    let text = ''
    out.on('data', (b: Buffer) => (text += b.toString()))
    await runtime().logs({service: 'kratos', follow: true, tail: 5, out})
    expect((await calls()).at(-1)).toEqual([...BASE, 'logs', '--no-color', '--follow', '--tail', '5', 'kratos'])
    expect(text).toContain('kratos  | line 1')
  })

  it('podman: the same compose calls through `podman compose`', async () => {
    await scriptPs(ndjson(healthy()))
    await runtime('podman').stop()
    expect((await calls()).at(-1)).toEqual([...BASE, 'down'])
    const engines = (await readFile(join(stubDir, 'engines.log'), 'utf8')).trim().split('\n')
    expect(new Set(engines)).toEqual(new Set(['podman']))
  })
})

describe('selectRuntime', () => {
  it('auto picks compose when `docker info` answers, and says why', async () => {
    const sel = await selectRuntime({runtime: 'auto'}, {env: {...env, STUB_ENGINE_UP: '1'}})
    expect(sel).toEqual({kind: 'compose', engine: 'docker', reason: 'auto: Docker engine 27.3.1 answered'})
  })

  it('auto falls back to native when no engine answers, naming what was tried', async () => {
    const sel = await selectRuntime({runtime: 'auto'}, {env})
    expect(sel.kind).toBe('native')
    expect(sel.reason).toContain('`docker info` failed: Cannot connect to the Docker daemon')
    expect(sel.reason).toContain('`podman info` failed')
    expect((await calls()).map((c) => c[0])).toEqual(['info', 'info'])
  })

  it('--runtime overrides iam.yaml and IAM_RUNTIME; native needs no probe', async () => {
    const sel = await selectRuntime({runtime: 'compose'}, {override: 'native', env: {...env, IAM_RUNTIME: 'compose'}})
    expect(sel).toEqual({kind: 'native', reason: 'native runtime requested by --runtime'})
    expect(await calls()).toEqual([])
  })

  it('compose requested without an engine is an environment error (exit 3)', async () => {
    const error = await selectRuntime({runtime: 'compose'}, {env}).catch((e: unknown) => e)
    expect(error).toMatchObject({code: 'NO_CONTAINER_ENGINE', exitCode: 3})
  })

  it('an unknown runtime name is a usage error', async () => {
    await expect(selectRuntime({runtime: 'auto'}, {override: 'kubernetes', env})).rejects.toMatchObject({code: 'RUNTIME_INVALID', exitCode: 2})
  })
})

describe('iam up|status|logs|down --runtime compose through the CLI (stub engine)', () => {
  it('renders, picks compose because the engine answers, waits for health, prints endpoints incl. the mail UI', async () => {
    const {stringify} = await import('yaml')
    const {runIam} = await import('../helpers/cli.js')
    await rm(join(project, 'ory'), {recursive: true, force: true})
    await rm(join(project, '.env'), {force: true})
    await writeFile(join(project, 'iam.yaml'), stringify({version: 1, project: 'demo', runtime: 'auto', ports: config.ports}))
    const {createRequire} = await import('node:module')
    const {pathToFileURL} = await import('node:url')
    const yamlEntry = pathToFileURL(createRequire(import.meta.url).resolve('yaml')).href
    const cliEnv = {...env, STUB_ENGINE_UP: '1', STUB_PS_FROM_COMPOSE: '1', STUB_YAML: yamlEntry}
    const up = await runIam(['up', '--json'], {cwd: project, env: cliEnv})
    expect(up.exitCode, up.stderr + up.stdout).toBe(0)
    expect(up.json).toMatchObject({runtime: 'compose', reason: 'auto: Docker engine 27.3.1 answered', status: {healthy: true}})
    const endpoints = (up.json as {endpoints: {env: string}[]}).endpoints.map((e) => e.env)
    expect(endpoints).toContain('MAIL_UI_URL')
    const status = await runIam(['status', '-o', 'env'], {cwd: project, env: cliEnv})
    expect(status.exitCode, status.output).toBe(0)
    expect(status.stdout).toContain(`MAIL_UI_URL=http://127.0.0.1:${config.ports.mailUi}`)
    const logs = await runIam(['logs', 'kratos', '-n', '5'], {cwd: project, env: cliEnv})
    expect(logs.exitCode, logs.output).toBe(0)
    expect(logs.stdout).toContain('kratos  | line 1')
    const down = await runIam(['down', '--volumes', '--yes'], {cwd: project, env: cliEnv})
    expect(down.exitCode, down.output).toBe(0)
    const subs = (await calls()).filter((c) => c[0] === 'compose').map((c) => c.slice(BASE.length).join(' '))
    expect(subs).toContain('up -d')
    expect(subs).toContain('logs --no-color --tail 5 kratos')
    expect(subs.at(-1)).toBe('down --volumes')
  })
})
