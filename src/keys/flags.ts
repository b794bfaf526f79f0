import {Flags} from '@oclif/core'

/** Flags shared by `iam keys *` and `iam token *`: where the project and its key file are. */
export const projectFlags = {
  dir: Flags.string({char: 'd', description: 'Project directory (holds iam.yaml).', default: '.'}),
  file: Flags.string({char: 'f', description: 'Key file. Default: <dir>/ory/oathkeeper/jwks.json.'}),
}
