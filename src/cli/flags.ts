import {Flags} from '@oclif/core'

/** `-C, --dir`: the project directory of the stack commands (up, down, status, logs, doctor, smoke), as `git -C`. */
export const stackDirFlag = Flags.string({char: 'C', description: 'Project directory.', default: '.'})
