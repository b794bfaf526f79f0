import {Args, Flags} from '@oclif/core'
import {createInterface} from 'node:readline/promises'
import {resolve} from 'node:path'

import {BaseCommand} from '../cli/base-command.js'
import {assertNoProject, checkProjectName, initProject, projectNameFor, starterConfig, type InitChoices, type InitResult} from '../project/init.js'
import {PROJECT_FILES, type RuntimePreference, type TokenAlgorithm} from '../config/model.js'
import {usageError} from '../errors.js'

const RUNTIMES: RuntimePreference[] = ['auto', 'compose', 'native']
const ALGORITHMS: TokenAlgorithm[] = ['RS256', 'ES256']

export default class Init extends BaseCommand<typeof Init> {
  static override description = `Create an iam project: a commented iam.yaml, every rendered Ory file, fresh secrets (.env) and the id_token signing keys.
Asks a few questions on a terminal; --yes accepts the defaults. Files are built in a temporary directory and moved into place, so a failed init changes nothing. Adds .env, ory/oathkeeper/jwks.json and .iam/ to .gitignore.

The directory: -C/--dir as for every other command, or the DIR argument (the same thing; created when missing).`

  static override examples = [
    '<%= config.bin %> init',
    '<%= config.bin %> init my-stack --yes',
    '<%= config.bin %> init -C my-stack --yes',
    '<%= config.bin %> init --yes --project shop --runtime native --algorithm ES256 --no-roles',
    '<%= config.bin %> init --yes --machine-clients',
    '<%= config.bin %> init --yes --force --json',
  ]

  static override args = {
    dir: Args.string({description: 'Project directory (created when missing); the same as -C. Default: the current directory.'}),
  }

  static override flags = {
    dir: Flags.string({char: 'C', description: 'Project directory (created when missing).', helpValue: '<dir>'}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask: use the defaults for everything not given by a flag.'}),
    project: Flags.string({description: 'Project name (default: the directory name).'}),
    runtime: Flags.string({description: 'How `iam up` runs the stack.', options: RUNTIMES}),
    algorithm: Flags.string({description: 'id_token signing algorithm.', options: ALGORITHMS}),
    roles: Flags.boolean({description: 'Copy Keto roles into sessions and id_tokens (role webhook).', allowNo: true}),
    'machine-clients': Flags.boolean({description: 'Run Hydra for OAuth2 machine clients and add a starter route /machine/<**> that takes their tokens (scope <project>:read).'}),
    force: Flags.boolean({description: 'Replace an existing iam.yaml and rendered files (existing secrets and keys are kept).'}),
  }

  async run(): Promise<InitResult> {
    const dir = this.targetDir()
    await assertNoProject(dir, this.flags.force)
    const given: InitChoices = {
      ...(this.flags.project === undefined ? {} : {project: this.flags.project}),
      ...(this.flags.runtime === undefined ? {} : {runtime: this.flags.runtime as RuntimePreference}),
      ...(this.flags.algorithm === undefined ? {} : {algorithm: this.flags.algorithm as TokenAlgorithm}),
      ...(this.flags.roles === undefined ? {} : {roles: this.flags.roles}),
      ...(this.flags['machine-clients'] ? {machineClients: true} : {}),
    }
    if (given.project !== undefined) checkProjectName(given.project)
    const choices = this.flags.yes ? given : await this.ask(dir, given)

    this.reporter.step('init', `rendering project in ${dir}`)
    const result = await initProject(dir, {...choices, force: this.flags.force})
    if (!this.jsonEnabled()) this.printSummary(result)
    return result
  }

  /** -C/--dir or the DIR argument; both may be given only when they name the same directory. */
  private targetDir(): string {
    const fromFlag = this.flags.dir === undefined ? undefined : resolve(this.flags.dir)
    const fromArg = this.args.dir === undefined ? undefined : resolve(this.args.dir)
    if (fromFlag !== undefined && fromArg !== undefined && fromFlag !== fromArg) {
      throw usageError('USAGE', `Two project directories: -C ${this.flags.dir} and the argument ${this.args.dir}.`, {suggestion: 'Pass one: iam init -C <dir> (or iam init <dir>).'})
    }
    return fromFlag ?? fromArg ?? resolve('.')
  }

  /** Prompts for every choice not given by a flag; needs a terminal. */
  private async ask(dir: string, given: InitChoices): Promise<InitChoices> {
    const missing = (['project', 'runtime', 'roles', 'algorithm'] as const).filter((k) => given[k] === undefined)
    if (missing.length === 0) return given
    if (!process.stdin.isTTY) {
      throw usageError('INIT_NOT_INTERACTIVE', 'iam init asks questions, but stdin is not a terminal.', {
        suggestion: 'Pass --yes to accept the defaults (and --project, --runtime, --algorithm, --no-roles to choose).',
      })
    }
    const defaults = starterConfig(given.project ?? projectNameFor(dir))
    const rl = createInterface({input: process.stdin, output: process.stderr})
    try {
      const question = async <T>(text: string, fallback: string, parse: (answer: string) => T | undefined): Promise<T> => {
        for (let attempt = 0; attempt < 3; attempt++) {
          const answer = (await rl.question(`${text} [${fallback}]: `)).trim()
          const value = parse(answer === '' ? fallback : answer)
          if (value !== undefined) return value
          process.stderr.write(`  "${answer}" is not an option.\n`)
        }
        throw usageError('INIT_ABORTED', `No valid answer to "${text}".`, {suggestion: 'Run again, or pass the choice as a flag.'})
      }
      const choices: InitChoices = {...given}
      choices.project ??= await question('Project name', defaults.project, (a) => (/^[a-z0-9][a-z0-9_-]*$/.test(a) ? a : undefined))
      choices.runtime ??= await question(`Runtime (${RUNTIMES.join('/')})`, defaults.runtime, (a) => RUNTIMES.find((r) => r === a.toLowerCase()))
      choices.roles ??= await question('Roles in sessions and tokens (y/n)', 'y', (a) => (/^y(es)?$/i.test(a) ? true : /^no?$/i.test(a) ? false : undefined))
      choices.algorithm ??= await question(`Token algorithm (${ALGORITHMS.join('/')})`, defaults.tokens.algorithm, (a) => ALGORITHMS.find((x) => x === a.toUpperCase()))
      return choices
    } finally {
      rl.close()
    }
  }

  private printSummary(result: InitResult): void {
    this.log(`Created an iam project in ${result.dir}`)
    for (const file of result.files) this.log(`  ${file}`)
    if (result.kept.length > 0) this.log(`Kept existing ${result.kept.join(' and ')}.`)
    if (result.removed.length > 0) this.log(`Removed files the new configuration no longer renders: ${result.removed.join(', ')}`)
    if (result.replaced.includes(PROJECT_FILES.jwks) && !result.kept.includes(PROJECT_FILES.jwks)) {
      this.reporter.warn(`generated a new signing key: tokens signed by the previous ${PROJECT_FILES.jwks} no longer verify`)
    }
    this.log(`Secrets: ${result.secretsFile} (mode 0600; never commit it, never printed)`)
    this.log(`Signing key: ${result.jwks.kid} (${result.jwks.alg})`)
    if (result.gitignoreAdded.length > 0) this.log(`.gitignore: added ${result.gitignoreAdded.join(', ')}`)
    this.log('Next: review iam.yaml, then `iam up`.')
  }
}
