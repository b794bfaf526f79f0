import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {oryFlags} from '../../cli/flags.js'
import {withOry} from '../../admin/context.js'
import {applyTuples, type TupleReport} from '../../admin/tuples.js'
import {printTupleReport, tuplesFromArgs} from '../../cli/tuple-args.js'

export default class TuplesDelete extends BaseCommand<typeof TuplesDelete> {
  static override description = 'Delete exact relation tuples from Keto (idempotent: absent tuples are reported as such).'

  static override examples = [
    "<%= config.bin %> tuples delete 'Tenant:acme#member@4f1c8a52-0d0e-4a8e-9d59-3f5a0c2b1e77'",
    "<%= config.bin %> tuples delete 'Document:readme#viewer@Tenant:acme#member' --json",
  ]

  static override strict = false
  static override args = {
    tuple: Args.string({description: 'Tuple in Keto text form. Repeatable. Only that exact tuple is deleted.', required: true}),
  }

  static override flags = {...oryFlags}

  async run(): Promise<TupleReport> {
    const {argv} = await this.parse(TuplesDelete)
    const entries = tuplesFromArgs(argv as string[])
    const report = await withOry(this.flags, ({keto}) => applyTuples(keto, entries, {mode: 'delete'}))
    if (!this.jsonEnabled()) printTupleReport(this, report)
    if (report.failed > 0) process.exitCode = 1
    return report
  }
}
