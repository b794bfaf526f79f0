import {Flags} from '@oclif/core'

/** `-C, --dir`: the project directory of the stack commands (up, down, status, logs, doctor, smoke), as `git -C`. */
export const stackDirFlag = Flags.string({char: 'C', description: 'Project directory.', default: '.'})

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
