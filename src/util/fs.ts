import {access, readFile} from 'node:fs/promises'

/** True when something exists at `path` (any kind of file); false on any error reaching it. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

/** The file's text, or undefined when it does not exist; any other error (permissions, a directory) is thrown. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}
