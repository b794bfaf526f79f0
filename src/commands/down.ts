import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {durationFlag, stackDirFlag} from '../cli/flags.js'
import {usageError} from '../errors.js'
import type {StopResult} from '../runtime/types.js'

export default class Down extends BaseCommand<typeof Down> {
  static override summary = 'Stop the stack; keeps its data unless --volumes.'

  static override description = `Native: SIGTERM to every service, SIGKILL after --grace, pid files removed; the SQLite databases under .iam/data and the logs stay. Compose: \`compose down\`.

--volumes (alias --purge) also deletes the data (identities, sessions, relation tuples) after confirmation; pass --yes in scripts.`

  static override examples = [
    {description: 'Stop, keep the data', command: '<%= config.bin %> down'},
    {description: 'Stop and delete all data, without asking', command: '<%= config.bin %> down --volumes --yes'},
  ]

  static override flags = {
    dir: stackDirFlag,
    volumes: Flags.boolean({description: 'Also delete the data (SQLite files / compose volumes).', aliases: ['purge']}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask before deleting data.'}),
    grace: durationFlag({description: 'Time between SIGTERM and SIGKILL (native), e.g. 10s; 0s kills at once.', default: 10_000, min: 0}),
    runtime: Flags.string({description: 'Which runtime to stop (default: the one `iam up` used).', options: ['auto', 'native', 'compose']}),
  }

  async run(): Promise<StopResult & {runtime: string}> {
    const {openRuntime} = await import('../runtime/open.js')
    const opened = await openRuntime(this.flags.dir, this.flags.runtime ? {override: this.flags.runtime} : {})
    if (this.flags.volumes && !this.flags.yes) await this.confirmPurge(opened.projectDir)
    const result = await opened.runtime.stop({
      purge: this.flags.volumes,
      graceMs: this.flags.grace,
      onEvent: (e) => {
        if (e.type === 'service') this.reporter.step(e.service, `stopped${e.message && e.message !== 'terminated' ? ` (${e.message})` : ''}`)
      },
    })
    if (!this.jsonEnabled()) {
      this.log(result.stopped.length > 0 ? `Stopped ${result.stopped.join(', ')}.` : 'Nothing was running.')
      this.log(result.purged ? 'Data deleted.' : 'Data kept (iam down --volumes deletes it).')
    }
    return {runtime: opened.selection.kind, ...result}
  }

  private async confirmPurge(projectDir: string): Promise<void> {
    if (!process.stdin.isTTY || this.jsonEnabled()) {
      throw usageError('CONFIRMATION_REQUIRED', 'Deleting the data needs confirmation and there is no terminal to ask on.', {
        suggestion: 'Pass --yes to delete the data without asking.',
      })
    }
    const {createInterface} = await import('node:readline/promises')
    const rl = createInterface({input: process.stdin, output: process.stderr})
    const answer = await rl.question(`Delete all data of the stack in ${projectDir} (identities, sessions, relation tuples)? [y/N] `)
    rl.close()
    if (!/^y(es)?$/i.test(answer.trim())) {
      throw usageError('ABORTED', 'Nothing deleted; the stack is still running.', {suggestion: 'Run `iam down` to stop it and keep the data.'})
    }
  }
}
