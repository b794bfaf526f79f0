/**
 * `iam smoke` through the built CLI against a REAL native stack made by `iam init` + `iam up` (its upstream running):
 * every route of the default project passes, through the decision API and the gateway, and nothing is left behind; a rule that lets anonymous requests into an admin route is
 * caught; a stack that is not running fails at the first step with the fix.
 */
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseDocument} from 'yaml'

import {KetoClient} from '../../src/ory/keto-client.js'
import {KratosAdminClient} from '../../src/ory/kratos-client.js'
import type {SmokeReport} from '../../src/smoke/index.js'
import {runIam} from '../helpers/cli.js'
import {nativeFixtures} from '../runtime/helpers.js'

const fixtures = nativeFixtures()
afterAll(() => fixtures.cleanup(), 60_000)

const NATIVE = {IAM_RUNTIME: 'native'}

async function smoke(dir: string): Promise<{exitCode: number; report: SmokeReport; text: string}> {
  const r = await runIam(['smoke', '--json', '-C', dir], {env: NATIVE})
  const report = r.json as SmokeReport
  expect(report?.steps, r.stderr + r.stdout).toBeDefined()
  return {exitCode: r.exitCode, report, text: r.stdout + r.stderr}
}

/** Oathkeeper reloads a changed rules file by itself, a moment later: smoke again (5 s at most) until `done`. */
async function smokeUntil(dir: string, done: (exitCode: number) => boolean): ReturnType<typeof smoke> {
  let r = await smoke(dir)
  for (let i = 0; i < 20 && !done(r.exitCode); i++) {
    await new Promise((resolve) => setTimeout(resolve, 250))
    r = await smoke(dir)
  }
  return r
}

const statusOf = (report: SmokeReport): [string, string][] => report.steps.map((s) => [s.id, s.status])

describe('iam smoke (real servers)', () => {
  let dir: string
  let ports: Awaited<ReturnType<typeof fixtures.makeProject>>['ports']

  beforeAll(async () => {
    ;({dir, ports} = await fixtures.makeProject('smoke', await fixtures.startUpstream()))
  })

  it('a stack that is not running: the first step fails with the fix, the rest is skipped, exit 1', async () => {
    const r = await smoke(dir)
    expect(r.exitCode).toBe(1)
    expect(r.report.steps[0]).toMatchObject({id: 'stack', status: 'fail', fix: expect.stringContaining('iam up')})
    expect(r.report.steps.slice(1).every((s) => s.status === 'skipped')).toBe(true)
  })

  it('--junit of a stopped stack: the stack case fails, the rest are skipped; a --junit path that cannot be written (under a file) is exit 2 REPORT_UNWRITABLE', async () => {
    const junit = join(dir, 'smoke-report.xml')
    const r = await runIam(['smoke', '-C', dir, '--junit', junit], {env: NATIVE})
    expect(r.exitCode).toBe(1)
    const xml = await readFile(junit, 'utf8')
    expect(xml).toMatch(/<testcase classname="iam\.smoke" name="stack" time="[\d.]+">\s*<failure message="the stack is not healthy/)
    expect(xml.match(/<skipped /g)?.length).toBe((xml.match(/<testcase /g)?.length ?? 0) - 1)
    const bad = await runIam(['smoke', '-C', dir, '--junit', join(dir, 'iam.yaml', 'r.xml')], {env: NATIVE})
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toContain('REPORT_UNWRITABLE')
    expect(bad.stderr).toContain(join(dir, 'iam.yaml', 'r.xml'))
  })

  it('the default project after iam up: every route behaves as iam.yaml says, each id_token verifies, nothing is left', async () => {
    const up = await runIam(['up', '--json'], {cwd: dir, env: NATIVE, timeoutMs: 180_000})
    expect(up.exitCode, up.output).toBe(0)
    const r = await smoke(dir)
    expect(r.exitCode, JSON.stringify(r.report.steps, null, 2)).toBe(0)
    expect(statusOf(r.report)).toEqual([
      ['stack', 'ok'],
      ['jwks', 'ok'],
      ['login', 'ok'],
      ['route.public', 'ok'],
      ['route.admin', 'ok'],
      ['route.tenant', 'ok'],
      ['route.app', 'ok'],
      ['cleanup', 'ok'],
    ])
    const message = (id: string): string => r.report.steps.find((s) => s.id === id)!.message
    expect(message('route.public')).toMatch(/^\/public and \/public\/smoke: anonymous 200; id_token verified \(kid .+, aud smoke-api\); the gateway at 127\.0\.0\.1:\d+ \(Host 127\.0\.0\.1:\d+\) agreed$/)
    expect(message('route.admin')).toContain('/admin and /admin/smoke: 401 without a session; 403 without a role, 200 with admin; id_token verified')
    expect(message('route.admin')).toContain('403 again after the revoke')
    expect(message('route.tenant')).toMatch(/403 without a tuple, 200 with Tenant:smoke-[0-9a-f]+-tenant#member; id_token verified .*; 403 again after the delete; the gateway at 127\.0\.0\.1:\d+ \(Host 127\.0\.0\.1:\d+\) agreed$/)

    // Nothing left behind: no identity, no Role or Tenant tuple.
    const kratos = new KratosAdminClient({adminUrl: `http://127.0.0.1:${ports.kratosAdmin}`})
    const keto = new KetoClient({readUrl: `http://127.0.0.1:${ports.ketoRead}`})
    try {
      expect(await kratos.listAll()).toEqual([])
      expect(await keto.listAll({namespace: 'Role'})).toEqual([])
      expect(await keto.listAll({namespace: 'Tenant'})).toEqual([])
    } finally {
      await Promise.all([kratos.close(), keto.close()])
    }

    const text = await runIam(['smoke', '-C', dir], {env: NATIVE})
    expect(text.exitCode).toBe(0)
    expect(text.stdout).toMatch(/^ok\s+route\.admin\s+\d+ms\s+\/admin and \/admin\/smoke: 401 without a session/m)
    expect(text.stdout).toContain('smoke: every step ok')
  })

  it('a rule edited to let anonymous requests into /admin is caught: route.admin fails, exit 1', async () => {
    const rulesFile = join(dir, 'ory/oathkeeper/rules.json')
    const original = await readFile(rulesFile, 'utf8')
    const rules = JSON.parse(original) as {id: string; authenticators: unknown[]; authorizer: unknown}[]
    const admin = rules.find((rule) => rule.id === 'admin')!
    admin.authenticators = [{handler: 'anonymous'}]
    admin.authorizer = {handler: 'allow'}
    await writeFile(rulesFile, JSON.stringify(rules, null, 2))
    try {
      const r = await smokeUntil(dir, (exitCode) => exitCode !== 0)
      expect(r.exitCode).toBe(1)
      expect(r.report.steps.find((s) => s.id === 'route.admin')).toMatchObject({
        status: 'fail',
        message: expect.stringMatching(/^route admin: \/admin through the gateway \(127\.0\.0\.1:\d+, Host 127\.0\.0\.1:\d+\) without a session: expected Oathkeeper's 401, the gateway answered 200$/),
        fix: expect.stringContaining('iam render --check'),
      })
      expect(r.report.steps.find((s) => s.id === 'route.public')?.status).toBe('ok')
      expect(r.report.steps.find((s) => s.id === 'cleanup')?.status).toBe('ok')
    } finally {
      await writeFile(rulesFile, original)
      await runIam(['down'], {cwd: dir})
    }
  })

  it('rules that miss the route roots (the pre-v26 pattern /public/<.*>) fail smoke with a fix that works', async () => {
    const up = await runIam(['up', '--json'], {cwd: dir, env: NATIVE, timeoutMs: 180_000})
    expect(up.exitCode, up.output).toBe(0)
    const rulesFile = join(dir, 'ory/oathkeeper/rules.json')
    const rules = JSON.parse(await readFile(rulesFile, 'utf8')) as {id: string; match: {url: string}}[]
    // What iam rendered before Oathkeeper cleaned paths: `/public/` then never arrives, so /public answers 404.
    for (const rule of rules) rule.match.url = rule.match.url.replace(/<\(\?:\/\(\?:\.\*\)\)\?>$/, '/<.*>')
    expect(rules.find((r) => r.id === 'public')!.match.url).toMatch(/\/public\/<\.\*>$/)
    await writeFile(rulesFile, JSON.stringify(rules, null, 2))
    try {
      let r = await smokeUntil(dir, (exitCode) => exitCode !== 0)
      expect(r.exitCode).toBe(1)
      const step = r.report.steps.find((s) => s.id === 'route.public')!
      expect(step).toMatchObject({status: 'fail', message: expect.stringMatching(/^route public: \/public through the gateway .* anonymous: the gateway answered 404.*\(no access rule matched\)$/)})
      expect(step.fix).toContain('iam render --force')
      // The fix, followed: restore the rendered rules; Oathkeeper reloads them by itself, and smoke passes.
      const render = await runIam(['render', '--force', '--dir', dir])
      expect(render.exitCode, render.output).toBe(0)
      r = await smokeUntil(dir, (exitCode) => exitCode === 0)
      expect(r.exitCode, JSON.stringify(r.report.steps, null, 2)).toBe(0)
    } finally {
      await runIam(['down'], {cwd: dir})
    }
  })

  it('password login off (code only): the login code is read from the native mail catcher, every route passes, no mail is left', async () => {
    const project = await fixtures.makeProject('codeonly', await fixtures.startUpstream(), (yaml) => {
      const doc = parseDocument(yaml)
      doc.setIn(['kratos', 'methods'], {password: false, code: true})
      return doc.toString()
    })
    const up = await runIam(['up', '--json'], {cwd: project.dir, env: NATIVE, timeoutMs: 180_000})
    expect(up.exitCode, up.output).toBe(0)
    try {
      const r = await smoke(project.dir)
      expect(r.exitCode, JSON.stringify(r.report.steps, null, 2)).toBe(0)
      expect(r.report.steps.find((s) => s.id === 'login')).toMatchObject({status: 'ok', message: expect.stringContaining('with a one-time code read from the mail catcher')})
      expect(r.report.steps.find((s) => s.id === 'route.admin')).toMatchObject({status: 'ok', message: expect.stringContaining('401 without a session; 403 without a role, 200 with admin')})
      expect(r.report.steps.find((s) => s.id === 'route.public')?.status).toBe('ok')
      const inbox = (await (await fetch(`http://127.0.0.1:${project.ports.mailUi}/api/messages`)).json()) as {total: number}
      expect(inbox.total).toBe(0)
    } finally {
      await runIam(['down'], {cwd: project.dir})
    }
  })
})
