import {Flags, type Interfaces} from '@oclif/core'

import {formatDuration} from '../config/duration.js'
import type {IamError} from '../errors.js'
import {durationValue} from '../util/values.js'

/**
 * `-C, --dir`: the project directory, as `git -C`. The one spelling of "which project" for every command that reads
 * one (up, down, status, logs, doctor, smoke, render, keys, token, mail, init's target).
 */
export const stackDirFlag = Flags.string({char: 'C', description: 'Project directory (holds iam.yaml).', default: '.', helpValue: '<dir>'})

interface DurationFlagOptions {
  description: string
  /** Milliseconds; shown in --help as a duration. */
  default?: number
  /** Smallest value accepted, in milliseconds (default 1: zero is refused). */
  min?: number
  env?: string
  helpGroup?: string
}

/**
 * A duration flag in iam.yaml's syntax (`500ms`, `5s`, `10m`, `1h`), parsed to milliseconds by the parser iam.yaml
 * and the serve commands use (`durationValue`). A bare number or any other text is INVALID_DURATION (exit 2) naming
 * the fix: `--timeout 30s` (or `30ms`), not `--timeout 30`.
 */
export function durationFlag(o: DurationFlagOptions & {default: number}): Interfaces.OptionFlag<number>
export function durationFlag(o: DurationFlagOptions & {default?: undefined}): Interfaces.OptionFlag<number | undefined>
export function durationFlag(o: DurationFlagOptions): Interfaces.OptionFlag<number | undefined> {
  const min = o.min ?? 1
  return Flags.custom<number>({
    description: o.description,
    helpValue: '<duration>',
    ...(o.env === undefined ? {} : {env: o.env}),
    ...(o.helpGroup === undefined ? {} : {helpGroup: o.helpGroup}),
    ...(o.default === undefined ? {} : {default: o.default, defaultHelp: async () => formatDuration(o.default!)}),
    parse: async (input, _ctx, flag) => {
      try {
        return durationValue(flag.name, input, {min}) as number
      } catch (error) {
        return keepMessage(error as IamError)
      }
    },
  })()
}

/**
 * oclif prefixes the message of an error thrown by a flag's parser ("Parsing --x …See more help"); keep ours as it
 * is, so it reads like every other iam error.
 */
function keepMessage(error: IamError): never {
  const message = error.message
  Object.defineProperty(error, 'message', {get: () => message, set: () => {}, enumerable: false, configurable: true})
  throw error
}

/** Flags shared by the commands that talk to Kratos and Keto (roles, tuples, identities, seed). */
export const oryFlags = {
  dir: Flags.string({
    char: 'C',
    description: 'Project directory: its iam.yaml gives the Ory URLs and the roles namespace. Default: the current directory, when it holds iam.yaml.',
    helpValue: '<dir>',
  }),
  'kratos-admin-url': Flags.string({description: 'Kratos admin API. Default: from iam.yaml ports, else http://127.0.0.1:4434.', helpGroup: 'ORY'}),
  'keto-read-url': Flags.string({description: 'Keto read API. Default: from iam.yaml ports, else http://127.0.0.1:4466.', helpGroup: 'ORY'}),
  'keto-write-url': Flags.string({description: 'Keto write API. Default: from iam.yaml ports, else http://127.0.0.1:4467.', helpGroup: 'ORY'}),
  timeout: durationFlag({description: 'Deadline of each call to Kratos or Keto, e.g. 5s.', default: 5000, min: 100, helpGroup: 'ORY'}),
}

/** Flags of `iam clients *`: the project and Hydra's APIs. */
export const hydraFlags = {
  dir: oryFlags.dir,
  'hydra-admin-url': Flags.string({description: "Hydra's admin API. Default: from iam.yaml ports, else http://127.0.0.1:4445.", helpGroup: 'HYDRA'}),
  'hydra-public-url': Flags.string({description: "Hydra's public API (the token endpoint). Default: iam.yaml hydra.publicUrl, else http://127.0.0.1:4444.", helpGroup: 'HYDRA'}),
  timeout: durationFlag({description: 'Deadline of each call to Hydra, e.g. 5s.', default: 5000, min: 100, helpGroup: 'HYDRA'}),
}

/** Flags shared by `iam keys *` and `iam token *`: where the project and its key file are. */
export const projectFlags = {
  dir: stackDirFlag,
  file: Flags.string({char: 'f', description: 'Key file. Default: <dir>/ory/oathkeeper/jwks.json.'}),
}
