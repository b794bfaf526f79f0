import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {formatTuple, parseSubject, type TupleQuery} from '../../ory/tuple-text.js'
import {oryFlags} from '../../cli/flags.js'
import {withOry} from '../../admin/context.js'
import {usageError} from '../../errors.js'

export default class TuplesList extends BaseCommand<typeof TuplesList> {
  static override description = 'List relation tuples from Keto matching a query, following pagination to the last page.'

  static override examples = [
    '<%= config.bin %> tuples list --namespace Role',
    '<%= config.bin %> tuples list --namespace Role --object admin --json',
    "<%= config.bin %> tuples list --namespace Document --subject 'Tenant:acme#member'",
  ]

  static override flags = {
    namespace: Flags.string({char: 'n', description: 'Namespace.'}),
    object: Flags.string({char: 'o', description: 'Object.'}),
    relation: Flags.string({char: 'r', description: 'Relation.'}),
    subject: Flags.string({char: 's', description: 'Subject: an id, or a subject set Namespace:object#relation.'}),
    'page-size': Flags.integer({description: 'Tuples per Keto request (all pages are read).', min: 1, max: 1000}),
    ...oryFlags,
  }

  async run(): Promise<{tuples: string[]; count: number}> {
    const query: TupleQuery = {namespace: this.flags.namespace, object: this.flags.object, relation: this.flags.relation}
    if (this.flags.subject !== undefined) {
      try {
        Object.assign(query, parseSubject(this.flags.subject))
      } catch (error) {
        throw usageError('TUPLE_INVALID', `--subject: ${(error as Error).message}`)
      }
    }
    const tuples = await withOry(this.flags, ({keto}) => keto.listAll(query, {pageSize: this.flags['page-size']}))
    const text = tuples.map(formatTuple)
    if (!this.jsonEnabled()) for (const t of text) this.log(t)
    return {tuples: text, count: text.length}
  }
}
