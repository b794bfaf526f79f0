/**
 * `iam doctor --production` through the built CLI: the starter project fails for the right reasons, following the
 * fixes its output names makes it pass, and git, rules and logs problems are each named with file, key and fix.
 */
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseDocument} from 'yaml'

import type {ProductionCheck} from '../../src/doctor/production.js'
import {runIam} from '../helpers/cli.js'

let root: string
let dir: string
afterAll(() => rm(root, {recursive: true, force: true}))

/** The project outside "the temp folder": the CLI's TMPDIR points elsewhere. */
const NOT_TEMP = {TMPDIR: '/nonexistent-iam-test-tmp'}

async function production(env: NodeJS.ProcessEnv = {}): Promise<{exitCode: number; checks: ProductionCheck[]; failed: string[]; text: string}> {
  const r = await runIam(['doctor', '--production', '--json', '-C', dir], {env})
  const checks = (r.json as {checks: ProductionCheck[]} | undefined)?.checks
  expect(checks, r.output).toBeDefined()
  return {exitCode: r.exitCode, checks: checks!, failed: [...new Set(checks!.filter((c) => c.status === 'fail').map((c) => c.id))], text: r.output}
}

const git = (...args: string[]) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], {cwd: dir})

describe('iam doctor --production', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'iam-production-'))
    dir = join(root, 'shop')
    const init = await runIam(['init', dir, '--yes', '--runtime', 'native'])
    expect(init.exitCode, init.output).toBe(0)
  })

  it('a fresh project fails for the dev-mode reasons, each with file, key and fix; no secret printed', async () => {
    const r = await production()
    expect(r.exitCode).toBe(1)
    expect(r.failed).toEqual(['production.https', 'production.kratos-dev', 'production.smtp', 'production.database'])
    const https = r.checks.filter((c) => c.id === 'production.https').map((c) => c.key)
    expect(https).toEqual(['gateway.publicUrl', 'kratos.publicUrl', 'kratos.uiUrl', 'tokens.issuer', 'kratos.allowedReturnUrls[0]'])
    expect(r.checks.filter((c) => c.id === 'production.smtp').map((c) => c.key)).toEqual(['kratos.smtpUrl', 'kratos.smtpUrl', 'kratos.fromAddress'])
    for (const c of r.checks.filter((c) => c.status === 'fail')) {
      expect(c.file, c.id).toBeTruthy()
      expect(c.fix, c.id).toBeTruthy()
    }
    // Every check is listed, the passing ones too.
    expect(new Set(r.checks.map((c) => c.id))).toEqual(
      new Set(['production.https', 'production.kratos-dev', 'production.cookies', 'production.logs', 'production.admin-apis', 'production.rules', 'production.smtp', 'production.secrets', 'production.git', 'production.database']),
    )
    const env = await readFile(join(dir, '.env'), 'utf8')
    for (const value of env.split('\n').map((l) => l.split('=')[1]).filter((v): v is string => Boolean(v && v.length > 8))) expect(r.text).not.toContain(value)
  })

  it('after the fixes the output names, it passes (SQLite stays a warning); the Kratos launch drops --dev', async () => {
    const doc = parseDocument(await readFile(join(dir, 'iam.yaml'), 'utf8'))
    doc.setIn(['gateway', 'publicUrl'], 'https://api.acme-shop.io')
    doc.setIn(['kratos', 'publicUrl'], 'https://auth.acme-shop.io/')
    doc.setIn(['kratos', 'uiUrl'], 'https://app.acme-shop.io/')
    doc.setIn(['kratos', 'allowedReturnUrls'], ['https://app.acme-shop.io/'])
    doc.setIn(['kratos', 'smtpUrl'], 'smtps://mailer:${SMTP_PASSWORD}@smtp.acme-shop.io:465/')
    doc.setIn(['kratos', 'fromAddress'], 'no-reply@acme-shop.io')
    await writeFile(join(dir, 'iam.yaml'), doc.toString())
    const render = await runIam(['render', '-C', dir])
    expect(render.exitCode, render.output).toBe(0)
    const r = await production(NOT_TEMP)
    expect(r.exitCode, JSON.stringify(r.checks.filter((c) => c.status !== 'ok'), null, 2)).toBe(0)
    expect(r.checks.filter((c) => c.status !== 'ok').map((c) => [c.id, c.status])).toEqual([['production.database', 'warn']])
    // The matches and the issuer followed the gateway's public URL.
    expect(await readFile(join(dir, 'ory/oathkeeper/rules.json'), 'utf8')).toContain('https://api.acme-shop.io/public')
    expect(await readFile(join(dir, 'ory/compose.yaml'), 'utf8')).not.toContain("'--dev'")
    expect(await readFile(join(dir, 'ory/compose.yaml'), 'utf8')).not.toMatch(/- --dev$/m)
  })

  it('git: a tracked .env, then one only in history, each named with the fix (rotate)', async () => {
    await git('init', '-q')
    await git('add', '-A')
    await git('commit', '-qm', 'init')
    expect((await production(NOT_TEMP)).failed).toEqual([])
    await git('add', '-f', '.env')
    await git('commit', '-qm', 'oops')
    const tracked = await production(NOT_TEMP)
    expect(tracked.checks.find((c) => c.id === 'production.git')).toMatchObject({status: 'fail', file: '.env', message: '.env is tracked by git', fix: expect.stringContaining('git rm --cached .env')})
    await git('rm', '-q', '--cached', '.env')
    await git('commit', '-qm', 'untrack')
    const history = await production(NOT_TEMP)
    expect(history.checks.find((c) => c.id === 'production.git')).toMatchObject({status: 'fail', file: '.env', message: '.env is in the git history', fix: expect.stringContaining('Rotate')})
  })

  it('a hand-made allow-all rule, leaked log values and a weak, reused secret are each named', async () => {
    const rulesPath = join(dir, 'ory/oathkeeper/rules.json')
    const rules = JSON.parse(await readFile(rulesPath, 'utf8')) as {id: string; authenticators: {handler: string}[]; authorizer: {handler: string}}[]
    const admin = rules.find((r) => r.id === 'admin')!
    admin.authenticators = [{handler: 'noop'}]
    admin.authorizer = {handler: 'allow'}
    await writeFile(rulesPath, JSON.stringify(rules, null, 2))
    const kratosPath = join(dir, 'ory/kratos/kratos.yml')
    await writeFile(kratosPath, `${await readFile(kratosPath, 'utf8')}log:\n  leak_sensitive_values: true\n  level: debug\n`)
    const envPath = join(dir, '.env')
    const env = await readFile(envPath, 'utf8')
    const cookie = /^KRATOS_SECRETS_COOKIE=(.*)$/m.exec(env)![1]!
    await writeFile(envPath, env.replace(/^KRATOS_SECRETS_CIPHER=.*$/m, `KRATOS_SECRETS_CIPHER=${cookie}`).replace(/^ROLE_WEBHOOK_SECRET=.*$/m, 'ROLE_WEBHOOK_SECRET=changeme'), {mode: 0o600})
    const r = await production(NOT_TEMP)
    expect(r.exitCode).toBe(1)
    expect(r.checks.find((c) => c.id === 'production.rules')).toMatchObject({status: 'fail', file: 'ory/oathkeeper/rules.json', key: expect.stringContaining('(admin)')})
    expect(r.checks.filter((c) => c.id === 'production.logs').map((c) => c.key)).toEqual(['log.leak_sensitive_values', 'log.level'])
    expect(r.checks.filter((c) => c.id === 'production.secrets').map((c) => [c.key, c.message])).toEqual([
      ['KRATOS_SECRETS_CIPHER', 'KRATOS_SECRETS_CIPHER has the same value as KRATOS_SECRETS_COOKIE: one leak would expose both'],
      ['ROLE_WEBHOOK_SECRET', 'ROLE_WEBHOOK_SECRET is 8 characters; at least 32 random ones are needed'],
    ])
    expect(r.text).not.toContain(cookie)
  })
})
