/**
 * Typed errors with stable codes. Every failure a user can see is an IamError: its `code` is stable across
 * releases (scripts match on it), `exitCode` follows the documented contract and `suggestion` names the fix.
 */
import type {ErrorCode} from './error-codes.js'

export type {ErrorCode} from './error-codes.js'

/** Documented process exit codes. Scripts rely on these; never renumber. */
export const ExitCode = {
  /** Everything worked / everything checked is healthy. */
  Ok: 0,
  /** The thing checked failed (drift found, a service unhealthy, a token invalid, a build failed). */
  Failure: 1,
  /** Bad usage or bad configuration: fix the command line or iam.yaml. */
  Usage: 2,
  /** The environment is missing something: a binary, a toolchain, the network, a free port. */
  Environment: 3,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export interface IamErrorOptions {
  /** One line telling the user how to fix it. */
  suggestion?: string
  exitCode?: ExitCode
  /** Machine-readable context, included in `--json` output. Never put secrets here. */
  details?: Record<string, unknown>
  cause?: unknown
}

export class IamError extends Error {
  readonly code: ErrorCode
  readonly exitCode: ExitCode
  readonly suggestion?: string
  readonly details?: Record<string, unknown>

  constructor(code: ErrorCode, message: string, options: IamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'IamError'
    this.code = code
    this.exitCode = options.exitCode ?? ExitCode.Failure
    this.suggestion = options.suggestion
    this.details = options.details
  }

  toJSON(): {code: ErrorCode; message: string; suggestion?: string; exitCode: number; details?: Record<string, unknown>} {
    return {
      code: this.code,
      message: this.message,
      ...(this.suggestion ? {suggestion: this.suggestion} : {}),
      exitCode: this.exitCode,
      ...(this.details ? {details: this.details} : {}),
    }
  }
}

/** Bad command line or bad iam.yaml (exit 2). */
export function usageError(code: ErrorCode, message: string, options: Omit<IamErrorOptions, 'exitCode'> = {}): IamError {
  return new IamError(code, message, {...options, exitCode: ExitCode.Usage})
}

/** Something missing from the machine: a binary, toolchain, network, port (exit 3). */
export function environmentError(code: ErrorCode, message: string, options: Omit<IamErrorOptions, 'exitCode'> = {}): IamError {
  return new IamError(code, message, {...options, exitCode: ExitCode.Environment})
}

export function isIamError(error: unknown): error is IamError {
  return error instanceof IamError
}
