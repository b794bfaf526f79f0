import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {usageError} from '../../errors.js'
import {formatTuple, parseTuple} from '../../ory/tuple-text.js'
import {oryFlags} from '../../cli/flags.js'
import {withOry} from '../../admin/context.js'
import {refuseUndeclared} from '../../admin/tuples.js'

export default class TuplesCheck extends BaseCommand<typeof TuplesCheck> {
  static override description = `Ask Keto whether a subject has a relation on an object (a permission check: follows subject sets and rewrites).

Exit code 0 when allowed, 1 when denied, 2 when iam.yaml (./iam.yaml or -C <dir>) does not declare the tuple's
namespace or relation (TUPLE_UNDECLARED: Keto could never allow it; the message lists what is declared).`

  static override examples = [
    "<%= config.bin %> tuples check 'Role:admin#member@4f1c8a52-0d0e-4a8e-9d59-3f5a0c2b1e77'",
    "<%= config.bin %> tuples check 'Document:readme#viewer@alice-id' --json",
  ]

  static override args = {
    tuple: Args.string({description: 'Tuple in Keto text form.', required: true}),
  }

  static override flags = {
    'max-depth': Flags.integer({description: 'Maximum expansion depth (Keto default when absent).', min: 1}),
    ...oryFlags,
  }

  async run(): Promise<{tuple: string; allowed: boolean}> {
    let tuple
    try {
      tuple = parseTuple(this.args.tuple)
    } catch (error) {
      throw usageError('TUPLE_INVALID', `"${this.args.tuple}": ${(error as Error).message}`)
    }
    const allowed = await withOry(this.flags, ({keto}, ctx) => {
      refuseUndeclared(ctx.config, [{line: 1, input: this.args.tuple, tuple}], {configPath: ctx.configPath})
      return keto.check(tuple, {maxDepth: this.flags['max-depth']})
    })
    if (!this.jsonEnabled()) this.log(`${allowed ? 'allowed' : 'denied'}: ${formatTuple(tuple)}`)
    if (!allowed) process.exitCode = 1
    return {tuple: formatTuple(tuple), allowed}
  }
}
