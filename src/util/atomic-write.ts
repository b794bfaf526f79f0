import {randomBytes} from 'node:crypto'
import {chmod, mkdir, open, readdir, rename, rm} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'

export interface AtomicWriteOptions {
  /** File mode; 0o600 for secrets and private keys. Default 0o644. */
  mode?: number
}

/** `.<name>.<pid>-<random>.tmp`: the writer's pid in the name lets a later run tell a crashed writer's leftover. */
const TEMP_NAME = /^\.(.+)\.(\d+)-[0-9a-f]{12}\.tmp$/

/** True for a temp file name writeFileAtomic uses (`iam doctor` looks for leftovers with it). */
export function isAtomicTempName(name: string): boolean {
  return TEMP_NAME.test(name)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Removes the temp files of `path` left by writers that no longer run (killed between open and rename). They may
 * hold a secret (a private key, .env); a live writer's file is left alone.
 */
async function removeStaleTemps(dir: string, name: string): Promise<void> {
  let entries: string[]
  try {
    entries = await readdir(dir)
  } catch {
    return
  }
  for (const entry of entries) {
    const m = TEMP_NAME.exec(entry)
    if (m && m[1] === name && !isAlive(Number(m[2]))) await rm(join(dir, entry), {force: true})
  }
}

/**
 * Writes a file so that readers see either the old content or the new, never a torn one: write a temp file in the
 * same directory, fsync it, rename over the target, fsync the directory. A crash at any point leaves the old file,
 * and the next write of the same file removes the crashed writer's temp file. The temp file has the target's mode
 * from its first byte (0600 for secrets), and `iam init`'s .gitignore covers it (`.*.tmp`).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const mode = options.mode ?? 0o644
  const dir = dirname(path)
  await mkdir(dir, {recursive: true})
  await removeStaleTemps(dir, basename(path))
  const tmp = join(dir, `.${basename(path)}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`)
  try {
    const handle = await open(tmp, 'wx', mode)
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    // open()'s mode is filtered by the umask; set it exactly.
    await chmod(tmp, mode)
    await rename(tmp, path)
  } catch (error) {
    await rm(tmp, {force: true})
    throw error
  }
  await syncDirectory(dir)
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  }
}
