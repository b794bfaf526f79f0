import {open, readFile, rm, stat} from 'node:fs/promises'

import {IamError} from '../errors.js'
import {generateKey} from './generate.js'
import {keyStatuses, signingKey, type KeyAlgorithm, type KeySet, type KeyStatus} from './jwks.js'
import {readKeySet, writeKeySet} from './store.js'

export interface RotateOptions {
  /** Algorithm of the new key; default: the current signing key's. */
  algorithm?: KeyAlgorithm
  drainWindowMs: number
  now?: Date
  /** How the new set is written (tests inject failures here); default: atomic 0600 write. */
  write?: (path: string, set: KeySet) => Promise<void>
}

export interface RotateResult {
  kid: string
  alg: KeyAlgorithm
  previousKid: string
  retiredAt: string
  /** When `iam keys prune` may remove the previous key. */
  prunableAt: string
  keys: KeyStatus[]
}

/**
 * Makes a new key the signing key: the current signer is marked retired and stays for verification, the new key is
 * appended LAST (where Oathkeeper's signer picks it). The new key is generated completely in memory before the file
 * is touched, and the file is replaced by one atomic rename, so an interruption at any point leaves either the old
 * set or the new one, both valid.
 */
export async function rotateKeys(path: string, o: RotateOptions): Promise<RotateResult> {
  return withKeyLock(path, async () => {
    const now = o.now ?? new Date()
    const current = await readKeySet(path)
    const previous = signingKey(current)
    const key = await generateKey(o.algorithm ?? previous.alg, now)
    const retiredAt = now.toISOString()
    const next: KeySet = {
      keys: [...current.keys.map((k) => (k === previous ? {...k, iam_retired_at: retiredAt} : k)), key],
    }
    await (o.write ?? writeKeySet)(path, next)
    return {
      kid: key.kid,
      alg: key.alg,
      previousKid: previous.kid,
      retiredAt,
      prunableAt: new Date(now.getTime() + o.drainWindowMs).toISOString(),
      keys: keyStatuses(next, now, o.drainWindowMs),
    }
  })
}

export interface PruneOptions {
  drainWindowMs: number
  now?: Date
  /** Report what would be removed without writing. */
  dryRun?: boolean
  /** Also remove retired keys still inside the drain window (tokens they signed stop verifying). */
  force?: boolean
}

export interface PruneResult {
  pruned: KeyStatus[]
  kept: KeyStatus[]
  /** Keys removed before their drain window ended (only with force). */
  early: KeyStatus[]
  dryRun: boolean
}

/** Removes retired keys whose drain window has passed (all retired keys with `force`); never the signing key. */
export async function pruneKeys(path: string, o: PruneOptions): Promise<PruneResult> {
  const run = async (): Promise<PruneResult> => {
    const now = o.now ?? new Date()
    const set = await readKeySet(path)
    const statuses = keyStatuses(set, now, o.drainWindowMs)
    const remove = (s: KeyStatus): boolean => s.role === 'prunable' || (Boolean(o.force) && s.role === 'verify-only')
    const pruned = statuses.filter(remove)
    const kept = statuses.filter((s) => !remove(s))
    const early = pruned.filter((s) => s.role === 'verify-only')
    if (!o.dryRun && pruned.length > 0) {
      const gone = new Set(pruned.map((s) => s.kid))
      await writeKeySet(path, {keys: set.keys.filter((k) => !gone.has(k.kid))})
    }
    return {pruned, kept, early, dryRun: Boolean(o.dryRun)}
  }
  return o.dryRun ? run() : withKeyLock(path, run)
}

/**
 * Serialises read-modify-write of the key file between iam processes (two rotations at once must not lose a key).
 * The lock file holds the owner's pid; a lock left by a dead process is taken over.
 */
export async function withKeyLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${path}.lock`
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lock, 'wx', 0o600)
      await handle.writeFile(String(process.pid))
      await handle.close()
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const owner = Number((await readFile(lock, 'utf8').catch(() => '')).trim())
      // An empty lock is one being created right now, unless it is old (its creator died before writing its pid).
      const stale = owner > 0 ? !isAlive(owner) : Date.now() - ((await stat(lock).catch(() => undefined))?.mtimeMs ?? 0) > 5_000
      if (stale) {
        await rm(lock, {force: true})
        continue
      }
      if (attempt >= 50) {
        throw new IamError('KEYS_LOCKED', `another iam process (pid ${owner}) is changing ${path}`, {
          suggestion: `Wait for it to finish; if no iam process is running, delete ${lock}.`,
        })
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  try {
    return await fn()
  } finally {
    await rm(lock, {force: true})
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
