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

With --production: the deployment checklist instead, on iam.yaml, the rendered files, .env and git:
  production.https        https on every public URL, the issuer and every return URL
  production.kratos-dev   Kratos runs without --dev (iam drops it when kratos.publicUrl is https)
  production.cookies      SameSite set, no cookie domain that misses the public host; production.cors: no
                          wildcard origin with credentials
  production.logs         no leak_sensitive_values, expose_internal_errors or debug log level
  production.admin-apis   Kratos admin and Keto write on loopback only (published on 127.0.0.1 under compose)
  production.rules        no allow-all rule that iam.yaml does not declare anonymous
  production.smtp         a real SMTP server (not the local catcher), TLS on and verified, a real sender
  production.secrets      every secret set, random, 32+ characters, none reused (ROLE_WEBHOOK_SECRET too)
  production.git          no .env or private key tracked by git or anywhere in its history
  production.database     not SQLite in a temporary folder (SQLite elsewhere: a warning)
Each finding names its file and key and the fix. Not checked, because files cannot tell: rate limiting in front of
the login and registration endpoints, backups of the databases, TLS termination itself, and who can reach the
hosts. Exit 1 on any failed check.

Writes nothing and never prints a secret. Exit code 0 when no check failed (warnings allowed), 1 otherwise, 2 when
the directory holds no iam.yaml (CONFIG_NOT_FOUND, as \`iam up\`: run \`iam init\` or pass -C <dir>).`

  static override examples = [
    {description: 'Check the project in the current directory', command: '<%= config.bin %> doctor'},
    {description: 'In CI, before iam up: machine-readable, exit code 1 on a failed check', command: '<%= config.bin %> doctor --json'},
    {description: 'Check for the native runtime even where Docker runs', command: '<%= config.bin %> doctor --runtime native -C ./my-stack'},
    {description: 'Before deploying: the production checklist, every finding with its file, key and fix', command: '<%= config.bin %> doctor --production'},
  ]

  static override flags = {
    dir: stackDirFlag,
    production: Flags.boolean({description: 'Check the deployment checklist (https, secrets, SMTP, logs, admin APIs, git) instead of local readiness.'}),
    runtime: Flags.string({description: 'Check for this runtime instead of the one `iam up` would pick.', options: ['auto', 'native', 'compose'], env: 'IAM_RUNTIME'}),
  }

  async run(): Promise<DoctorReport> {
    const {formatDoctorReport} = await import('../ui/doctor-format.js')
    const report = this.flags.production
      ? await (await import('../doctor/production.js')).runProductionDoctor({projectDir: this.flags.dir})
      : await (await import('../doctor/index.js')).runDoctor({projectDir: this.flags.dir, ...(this.flags.runtime ? {runtime: this.flags.runtime} : {})})
    if (!this.jsonEnabled()) this.log(formatDoctorReport(report, {production: this.flags.production}))
    if (!report.ok) process.exitCode = 1
    return report
  }
}
