import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {oryFlags} from '../../cli/flags.js'
import {withOry} from '../../admin/context.js'
import {applyTuples, refuseUndeclared, type TupleReport} from '../../admin/tuples.js'
import {printTupleReport, tuplesFromArgs} from '../../cli/tuple-args.js'

export default class TuplesAdd extends BaseCommand<typeof TuplesAdd> {
  static override description = `Create relation tuples in Keto (idempotent: existing tuples are reported, not written again).

With an iam.yaml (./iam.yaml or -C <dir>), a tuple naming a namespace or relation it does not declare is refused
before anything is written (TUPLE_UNDECLARED, exit 2; the message lists what is declared).`

  static override examples = [
    "<%= config.bin %> tuples add 'Tenant:acme#member@4f1c8a52-0d0e-4a8e-9d59-3f5a0c2b1e77'",
    "<%= config.bin %> tuples add 'Document:readme#viewer@Tenant:acme#member' 'Role:admin#member@bob-id' --json",
  ]

  static override strict = false
  static override args = {
    tuple: Args.string({description: 'Tuple in Keto text form Namespace:object#relation@subject (subject: id or Namespace:object#relation). Repeatable.', required: true}),
  }

  static override flags = {...oryFlags}

  async run(): Promise<TupleReport> {
    const {argv} = await this.parse(TuplesAdd)
    const entries = tuplesFromArgs(argv as string[])
    const report = await withOry(this.flags, ({keto}, ctx) => {
      refuseUndeclared(ctx.config, entries, {configPath: ctx.configPath})
      return applyTuples(keto, entries, {mode: 'add'})
    })
    if (!this.jsonEnabled()) printTupleReport(this, report)
    if (report.failed > 0) process.exitCode = 1
    return report
  }
}
