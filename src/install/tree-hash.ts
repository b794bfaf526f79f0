/**
 * A hash of an extracted source tree that does not depend on how it was archived: GitHub's tag archive and a
 * `git archive | gzip` of the same tag differ in bytes (compression, pax headers, timestamps) but extract to the same
 * files. The hash covers every file's relative path, its executable bit and its content, and every symlink's target;
 * directories count only through what they hold (git does not track empty ones).
 */
import {createHash} from 'node:crypto'
import {readFile, readdir, readlink, lstat} from 'node:fs/promises'
import {join, posix} from 'node:path'

export interface TreeEntry {
  /** Path relative to the tree's root, `/`-separated. */
  path: string
  kind: 'file' | 'symlink'
  executable: boolean
  /** SHA-256 of a file's content; a symlink's target text. */
  digest: string
}

/** The line an entry contributes: JSON-quoted path so no file name can forge another entry. */
export function treeLine(entry: TreeEntry): string {
  const mode = entry.kind === 'symlink' ? 'L' : entry.executable ? 'X' : 'F'
  return `${mode} ${entry.kind === 'symlink' ? JSON.stringify(entry.digest) : entry.digest} ${JSON.stringify(entry.path)}\n`
}

/** Pure: the hash of a list of entries, independent of their order. */
export function hashTreeEntries(entries: TreeEntry[]): string {
  const hash = createHash('sha256')
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  for (const entry of sorted) hash.update(treeLine(entry))
  return hash.digest('hex')
}

/** Walks `root` (not following symlinks) and returns its entries. Sockets, fifos and devices are refused. */
export async function readTreeEntries(root: string): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = []
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const full = join(dir, name)
      const relPath = rel === '' ? name : posix.join(rel, name)
      const info = await lstat(full)
      if (info.isDirectory()) await walk(full, relPath)
      else if (info.isSymbolicLink()) entries.push({path: relPath, kind: 'symlink', executable: false, digest: await readlink(full)})
      else if (info.isFile()) {
        const digest = createHash('sha256').update(await readFile(full)).digest('hex')
        entries.push({path: relPath, kind: 'file', executable: (info.mode & 0o111) !== 0, digest})
      } else throw new Error(`${relPath} is neither a file, a directory nor a symlink`)
    }
  }
  await walk(root, '')
  return entries
}

/** The tree hash of the directory `root`. */
export async function hashTree(root: string): Promise<string> {
  return hashTreeEntries(await readTreeEntries(root))
}
