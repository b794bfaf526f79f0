/**
 * `database: postgres` on the real servers: `iam up` runs this machine's PostgreSQL (Debian's `postgresql`, installed
 * by .ci/run), Kratos and Keto migrate into and serve from their own databases on it, `iam status` lists it, its
 * password never shows up in a log, an output or a command line, `iam down` keeps the data and `--volumes` deletes
 * it. Then a second project uses that server as "your own" through `database.urls` (${VAR} from .env), and a wrong
 * port or a wrong password is DATABASE_UNREACHABLE (exit 3) naming the server and host:port/database, not the
 * password, and nothing is reported healthy. `iam smoke` passes on the managed server.
 */
import {readdir, readFile, appendFile} from 'node:fs/promises'
import {join} from 'node:path'

import pg from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {StatusReport} from '../../src/runtime/types.js'
import {parseDotEnv} from '../../src/project/secrets.js'
import {runIam} from '../helpers/cli.js'
import {killProject, nativeFixtures} from './helpers.js'

const fixtures = nativeFixtures()
const projects: string[] = []
afterAll(async () => {
  // --volumes: as root the data lives outside the project folder, under /var/lib/iam/postgres.
  for (const dir of projects) await runIam(['down', '--volumes', '--yes'], {cwd: dir, timeoutMs: 60_000}).catch(() => undefined)
  for (const dir of projects) await killProject(dir)
  await fixtures.cleanup()
}, 120_000)

const EMAIL = 'ada@example.com'
const PASSWORD = 'correct horse battery staple 42'

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({connectionString: url, connectionTimeoutMillis: 5000})
  await client.connect()
  try {
    return (await client.query<T>(sql, params)).rows
  } finally {
    await client.end()
  }
}

describe('database: postgres (real PostgreSQL, Kratos and Keto)', () => {
  let dir: string
  let password: string
  let pgPort: number
  const url = (database: string): string => `postgres://iam:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/${database}?sslmode=disable`

  beforeAll(async () => {
    const upstream = await fixtures.startUpstream()
    const project = await fixtures.makeProject('pg', upstream, (yaml) => yaml.replace(/^database: sqlite$/m, 'database: postgres'))
    dir = project.dir
    projects.push(dir)
    pgPort = project.ports.postgres
    const up = await runIam(['up'], {cwd: dir, timeoutMs: 180_000})
    expect(up.exitCode, up.output).toBe(0)
    password = parseDotEnv(await readFile(join(dir, '.env'), 'utf8')).get('POSTGRES_PASSWORD') ?? ''
    expect(password.length).toBeGreaterThanOrEqual(32)
  }, 240_000)

  it('iam up runs PostgreSQL first; status lists it; Kratos and Keto keep their data in their own databases', async () => {
    const status = await runIam(['status', '--json'], {cwd: dir})
    expect(status.exitCode, status.output).toBe(0)
    const services = (status.json as StatusReport).services
    expect(services[0]).toMatchObject({name: 'postgres', state: 'ready', ports: {postgres: pgPort}})
    expect(services[0]!.version).toMatch(/^PostgreSQL \d+/)
    const env = await runIam(['status', '-o', 'env'], {cwd: dir})
    expect(env.stdout).toContain(`POSTGRES_URL=postgres://127.0.0.1:${pgPort}`)

    const created = await runIam(['identities', 'create', '--email', EMAIL, '--password-stdin', '--json'], {cwd: dir, input: `${PASSWORD}\n`})
    expect(created.exitCode, created.output).toBe(0)
    const id = (created.json as {id: string}).id
    const tuple = await runIam(['tuples', 'add', `Tenant:acme#member@${id}`], {cwd: dir})
    expect(tuple.exitCode, tuple.output).toBe(0)

    expect(await query(url('kratos'), 'SELECT id FROM identities')).toEqual([{id}])
    expect((await query(url('keto'), "SELECT object FROM keto_relation_tuples WHERE namespace = 'Tenant'")).length).toBe(1)
    // Nothing of theirs is in SQLite files.
    expect((await readdir(join(dir, '.iam', 'data'))).filter((f) => f.endsWith('.db'))).toEqual([])
  })

  it('iam smoke passes on the stack served from PostgreSQL', async () => {
    const smoke = await runIam(['smoke', '--json'], {cwd: dir, timeoutMs: 120_000})
    expect(smoke.exitCode, smoke.output).toBe(0)
    expect(smoke.output).not.toContain(password)
  }, 180_000)

  it('the password is in no log, no iam output and no command line', async () => {
    const logsDir = join(dir, '.iam', 'logs')
    for (const file of await readdir(logsDir)) expect(await readFile(join(logsDir, file), 'utf8'), file).not.toContain(password)
    for (const args of [['logs'], ['logs', '--json'], ['status', '--json'], ['status', '-o', 'env'], ['doctor', '--json']]) {
      const r = await runIam(args, {cwd: dir, timeoutMs: 60_000})
      expect(r.output, args.join(' ')).not.toContain(password)
    }
    for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
      expect(cmdline, `process ${pid}`).not.toContain(password)
    }
  })

  it('iam down keeps the data (up again: the identity is there)', async () => {
    const down = await runIam(['down'], {cwd: dir, timeoutMs: 60_000})
    expect(down.exitCode, down.output).toBe(0)
    expect(down.stdout).toContain('postgres')
    const up = await runIam(['up'], {cwd: dir, timeoutMs: 180_000})
    expect(up.exitCode, up.output).toBe(0)
    const list = await runIam(['identities', 'list', '--json'], {cwd: dir})
    expect(JSON.stringify(list.json)).toContain(EMAIL)
  }, 240_000)

  it('your own server (database.urls from .env): migrated into and served from; a wrong port or password is DATABASE_UNREACHABLE naming the database, not the password; nothing healthy', async () => {
    for (const name of ['own_kratos', 'own_keto']) await query(url('postgres'), `CREATE DATABASE ${name}`)
    const upstream = await fixtures.startUpstream()
    const own = await fixtures.makeProject('pgown', upstream, (yaml) =>
      yaml.replace(/^database: sqlite$/m, 'database: {engine: postgres, urls: {kratos: "${OWN_KRATOS_DSN}", keto: "${OWN_KETO_DSN}"}}'),
    )
    projects.push(own.dir)
    await appendFile(join(own.dir, '.env'), `OWN_KRATOS_DSN=${url('own_kratos')}\nOWN_KETO_DSN=${url('own_keto')}\n`)
    const up = await runIam(['up'], {cwd: own.dir, timeoutMs: 180_000})
    expect(up.exitCode, up.output).toBe(0)
    expect(up.output).not.toContain(password)
    const status = (await runIam(['status', '--json'], {cwd: own.dir})).json as StatusReport
    expect(status.services.map((s) => s.name)).not.toContain('postgres')
    const created = await runIam(['identities', 'create', '--email', 'own@example.com', '--password-stdin'], {cwd: own.dir, input: `${PASSWORD}\n`})
    expect(created.exitCode, created.output).toBe(0)
    expect((await query(url('own_kratos'), 'SELECT count(*)::int AS n FROM identities'))[0]).toEqual({n: 1})
    expect((await query(url('kratos'), 'SELECT count(*)::int AS n FROM identities'))[0]).toEqual({n: 1})
    const down = await runIam(['down'], {cwd: own.dir, timeoutMs: 60_000})
    expect(down.exitCode, down.output).toBe(0)

    const wrongPort = pgPort === 65_535 ? pgPort - 1 : pgPort + 1
    await appendFile(join(own.dir, '.env'), `OWN_KRATOS_DSN=${url('own_kratos').replace(`:${pgPort}/`, `:${wrongPort}/`)}\n`)
    const refused = await runIam(['up', '--json'], {cwd: own.dir, timeoutMs: 120_000})
    expect(refused.exitCode, refused.output).toBe(3)
    expect(refused.output).toContain('DATABASE_UNREACHABLE')
    expect(refused.output).toContain(`kratos's database at 127.0.0.1:${wrongPort}/own_kratos`)
    expect(refused.output).not.toContain(password)
    const doctor = await runIam(['doctor', '--json'], {cwd: own.dir, timeoutMs: 60_000})
    expect(doctor.exitCode).toBe(1)
    const checks = (doctor.json as {checks: {id: string; status: string; message: string}[]}).checks
    expect(checks.find((c) => c.id === 'database.kratos')).toMatchObject({status: 'fail', message: expect.stringContaining(`127.0.0.1:${wrongPort}/own_kratos`)})
    expect(checks.find((c) => c.id === 'database.keto')).toMatchObject({status: 'ok'})
    expect(doctor.output).not.toContain(password)

    // A wrong password: refused before anything migrates, the server named, neither password shown, nothing healthy.
    const wrong = 'wrong-Pa55word-xyz'
    await appendFile(
      join(own.dir, '.env'),
      `OWN_KRATOS_DSN=${url('own_kratos')}\nOWN_KETO_DSN=${url('own_keto').replace(`:${encodeURIComponent(password)}@`, `:${wrong}@`)}\n`,
    )
    const denied = await runIam(['up', '--json'], {cwd: own.dir, timeoutMs: 120_000})
    expect(denied.exitCode, denied.output).toBe(3)
    expect(denied.output).toContain('DATABASE_UNREACHABLE')
    expect(denied.output).toContain(`keto's database at 127.0.0.1:${pgPort}/own_keto`)
    expect(denied.output).not.toContain(password)
    expect(denied.output).not.toContain(wrong)
    expect((await runIam(['status', '--json'], {cwd: own.dir})).json).toMatchObject({healthy: false})
  }, 300_000)

  it('without the server binaries: POSTGRES_NOT_INSTALLED (exit 3) naming the package, nothing started; doctor says the same', async () => {
    const upstream = await fixtures.startUpstream()
    const bare = await fixtures.makeProject('pgbare', upstream, (yaml) => yaml.replace(/^database: sqlite$/m, 'database: postgres'))
    projects.push(bare.dir)
    const env = {IAM_POSTGRES_BINDIR: join(bare.dir, 'no-such-bin')}
    const up = await runIam(['up'], {cwd: bare.dir, env, timeoutMs: 120_000})
    expect(up.exitCode, up.output).toBe(3)
    expect(up.output).toContain('POSTGRES_NOT_INSTALLED')
    expect(up.output).toContain('apt-get install postgresql')
    expect((await runIam(['status', '--json'], {cwd: bare.dir})).json).toMatchObject({healthy: false})
    const doctor = await runIam(['doctor', '--json'], {cwd: bare.dir, env, timeoutMs: 60_000})
    expect((doctor.json as {checks: {id: string; status: string}[]}).checks.find((c) => c.id === 'database')).toMatchObject({status: 'fail'})
  }, 180_000)

  it('iam down --volumes deletes the data: the next up starts from an empty database', async () => {
    const down = await runIam(['down', '--volumes', '--yes'], {cwd: dir, timeoutMs: 60_000})
    expect(down.exitCode, down.output).toBe(0)
    const up = await runIam(['up'], {cwd: dir, timeoutMs: 180_000})
    expect(up.exitCode, up.output).toBe(0)
    password = parseDotEnv(await readFile(join(dir, '.env'), 'utf8')).get('POSTGRES_PASSWORD') ?? ''
    expect(await query(url('kratos'), 'SELECT id FROM identities')).toEqual([])
  }, 240_000)
})
