import {finished} from 'node:stream/promises'

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {stackDirFlag} from '../cli/flags.js'
import {jsonLinesStream} from '../ui/json-lines.js'

export default class Logs extends BaseCommand<typeof Logs> {
  static override summary = 'Print the logs of the stack or of one service.'

  static override description = 'Native: the files under .iam/logs (migrations and server output). Compose: `compose logs`. With several services each line is prefixed with the service name.'

  static override examples = [
    {description: 'Everything so far', command: '<%= config.bin %> logs'},
    {description: 'Last 50 lines of Kratos, then follow', command: '<%= config.bin %> logs kratos --tail 50 --follow'},
    {description: 'One JSON object per line ({"service", "line"}), e.g. for jq', command: '<%= config.bin %> logs --json --tail 100 | jq -r \'select(.service == "keto") | .line\''},
  ]

  static override args = {
    service: Args.string({description: 'kratos, keto, oathkeeper, batch-auth, role-webhook, mail (compose: any compose service, e.g. mailpit).'}),
  }

  static override flags = {
    dir: stackDirFlag,
    follow: Flags.boolean({char: 'f', description: 'Keep printing new lines until Ctrl-C.'}),
    tail: Flags.integer({char: 'n', description: 'Only the last N lines of each service.', min: 0}),
    runtime: Flags.string({description: 'Which runtime (default: the one `iam up` used).', options: ['auto', 'native', 'compose']}),
  }

  async run(): Promise<void> {
    const {openRuntime} = await import('../runtime/open.js')
    const opened = await openRuntime(this.flags.dir, this.flags.runtime ? {override: this.flags.runtime} : {})
    const out = this.jsonEnabled() ? jsonLinesStream(process.stdout, this.args.service) : process.stdout
    const abort = new AbortController()
    const stop = (): void => abort.abort()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    try {
      await opened.runtime.logs({
        ...(this.args.service ? {service: this.args.service} : {}),
        follow: this.flags.follow,
        ...(this.flags.tail !== undefined ? {tail: this.flags.tail} : {}),
        out,
        signal: abort.signal,
      })
    } finally {
      if (out !== process.stdout) await finished(out.end())
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
  }
}
