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

/** Flags shared by the commands that talk to Kratos and Keto (roles, tuples, identities, seed). */
export const oryFlags = {
  'kratos-admin-url': Flags.string({description: 'Kratos admin API. Default: from iam.yaml ports, else http://127.0.0.1:4434.', helpGroup: 'ORY'}),
  'keto-read-url': Flags.string({description: 'Keto read API. Default: from iam.yaml ports, else http://127.0.0.1:4466.', helpGroup: 'ORY'}),
  'keto-write-url': Flags.string({description: 'Keto write API. Default: from iam.yaml ports, else http://127.0.0.1:4467.', helpGroup: 'ORY'}),
  config: Flags.string({description: 'iam.yaml (or its directory) for URLs and the roles namespace. Default: ./iam.yaml when present.', helpGroup: 'ORY'}),
  timeout: Flags.integer({description: 'Deadline of each call to Kratos or Keto, in milliseconds.', default: 5000, min: 100, helpGroup: 'ORY'}),
}

/** Flags shared by `iam keys *` and `iam token *`: where the project and its key file are. */
export const projectFlags = {
  dir: Flags.string({char: 'd', description: 'Project directory (holds iam.yaml).', default: '.'}),
  file: Flags.string({char: 'f', description: 'Key file. Default: <dir>/ory/oathkeeper/jwks.json.'}),
}
