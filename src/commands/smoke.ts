import {resolve} from 'node:path'

import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {durationFlag, stackDirFlag} from '../cli/flags.js'
import type {SmokeReport} from '../smoke/index.js'

export default class Smoke extends BaseCommand<typeof Smoke> {
  static override summary = 'Prove the running stack does what iam.yaml says: login, every route, id_tokens; leaves nothing behind.'

  static override description = `Against the running stack of this project (start it with \`iam up\`):
  stack     every service ready
  jwks      Oathkeeper publishes public keys only
  login     a throwaway identity logs in through Kratos' API flow (running the login hooks, e.g. the role webhook):
            with a password, or — password login off — with the one-time code read from \`iam serve mail\`
  route.<id> for every route, asked through Oathkeeper's decision API: anonymous → 200; session → 401 without a
            session; roles → 403 without the role, 200 with it, 403 after the revoke; anyOf → 403 without the tuple,
            200 with it; each id_token verified against the JWKS with the route's audience and the session's subject.
            The same requests go through the gateway's listening port with the Host a client uses (the real path):
            a 404 "no rule matched" there fails the route; a 502/503/504 because the route's upstream is not running
            is a WARNING naming the upstream (the rule and the auth worked), never ok
  cleanup   the identity, its roles and tuples are removed

Statuses: ok, WARN (checked, but a client would not get through: exit 0, or 1 with --strict), FAIL (names what went
wrong and the fix), skip (says why). Exit code 0 when no step failed, 1 otherwise.

--upstream-stub stands in for route upstreams on loopback that are not answering: a throwaway server on their
host:port for the run (closed after) that must receive an id_token with the route's audience and the issuer.
--junit FILE writes a JUnit XML report (one testcase per step); with $GITHUB_STEP_SUMMARY set, a Markdown table of
the steps is appended to that file.`

  static override examples = [
    {description: 'After iam up', command: '<%= config.bin %> smoke'},
    {description: 'In CI: start, smoke, and keep the JSON report', command: '<%= config.bin %> up && <%= config.bin %> smoke --json > smoke.json'},
    {description: 'In CI without your services: stub their upstreams, fail on any warning, keep a JUnit report', command: '<%= config.bin %> smoke --upstream-stub --strict --junit smoke-report.xml'},
  ]

  static override flags = {
    dir: stackDirFlag,
    strict: Flags.boolean({description: 'Warnings (an upstream not running) fail the run: exit 1, a failed case in --junit.'}),
    'upstream-stub': Flags.boolean({description: 'Stand in for route upstreams on loopback that are not running, and check the id_token they receive.'}),
    junit: Flags.string({description: 'Write a JUnit XML report (one testcase per step) to this file.', helpValue: 'FILE'}),
    timeout: durationFlag({description: 'How long each HTTP call may take, e.g. 10s.', default: 10_000, min: 100}),
  }

  async run(): Promise<SmokeReport> {
    const [{runSmoke}, {formatSmokeStep, formatSmokeSummary}] = await Promise.all([import('../smoke/index.js'), import('../ui/smoke-format.js')])
    const report = await runSmoke({
      projectDir: resolve(this.flags.dir),
      timeoutMs: this.flags.timeout,
      strict: this.flags.strict,
      upstreamStub: this.flags['upstream-stub'],
      ...(this.flags.junit ? {junitFile: resolve(this.flags.junit)} : {}),
      ...(process.env.GITHUB_STEP_SUMMARY ? {stepSummaryFile: process.env.GITHUB_STEP_SUMMARY} : {}),
      onStep: (step) => {
        if (!this.jsonEnabled()) this.log(formatSmokeStep(step))
      },
    })
    if (!this.jsonEnabled()) this.log(`\n${formatSmokeSummary(report)}`)
    if (!report.ok) process.exitCode = 1
    return report
  }
}
