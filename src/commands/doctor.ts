import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {stackDirFlag} from '../cli/flags.js'
import type {DoctorReport} from '../doctor/index.js'

export default class Doctor extends BaseCommand<typeof Doctor> {
  static override summary = 'Check that this machine and this project are ready for `iam up`; print the fix for each problem.'

  static override description = `Checks, each with a fix when it is not ok:
  node                  Node.js version
  project.config        iam.yaml loads and validates
  runtime               which runtime \`iam up\` would pick, and why
  binary.<server>       native runtime: the pinned Kratos, Keto, Oathkeeper binaries are installed and report their version
  go                    when a binary is missing: whether \`iam install --from-source\` can build it
  project.render        the rendered files match iam.yaml (hand edits are named)
  project.secrets       .env exists, mode 0600, holds every secret
  project.keys          the signing JWKS exists, mode 0600, parses, has a signing key
  project.gitignore     secrets, keys and runtime state are ignored by git
  project.ports         the stack is not running and every port it needs is free
  project.stack         (instead of ports) the stack runs and every service is ready

Writes nothing and never prints a secret. Exit code 0 when no check failed (warnings allowed), 1 otherwise, 2 when
the directory holds no iam.yaml (CONFIG_NOT_FOUND, as \`iam up\`: run \`iam init\` or pass -C <dir>).`

  static override examples = [
    {description: 'Check the project in the current directory', command: '<%= config.bin %> doctor'},
    {description: 'In CI, before iam up: machine-readable, exit code 1 on a failed check', command: '<%= config.bin %> doctor --json'},
    {description: 'Check for the native runtime even where Docker runs', command: '<%= config.bin %> doctor --runtime native -C ./my-stack'},
  ]

  static override flags = {
    dir: stackDirFlag,
    runtime: Flags.string({description: 'Check for this runtime instead of the one `iam up` would pick.', options: ['auto', 'native', 'compose'], env: 'IAM_RUNTIME'}),
  }

  async run(): Promise<DoctorReport> {
    const [{runDoctor}, {formatDoctorReport}] = await Promise.all([import('../doctor/index.js'), import('../ui/doctor-format.js')])
    const report = await runDoctor({projectDir: this.flags.dir, ...(this.flags.runtime ? {runtime: this.flags.runtime} : {})})
    if (!this.jsonEnabled()) this.log(formatDoctorReport(report))
    if (!report.ok) process.exitCode = 1
    return report
  }
}
