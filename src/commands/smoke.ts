import {resolve} from 'node:path'

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
  route.<id> for every route, asked through Oathkeeper's decision API (the proxy's rules, without calling your upstream):
            anonymous → 200; session → 401 without a session; roles → 403 without the role, 200 with it, 403 after
            the revoke; anyOf → 403 without the tuple, 200 with it; each id_token verified against the JWKS with the
            route's audience and the session's subject
  cleanup   the identity, its roles and tuples are removed

Exit code 0 when no step failed, 1 otherwise (a failed step names what went wrong and the fix; a skipped one says why).`

  static override examples = [
    {description: 'After iam up', command: '<%= config.bin %> smoke'},
    {description: 'In CI: start, smoke, and keep the JSON report', command: '<%= config.bin %> up && <%= config.bin %> smoke --json > smoke.json'},
  ]

  static override flags = {
    dir: stackDirFlag,
    timeout: durationFlag({description: 'How long each HTTP call may take, e.g. 10s.', default: 10_000, min: 100}),
  }

  async run(): Promise<SmokeReport> {
    const [{runSmoke}, {formatSmokeStep}] = await Promise.all([import('../smoke/index.js'), import('../ui/smoke-format.js')])
    const report = await runSmoke({
      projectDir: resolve(this.flags.dir),
      timeoutMs: this.flags.timeout,
      onStep: (step) => {
        if (!this.jsonEnabled()) this.log(formatSmokeStep(step))
      },
    })
    if (!this.jsonEnabled()) {
      const count = (status: string): number => report.steps.filter((s) => s.status === status).length
      const skipped = count('skipped') > 0 ? ` (${count('skipped')} skipped)` : ''
      this.log(report.ok ? `\nsmoke: every step ok${skipped} (project ${report.project})` : `\nsmoke: ${count('fail')} step(s) failed${skipped}`)
    }
    if (!report.ok) process.exitCode = 1
    return report
  }
}
