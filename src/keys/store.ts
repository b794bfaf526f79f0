import {readFile} from 'node:fs/promises'

import {IamError} from '../errors.js'
import {writeFileAtomic} from '../util/atomic-write.js'
import {parseKeySet, serializeKeySet, type KeySet} from './jwks.js'

/** Reads and validates the key file. */
export async function readKeySet(path: string): Promise<KeySet> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new IamError('KEYS_NOT_FOUND', `no key file at ${path}`, {
        exitCode: 2,
        suggestion: 'Create it with `iam keys generate` (or `iam render`), or point --file / --dir at your project.',
        details: {file: path},
      })
    }
    throw error
  }
  return parseKeySet(text, path)
}

/** The one way key files are written: validated, atomically (temp file + fsync + rename), mode 0600. */
export async function writeKeySet(path: string, set: KeySet): Promise<void> {
  const text = serializeKeySet(set)
  parseKeySet(text, path) // never write a file we could not read back
  await writeFileAtomic(path, text, {mode: 0o600})
}
