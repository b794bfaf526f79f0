import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {stackDirFlag} from '../cli/flags.js'
import type {Endpoint} from '../plan/services.js'
import type {StatusReport} from '../runtime/types.js'

export type StatusResult = StatusReport & {endpoints: Endpoint[]}

export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'Show every service of the stack: state, pid or container, ports, version, health.'

  static override description = `Asks each service's /health/ready (native) or the engine (compose). A service whose process died is reported as crashed, not hidden.

Exit code: 0 when every service is ready, 1 otherwise (so \`iam status && run-tests\` works).

-o json is --json: the same document on stdout (errors as {"error": …} too).

-o env prints KRATOS_PUBLIC_URL=… lines (Kratos public/admin, Keto read/write, Oathkeeper proxy/API, JWKS URL, embedded servers) ready for \`>> .env\` or \`>> $GITHUB_ENV\` in CI; never secrets.`

  static override examples = [
    {description: 'Human-readable table', command: '<%= config.bin %> status'},
    {description: 'Machine-readable', command: '<%= config.bin %> status -o json'},
    {description: 'Export the endpoints to later CI steps', command: '<%= config.bin %> status -o env >> "$GITHUB_ENV"'},
  ]

  static override flags = {
    dir: stackDirFlag,
    output: Flags.string({char: 'o', description: 'Output format (json: the same as --json).', options: ['table', 'json', 'env'], default: 'table'}),
    runtime: Flags.string({description: 'Which runtime to ask (default: the one `iam up` used).', options: ['auto', 'native', 'compose']}),
  }

  /** `-o json` is `--json`: one output path, so the two print the same document (results and errors alike). */
  public override jsonEnabled(): boolean {
    return super.jsonEnabled() || outputIsJson(this.argv)
  }

  async run(): Promise<StatusResult> {
    const [{openRuntime}, {endpoints}, fmt] = await Promise.all([import('../runtime/open.js'), import('../plan/services.js'), import('../ui/status-format.js')])
    const opened = await openRuntime(this.flags.dir, this.flags.runtime ? {override: this.flags.runtime} : {})
    const report = await opened.runtime.status()
    const list = endpoints(opened.config, {runtime: report.runtime})
    const result: StatusResult = {...report, endpoints: list}
    if (!this.jsonEnabled()) {
      if (this.flags.output === 'env') process.stdout.write(fmt.formatEnv(list))
      else this.log(fmt.formatStatusTable(report).trimEnd())
    }
    if (!report.healthy) process.exitCode = 1
    return result
  }
}

/** `-o json`, `-ojson`, `-o=json`, `--output json`, `--output=json` before a `--`. Read from argv, so a parse error is JSON too. */
function outputIsJson(argv: string[]): boolean {
  const end = argv.includes('--') ? argv.indexOf('--') : argv.length
  for (let i = 0; i < end; i++) {
    const a = argv[i] as string
    if ((a === '-o' || a === '--output') && argv[i + 1] === 'json') return true
    if (a === '-ojson' || a === '-o=json' || a === '--output=json') return true
  }
  return false
}
