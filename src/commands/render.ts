import {Flags} from '@oclif/core'
import {resolve} from 'node:path'

import {BaseCommand} from '../cli/base-command.js'
import {stackDirFlag} from '../cli/flags.js'
import {ExitCode} from '../errors.js'
import {renderProject, type RenderReport} from '../project/render.js'

export default class Render extends BaseCommand<typeof Render> {
  static override description = `Render the Ory configs, access rules, compose file, secrets and signing keys from iam.yaml.

Writes ory/kratos, ory/keto, ory/oathkeeper and ory/compose.yaml; only changed files are written (atomically).
Creates .env secrets and ory/oathkeeper/jwks.json (mode 0600) when missing and never changes existing ones.
A rendered file that was edited by hand is reported as hand-edited and left alone; --force overwrites it.
--check writes nothing, lists the files that differ from what iam.yaml renders to and exits 1 when any does (for CI).`

  static override examples = [
    '<%= config.bin %> render',
    '<%= config.bin %> render --check',
    '<%= config.bin %> render -C ./my-stack --force',
    '<%= config.bin %> render --check --json',
  ]

  static override flags = {
    dir: stackDirFlag,
    check: Flags.boolean({description: 'Write nothing; exit 1 when a rendered file is missing or differs.'}),
    force: Flags.boolean({description: 'Overwrite rendered files that were edited by hand.'}),
  }

  async run(): Promise<RenderReport & {dir: string}> {
    const dir = resolve(this.flags.dir)
    const report = await renderProject(dir, {check: this.flags.check, force: this.flags.force})
    if (!this.jsonEnabled()) {
      const width = Math.max(...report.files.map((f) => f.status.length))
      for (const file of report.files) this.log(`${file.status.padEnd(width)}  ${file.path}`)
      const edited = report.files.filter((f) => f.status === 'hand-edited')
      if (edited.length > 0 && !this.flags.check) {
        this.reporter.warn(`${edited.length} hand-edited file(s) left as they are; move the change into iam.yaml, or run \`iam render --force\`.`)
      }
      if (this.flags.check) {
        const differing = report.files.filter((f) => f.status !== 'unchanged')
        if (differing.length > 0) {
          process.stderr.write(`drift: ${differing.length} file(s) differ from what iam.yaml renders to: ${differing.map((f) => f.path).join(', ')}\n`)
          process.stderr.write('  fix: run `iam render` (add --force to overwrite hand-edited files).\n')
        }
      }
    }
    if (this.flags.check && report.drift) process.exitCode = ExitCode.Failure
    return {dir, ...report}
  }
}
