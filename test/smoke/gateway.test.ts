/**
 * `iam smoke` takes the real path (issue 12): the built CLI against a REAL native stack whose route upstream is NOT
 * running. Every route's probes also go through the gateway's listening port with the client's Host: an upstream
 * that is not running is a warning naming it (never ok; exit 1 under --strict); `--upstream-stub` stands in for it
 * and checks the id_token it receives; `--junit` is read back with an XML parser; `$GITHUB_STEP_SUMMARY` gets a table;
 * rules rendered for another port (a stale rules.json, reloaded by the running gateway) fail the route.
 */
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {XMLParser, XMLValidator} from 'fast-xml-parser'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {SmokeReport} from '../../src/smoke/index.js'
import {isListening} from '../../src/smoke/upstream-stub.js'
import {getFreePort} from '../harness/ports.js'
import {runIam} from '../helpers/cli.js'
import {nativeFixtures} from '../runtime/helpers.js'

const fixtures = nativeFixtures()
const NATIVE = {IAM_RUNTIME: 'native'}
const ROUTES = ['route.public', 'route.admin', 'route.tenant', 'route.app']

let out: string
afterAll(async () => {
  await fixtures.cleanup()
  await rm(out, {recursive: true, force: true})
}, 60_000)

async function smoke(dir: string, args: string[] = [], env: Record<string, string> = {}): Promise<{exitCode: number; report: SmokeReport; output: string}> {
  const r = await runIam(['smoke', '--json', '-C', dir, ...args], {env: {...NATIVE, ...env}})
  const report = r.json as SmokeReport
  expect(report?.steps, r.stderr + r.stdout).toBeDefined()
  return {exitCode: r.exitCode, report, output: r.stdout + r.stderr}
}

const step = (report: SmokeReport, id: string): SmokeReport['steps'][number] => report.steps.find((s) => s.id === id)!

describe('iam smoke through the gateway (real servers, upstream not running)', () => {
  let dir: string
  let upstream: string

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'iam-smoke-out-'))
    const upstreamPort = await getFreePort()
    upstream = `http://127.0.0.1:${upstreamPort}`
    ;({dir} = await fixtures.makeProject('gateway', upstreamPort))
    const up = await runIam(['up', '--json'], {cwd: dir, env: NATIVE, timeoutMs: 180_000})
    expect(up.exitCode, up.output).toBe(0)
  }, 240_000)

  it('an upstream that is not running is a warning naming it, never ok; --junit and $GITHUB_STEP_SUMMARY report every step', async () => {
    const junit = join(out, 'report.xml')
    const summary = join(out, 'summary.md')
    await writeFile(summary, '# earlier step\n')
    const r = await smoke(dir, ['--junit', junit], {GITHUB_STEP_SUMMARY: summary})
    expect(r.exitCode, JSON.stringify(r.report.steps, null, 2)).toBe(0)
    expect(r.report.ok).toBe(true)
    for (const id of ROUTES) {
      expect(step(r.report, id), id).toMatchObject({status: 'warn', message: expect.stringContaining(`the upstream ${upstream} is not answering (the rule and the auth worked)`), fix: expect.stringContaining('--upstream-stub')})
    }
    // The checks the gateway could make still ran: the admin route refused without a session, and its role was granted.
    expect(step(r.report, 'route.admin').message).toContain('401 without a session; 403 without a role, 200 with admin')

    // JUnit: a real XML parser reads one testcase per step, names unique; a warning is a passed case carrying the text.
    const xml = await readFile(junit, 'utf8')
    expect(XMLValidator.validate(xml)).toBe(true)
    const doc = new XMLParser({ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'testcase'}).parse(xml) as {
      testsuites: {tests: string; failures: string; testsuite: {testcase: {name: string; failure?: unknown; 'system-out'?: string}[]}}
    }
    const cases = doc.testsuites.testsuite.testcase
    expect(cases.map((c) => c.name)).toEqual(r.report.steps.map((s) => s.id))
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length)
    expect(doc.testsuites.tests).toBe(String(r.report.steps.length))
    expect(doc.testsuites.failures).toBe('0')
    const publicCase = cases.find((c) => c.name === 'route.public')!
    expect(publicCase.failure).toBeUndefined()
    expect(publicCase['system-out']).toContain(`warning: route public:`)
    expect(publicCase['system-out']).toContain(upstream)

    // The step summary is appended (an earlier step's text stays), one table row per step.
    const md = await readFile(summary, 'utf8')
    expect(md.startsWith('# earlier step\n')).toBe(true)
    expect(md).toContain('| status | step | message |')
    for (const s of r.report.steps) expect(md).toMatch(new RegExp(`^\\| [^|]+ \\| \`${s.id.replace('.', '\\.')}\` \\|`, 'm'))
    expect(md).toMatch(/^\| ⚠️ warning \| `route\.public` \| .*not answering/m)

    // --strict: the same warnings fail the run, and are failures in the JUnit report.
    const strict = await smoke(dir, ['--strict', '--junit', junit])
    expect(strict.exitCode).toBe(1)
    expect(strict.report.ok).toBe(false)
    const strictXml = new XMLParser({ignoreAttributes: false, attributeNamePrefix: ''}).parse(await readFile(junit, 'utf8')) as {testsuites: {failures: string}}
    expect(strictXml.testsuites.failures).toBe('4')
  })

  it('--upstream-stub: a throwaway server stands in for the upstream, receives an id_token for the route audience, and is gone after', async () => {
    const r = await smoke(dir, ['--upstream-stub'])
    expect(r.exitCode, JSON.stringify(r.report.steps, null, 2)).toBe(0)
    expect(r.report.stubbed).toEqual([upstream])
    for (const id of ROUTES) expect(step(r.report, id).status, id).toBe('ok')
    expect(step(r.report, 'route.public').message).toContain(`the stub upstream at ${upstream} received an id_token (iss `)
    expect(step(r.report, 'route.public').message).toContain('aud gateway-api)')
    // A session route: the stub got the token of the throwaway identity (its subject checked) once the role was granted.
    expect(step(r.report, 'route.admin').message).toContain(`the stub upstream at ${upstream} received an id_token (iss `)
    expect(step(r.report, 'route.admin').message).toMatch(/the gateway at 127\.0\.0\.1:\d+ \(Host 127\.0\.0\.1:\d+\) agreed/)
    // Never a token in the report.
    expect(r.output).not.toMatch(/eyJ[\w-]+\.eyJ/)
    const port = Number(new URL(upstream).port)
    expect(await isListening('127.0.0.1', port, 1000)).toBe(false)

    const text = await runIam(['smoke', '--upstream-stub', '-C', dir], {env: NATIVE})
    expect(text.exitCode, text.output).toBe(0)
    expect(text.stdout).toContain('smoke: every step ok (stub upstream(s): ')
  })

  it('rules rendered for another gateway port (a stale rules.json the running gateway reloaded) fail the route through the gateway', async () => {
    const rulesFile = join(dir, 'ory/oathkeeper/rules.json')
    const original = await readFile(rulesFile, 'utf8')
    const rules = JSON.parse(original) as {id: string; match: {url: string}}[]
    const otherPort = await getFreePort()
    const publicRule = rules.find((rule) => rule.id === 'public')!
    publicRule.match.url = publicRule.match.url.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${otherPort}`)
    await writeFile(rulesFile, JSON.stringify(rules, null, 2))
    try {
      // Oathkeeper reloads a changed rules file by itself, a moment later.
      let r = await smoke(dir, ['--upstream-stub'])
      for (let i = 0; i < 20 && r.exitCode === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 250))
        r = await smoke(dir, ['--upstream-stub'])
      }
      expect(r.exitCode).toBe(1)
      const failed = step(r.report, 'route.public')
      expect(failed).toMatchObject({status: 'fail', message: expect.stringMatching(/^route public: \/public through the gateway \(127\.0\.0\.1:\d+, Host 127\.0\.0\.1:\d+\) anonymous: the gateway answered 404.*\(no access rule matched\)$/)})
      expect(failed.fix).toContain('iam render --force')
      expect(step(r.report, 'route.admin').status).toBe('ok')
      expect(step(r.report, 'cleanup').status).toBe('ok')
      // JUnit: the failure carries the message and the fix.
      const junit = join(out, 'fail.xml')
      r = await smoke(dir, ['--upstream-stub', '--junit', junit])
      const doc = new XMLParser({ignoreAttributes: false, attributeNamePrefix: '', textNodeName: 'text', isArray: (name) => name === 'testcase'}).parse(await readFile(junit, 'utf8')) as {
        testsuites: {testsuite: {testcase: {name: string; failure?: {message: string; text: string}}[]}}
      }
      const failure = doc.testsuites.testsuite.testcase.find((c) => c.name === 'route.public')!.failure!
      expect(failure.message).toContain('no access rule matched')
      expect(failure.text).toContain('fix: ')
      expect(failure.text).toContain('iam render --force')
    } finally {
      await writeFile(rulesFile, original)
      await runIam(['down'], {cwd: dir})
    }
  })
})
