import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {oryFlags} from '../../cli/flags.js'
import {loadProjectConfig, withOry} from '../../admin/context.js'
import {identityIdByEmail} from '../../admin/identities.js'
import {printTupleReport} from '../../cli/tuple-args.js'
import {applyTuples, readTupleFile, refuseUndeclared, type TupleReport} from '../../admin/tuples.js'

export default class TuplesSeed extends BaseCommand<typeof TuplesSeed> {
  static override description = `Create every tuple of a file in Keto, idempotently, reporting created / existing / failed with line numbers.

Formats: Keto's text form, one tuple per line (Namespace:object#relation@subject, '#' comments and blank lines
allowed; write %3A %23 %40 %25 for a literal ':' '#' '@' '%' inside a value), or YAML/JSON (.yaml/.yml/.json): a
list — or {tuples: [...]} — of tuple strings or {namespace, object, relation, subject_id | subject_set} objects.
Bad lines are reported and skipped; the rest is still written (exit 1 when any failed).

A subject may name an identity by email: Tenant:acme#member@email:ada@example.com is written with the id of the
identity whose email that is (a line naming no identity fails). With an iam.yaml (./iam.yaml or -C <dir>), a file
with a tuple naming a namespace or relation it does not declare is refused whole, before anything is written
(TUPLE_UNDECLARED, exit 2, each such tuple with file:line and what is declared).`

  static override examples = [
    '<%= config.bin %> tuples seed tuples.txt',
    '<%= config.bin %> tuples seed tuples.yaml --json',
    '<%= config.bin %> tuples seed - < tuples.txt',
    '<%= config.bin %> tuples seed tuples.txt --dry-run',
    {description: 'Name identities by email (resolved to their ids)', command: "echo 'Tenant:acme#member@email:ada@example.com' | <%= config.bin %> tuples seed -"},
  ]

  static override args = {
    file: Args.string({description: "Tuple file, or '-' for stdin (text form).", required: true}),
  }

  static override flags = {
    'dry-run': Flags.boolean({description: 'Only parse the file and report bad lines; write nothing.'}),
    ...oryFlags,
  }

  async run(): Promise<TupleReport & {dryRun?: boolean}> {
    const entries = await readTupleFile(this.args.file)
    const source = this.args.file === '-' ? 'stdin' : this.args.file
    let report: TupleReport
    if (this.flags['dry-run']) {
      const loaded = await loadProjectConfig(this.flags.dir)
      refuseUndeclared(loaded?.config, entries, {source, ...(loaded ? {configPath: loaded.path} : {})})
      const bad = entries.filter((e) => !e.tuple)
      report = {
        created: 0,
        existing: 0,
        deleted: 0,
        absent: 0,
        failed: bad.length,
        entries: bad.map((e) => ({line: e.line, input: e.input, status: 'failed' as const, error: e.error})),
      }
    } else {
      report = await withOry(this.flags, ({keto, kratos}, ctx) => {
        refuseUndeclared(ctx.config, entries, {source, configPath: ctx.configPath})
        return applyTuples(keto, entries, {mode: 'add', resolveEmail: identityIdByEmail(kratos)})
      })
    }
    if (!this.jsonEnabled()) {
      if (this.flags['dry-run']) this.log(`${entries.length - report.failed} valid tuple(s), ${report.failed} bad line(s)`)
      printTupleReport(this, report)
    }
    if (report.failed > 0) process.exitCode = 1
    return this.flags['dry-run'] ? {...report, dryRun: true} : report
  }
}
