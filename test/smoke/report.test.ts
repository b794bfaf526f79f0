/**
 * The pure parts of `iam smoke`'s reports: how a gateway answer is judged (Oathkeeper's own refusals told from the
 * upstream's answers), the JUnit XML (read back with a real XML parser, whatever the messages hold) and the GitHub
 * step summary table.
 */
import {XMLParser, XMLValidator} from 'fast-xml-parser'
import {describe, expect, it} from 'vitest'

import {classifyGatewayAnswer, type VerdictContext} from '../../src/smoke/gateway-probe.js'
import type {SmokeReport} from '../../src/smoke/index.js'
import {renderJunit} from '../../src/smoke/junit.js'
import {renderStepSummary} from '../../src/smoke/step-summary.js'

const c: VerdictContext = {routeId: 'public', upstream: 'http://127.0.0.1:8080', gatewayPort: 4455, url: new URL('http://api.example.com/public/x'), what: 'anonymous'}

describe('classifyGatewayAnswer', () => {
  it("Oathkeeper's 404 (no rule) fails the route with the fix; the upstream's own 404 is an answer", () => {
    const noRule = classifyGatewayAnswer({status: 404, oathkeeperError: 'Requested url does not match any rules'}, 'upstream', c)
    expect(noRule).toMatchObject({verdict: 'fail', text: expect.stringContaining('route public: /public/x through the gateway (127.0.0.1:4455, Host api.example.com)')})
    expect(noRule.verdict === 'fail' && noRule.fix).toContain('iam render --force')
    expect(classifyGatewayAnswer({status: 404}, 'upstream', c)).toMatchObject({verdict: 'ok', text: '/public/x gateway → upstream 404'})
  })

  it('502/503/504 is a warning naming the upstream, never ok', () => {
    for (const status of [502, 503, 504]) {
      const v = classifyGatewayAnswer({status}, 'upstream', c)
      expect(v.verdict, String(status)).toBe('warn')
      expect(v.text).toContain('the upstream http://127.0.0.1:8080 is not answering')
    }
  })

  it("a refusal must be Oathkeeper's own, with the expected status", () => {
    expect(classifyGatewayAnswer({status: 401, oathkeeperError: 'Access credentials are invalid'}, 401, c).verdict).toBe('ok')
    expect(classifyGatewayAnswer({status: 200}, 401, c)).toMatchObject({verdict: 'fail', text: expect.stringContaining("expected Oathkeeper's 401, the gateway answered 200")})
    expect(classifyGatewayAnswer({status: 403, oathkeeperError: 'Access credentials are not sufficient'}, 'upstream', c).verdict).toBe('fail')
  })
})

const report = (strict: boolean): SmokeReport => ({
  project: 'p<&>',
  strict,
  ok: !strict,
  stubbed: [],
  steps: [
    {id: 'stack', status: 'ok', message: '7 services ready', ms: 12},
    {id: 'route.a', status: 'fail', message: 'expected 401 & got <200> "x" \u0007', fix: 'run | this', ms: 3},
    {id: 'route.b', status: 'warn', message: 'upstream http://127.0.0.1:1 not answering', fix: 'start it', ms: 4},
    {id: 'cleanup', status: 'skipped', message: 'nothing', ms: 0},
  ],
})

describe('renderJunit', () => {
  const parse = (xml: string) =>
    new XMLParser({ignoreAttributes: false, attributeNamePrefix: '', textNodeName: 'text', isArray: (name) => name === 'testcase'}).parse(xml) as {
      testsuites: {tests: string; failures: string; skipped: string; testsuite: {testcase: {name: string; failure?: {message: string; text: string}; skipped?: unknown; 'system-out'?: string}[]}}
    }

  it('one testcase per step, failures with message and fix, a warning passed with its text unless strict', () => {
    const xml = renderJunit(report(false))
    expect(XMLValidator.validate(xml)).toBe(true)
    const doc = parse(xml)
    const cases = doc.testsuites.testsuite.testcase
    expect(cases.map((t) => t.name)).toEqual(['stack', 'route.a', 'route.b', 'cleanup'])
    expect([doc.testsuites.tests, doc.testsuites.failures, doc.testsuites.skipped]).toEqual(['4', '1', '1'])
    // The control character is dropped (XML 1.0 cannot carry it); the parser trims the attribute's trailing space.
    expect(cases[1]!.failure).toEqual({message: 'expected 401 & got <200> "x"', type: 'fail', text: 'expected 401 & got <200> "x" \nfix: run | this'})
    expect(cases[2]!.failure).toBeUndefined()
    expect(cases[2]!['system-out']).toBe('warning: upstream http://127.0.0.1:1 not answering\nfix: start it')
    expect(cases[3]!.skipped).toBeDefined()

    const strict = parse(renderJunit(report(true)))
    expect(strict.testsuites.failures).toBe('2')
    expect(strict.testsuites.testsuite.testcase[2]!.failure?.text).toContain('fix: start it')
  })
})

describe('renderStepSummary', () => {
  it('a Markdown table with one row per step; a pipe in a message does not break the row', () => {
    const md = renderStepSummary(report(false))
    const rows = md.split('\n').filter((l) => /^\| (?!status|---)/.test(l))
    expect(rows).toHaveLength(4)
    expect(rows[1]).toBe('| ❌ fail | `route.a` | expected 401 & got <200> "x" \u0007<br>fix: run \\| this |')
    expect(rows[2]).toMatch(/^\| ⚠️ warning \| `route\.b` \|/)
    expect(md).toContain('1 ok, 1 warning(s), 1 failed, 1 skipped')
  })
})
