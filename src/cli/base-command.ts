import {Command, Errors, Flags, Interfaces} from '@oclif/core'

import {ExitCode, IamError, isIamError} from '../errors.js'
import {createReporter, type Reporter} from '../ui/reporter.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/**
 * Conventions every iam command inherits:
 * - `--json`: the value `run()` returns is printed as one JSON document on stdout; progress goes to stderr.
 * - `-q`: no tables, success lines or progress (`this.log` prints nothing); warnings and errors still go to stderr and
 *   the exit code is unchanged. A value a script captures (a token, a code) is printed with `logValue` even with -q.
 * - errors: IamError renders as `error [CODE]: message` + `fix: suggestion` (or `{"error": {...}}` with --json)
 *   and exits with its documented exit code; oclif's parse errors exit 2.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    quiet: Flags.boolean({char: 'q', description: 'Print no tables, success lines or progress; only warnings, errors and the exit code.', helpGroup: 'GLOBAL'}),
  }

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  protected reporter!: Reporter

  public override async init(): Promise<void> {
    await super.init()
    const {args, flags} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    this.reporter = createReporter({json: this.jsonEnabled(), quiet: Boolean((flags as {quiet?: boolean}).quiet)})
  }

  /** Human output on stdout: nothing with --json (oclif) or -q. */
  public override log(message?: string, ...args: unknown[]): void {
    if ((this.flags as {quiet?: boolean} | undefined)?.quiet) return
    super.log(message, ...args)
  }

  /** The one value a script captures (a token, a code): printed with -q too, not with --json (the JSON has it). */
  protected logValue(message: string): void {
    super.log(message)
  }

  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    const error = toIamError(err)
    if (this.jsonEnabled()) {
      process.stdout.write(JSON.stringify({error: error.toJSON()}) + '\n')
    } else {
      process.stderr.write(formatError(error))
    }
    process.exitCode = error.exitCode
    // Tell oclif we handled the error and only want the exit code.
    throw new Errors.ExitError(error.exitCode)
  }
}

/** Maps any thrown value to an IamError so rendering and exit codes are uniform. */
export function toIamError(err: unknown): IamError {
  if (isIamError(err)) return err
  if (err instanceof Errors.ExitError) return new IamError('EXIT', err.message, {exitCode: (err.oclif.exit ?? 1) as ExitCode})
  if (err instanceof Error && 'parse' in err) {
    // oclif flag/argument parse errors: a usage problem.
    return new IamError('USAGE', err.message.split('\n')[0] ?? err.message, {
      exitCode: ExitCode.Usage,
      suggestion: 'See --help for the flags and arguments this command takes.',
    })
  }
  const message = err instanceof Error ? err.message : String(err)
  return new IamError('INTERNAL', message, {
    exitCode: ExitCode.Failure,
    suggestion: 'This is a bug in iam: please report it with the command you ran.',
  })
}

export function formatError(error: IamError): string {
  let out = `error [${error.code}]: ${error.message}\n`
  if (error.suggestion) out += `  fix: ${error.suggestion}\n`
  return out
}
