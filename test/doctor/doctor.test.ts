/**
 * `iam doctor` through the built CLI, on projects made by `iam init` and the REAL pinned binaries: a good project
 * passes; each problem a user meets (binaries missing, secrets readable by others, .gitignore missing, a hand edit,
 * a taken port, a broken iam.yaml, a crashed service) is named with its fix and makes the exit code 1.
 */
import {createServer} from 'node:http'
import {chmod, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {DoctorCheck, DoctorReport} from '../../src/doctor/index.js'
import {readPidRecords} from '../../src/runtime/pidfile.js'
import {runIam} from '../helpers/cli.js'
import {nativeFixtures} from '../runtime/helpers.js'

const fixtures = nativeFixtures()
const temps: string[] = []
afterAll(async () => {
  await fixtures.cleanup()
  for (const dir of temps) await rm(dir, {recursive: true, force: true})
}, 60_000)

const NATIVE = {IAM_RUNTIME: 'native'}

async function doctor(dir: string, env: NodeJS.ProcessEnv = {}): Promise<{exitCode: number; report: DoctorReport; check: (id: string) => DoctorCheck | undefined; text: string}> {
  const r = await runIam(['doctor', '--json', '-C', dir], {env: {...NATIVE, ...env}})
  const report = r.json as DoctorReport
  expect(report?.checks, r.stderr + r.stdout).toBeDefined()
  return {exitCode: r.exitCode, report, check: (id) => report.checks.find((c) => c.id === id), text: r.stdout + r.stderr}
}

describe('iam doctor (real binaries)', () => {
  let upstream: number

  beforeAll(async () => {
    upstream = await fixtures.startUpstream()
  })

  it('a fresh project on a machine with the pinned binaries: every check ok, exit 0, no secret printed', async () => {
    const {dir} = await fixtures.makeProject('good', upstream)
    // makeProject moved every port in iam.yaml: until rendered, doctor says the rendered files are stale (a warning).
    const stale = await doctor(dir)
    expect(stale.check('project.render')).toMatchObject({status: 'warn', fix: expect.stringContaining('iam render')})
    expect((await runIam(['render', '-C', dir])).exitCode).toBe(0)
    const r = await doctor(dir)
    expect(r.exitCode, JSON.stringify(r.report.checks, null, 2)).toBe(0)
    expect(r.report.ok).toBe(true)
    expect(r.report.runtime).toBe('native')
    expect(r.report.checks.map((c) => [c.id, c.status])).toEqual([
      ['node', 'ok'],
      ['project.config', 'ok'],
      ['runtime', 'ok'],
      ['binary.oathkeeper', 'ok'],
      ['binary.keto', 'ok'],
      ['binary.kratos', 'ok'],
      ['project.render', 'ok'],
      ['project.secrets', 'ok'],
      ['project.keys', 'ok'],
      ['project.state', 'ok'],
      ['project.tempfiles', 'ok'],
      ['project.gitignore', 'ok'],
      ['project.ports', 'ok'],
    ])
    expect(r.check('binary.kratos')?.message).toContain('kratos v26.2.0')
    const secret = /ROLE_WEBHOOK_SECRET=(.+)/.exec(await readFile(join(dir, '.env'), 'utf8'))?.[1]
    expect(secret).toBeTruthy()
    expect(r.text).not.toContain(secret)
    const text = await runIam(['doctor', '-C', dir], {env: NATIVE})
    expect(text.exitCode).toBe(0)
    expect(text.stdout).toMatch(/^ok\s+binary\.keto\s+keto v26\.2\.0 at /m)
    expect(text.stdout).toContain('ready for `iam up`')
  })

  it('secrets readable by others, no .gitignore, a hand-edited config, a taken port: each named with its fix, exit 1', async () => {
    const {dir, ports} = await fixtures.makeProject('broken', upstream)
    await chmod(join(dir, '.env'), 0o644)
    await rm(join(dir, '.gitignore'))
    await writeFile(join(dir, 'ory/keto/keto.yml'), `${await readFile(join(dir, 'ory/keto/keto.yml'), 'utf8')}\n# tweaked by hand\n`)
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(ports.kratosAdmin, '127.0.0.1', resolve))
    try {
      const r = await doctor(dir)
      expect(r.exitCode).toBe(1)
      expect(r.report.ok).toBe(false)
      expect(r.check('project.secrets')).toMatchObject({status: 'fail', message: '.env is readable by others (mode 0644)', fix: 'chmod 600 .env'})
      expect(r.check('project.gitignore')).toMatchObject({status: 'fail', fix: expect.stringContaining('.env ory/oathkeeper/jwks.json .iam/')})
      expect(r.check('project.render')).toMatchObject({status: 'warn', message: expect.stringContaining('ory/keto/keto.yml (hand-edited)'), fix: expect.stringContaining('iam render --force')})
      expect(r.check('project.ports')).toMatchObject({status: 'fail', message: expect.stringContaining(`port ${ports.kratosAdmin} (kratos admin) is in use by pid ${process.pid}`)})
      // Doctor only reads: the problems are still there.
      expect(((await import('node:fs')).statSync(join(dir, '.env')).mode & 0o777).toString(8)).toBe('644')
    } finally {
      blocker.close()
    }
  })

  it('no pinned binaries (empty iam cache, none on PATH): each binary fails with the install command, exit 1', async () => {
    const {dir} = await fixtures.makeProject('nobin', upstream)
    const home = await mkdtemp(join(tmpdir(), 'iam-doctor-home-'))
    temps.push(home)
    // PATH keeps only node's own directory: no Ory binary, and (usually) no go.
    const r = await doctor(dir, {IAM_HOME: home, PATH: dirname(process.execPath)})
    expect(r.exitCode).toBe(1)
    for (const server of ['oathkeeper', 'keto', 'kratos']) {
      expect(r.check(`binary.${server}`)).toMatchObject({status: 'fail', message: expect.stringContaining('is not installed'), fix: expect.stringContaining(`iam install --from-source ${server}`)})
    }
    expect(r.check('go')?.status).toMatch(/^(ok|warn)$/)
  })

  it('a broken iam.yaml: project.config fails with the position, exit 1', async () => {
    const {dir} = await fixtures.makeProject('badyaml', upstream)
    await writeFile(join(dir, 'iam.yaml'), `${await readFile(join(dir, 'iam.yaml'), 'utf8')}\nruntmie: native\n`)
    const r = await doctor(dir)
    expect(r.exitCode).toBe(1)
    expect(r.check('project.config')).toMatchObject({status: 'fail', message: expect.stringMatching(/iam\.yaml:\d+:\d+: .*runtmie/)})
  })

  it('a running stack: project.stack instead of ports; a crashed service fails it', async () => {
    const {dir} = await fixtures.makeProject('running', upstream)
    const up = await runIam(['up', '--json'], {cwd: dir, env: NATIVE, timeoutMs: 180_000})
    expect(up.exitCode, up.output).toBe(0)
    try {
      const healthy = await doctor(dir)
      expect(healthy.exitCode, JSON.stringify(healthy.report.checks)).toBe(0)
      expect(healthy.check('project.stack')).toMatchObject({status: 'ok', message: expect.stringContaining('every service ready')})
      expect(healthy.check('project.ports')).toBeUndefined()
      // Every file the stack wrote under .iam (Kratos' and Keto's SQLite files included) is the owner's alone.
      expect(healthy.check('project.state')).toMatchObject({status: 'ok', message: expect.stringContaining('folders 0700, databases and logs 0600')})

      // A database made readable by others, and a key write interrupted before its rename: named with the fix.
      await chmod(join(dir, '.iam/data/kratos.db'), 0o644)
      await writeFile(join(dir, 'ory/oathkeeper/.jwks.json.99999999-0123456789ab.tmp'), '{}', {mode: 0o600})
      const exposed = await doctor(dir)
      expect(exposed.exitCode).toBe(1)
      expect(exposed.check('project.state')).toMatchObject({status: 'fail', message: expect.stringContaining('.iam/data/kratos.db'), fix: 'chmod -R go-rwx .iam'})
      expect(exposed.check('project.tempfiles')).toMatchObject({status: 'warn', message: expect.stringContaining('ory/oathkeeper/.jwks.json.99999999-0123456789ab.tmp')})
      await chmod(join(dir, '.iam/data/kratos.db'), 0o600)
      await rm(join(dir, 'ory/oathkeeper/.jwks.json.99999999-0123456789ab.tmp'))

      const keto = (await readPidRecords(join(dir, '.iam', 'run'))).find((record) => record.service === 'keto')
      process.kill(keto!.pid, 'SIGKILL')
      await new Promise((resolve) => setTimeout(resolve, 300))
      const crashed = await doctor(dir)
      expect(crashed.exitCode).toBe(1)
      expect(crashed.check('project.stack')).toMatchObject({status: 'fail', message: expect.stringContaining('keto is crashed'), fix: expect.stringContaining('iam logs')})
    } finally {
      await runIam(['down'], {cwd: dir})
    }
    const after = await doctor(dir)
    expect(after.check('project.ports')).toMatchObject({status: 'ok'})
  })
})

describe('iam doctor outside a project', () => {
  it('refuses as `iam up` does: CONFIG_NOT_FOUND naming the directory and the fix, exit 2 (not "ready")', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'iam-doctor-empty-'))
    temps.push(empty)
    const json = await runIam(['doctor', '--json', '-C', empty], {env: NATIVE})
    expect(json.exitCode, json.output).toBe(2)
    const error = (json.json as {error: {code: string; message: string; suggestion: string}}).error
    expect(error.code).toBe('CONFIG_NOT_FOUND')
    expect(error.message).toContain(`No iam.yaml in ${empty}`)
    expect(error.suggestion).toMatch(/iam init.*-C <dir>/)
    const up = await runIam(['up', '--json'], {cwd: empty, env: NATIVE})
    expect([up.exitCode, (up.json as {error: {code: string}}).error.code]).toEqual([2, 'CONFIG_NOT_FOUND'])
    const text = await runIam(['doctor'], {cwd: empty, env: NATIVE})
    expect(text.exitCode).toBe(2)
    expect(text.stderr).toContain('error [CONFIG_NOT_FOUND]')
    expect(text.stdout).not.toContain('ready for `iam up`')
  })
})

describe('checkNode', () => {
  it('accepts the engines range of package.json (>=20.18) and names the fix below it', async () => {
    const {checkNode} = await import('../../src/doctor/index.js')
    expect(checkNode('20.18.0').status).toBe('ok')
    expect(checkNode('22.1.0').status).toBe('ok')
    expect(checkNode('20.17.9')).toMatchObject({status: 'fail', fix: 'Install Node.js 20.18 or newer.'})
    expect(checkNode('18.20.0').status).toBe('fail')
  })
})
