import {Flags} from '@oclif/core'
import {usageError} from '../errors.js'

/** `-C, --dir`: the project directory of the stack commands (up, down, status, logs, doctor, smoke), as `git -C`. */
export const stackDirFlag = Flags.string({char: 'C', description: 'Project directory.', default: '.'})

/** A flag value that must be a positive integer (oclif's integer flags accept 0 and negatives). */
export function positiveInt(name: string, value: number | undefined): number | undefined {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) throw usageError('INVALID_FLAG', `--${name} must be a positive integer.`)
  return value
}

/** A TCP port flag value: 0 (any free port) to 65535. */
export function portValue(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > 65_535) throw usageError('INVALID_FLAG', `--${name} must be between 0 and 65535.`)
  return value
}
