/**
 * The keys commands as functions of a project directory: read settings from iam.yaml, act on the key file, return a
 * JSON-ready report (the oclif commands only parse flags and print these).
 */
import {relative} from 'node:path'

import {LAYOUT} from '../project/layout.js'
import {formatDuration} from '../config/duration.js'
import {keyStatuses, type KeyAlgorithm, type KeyStatus} from './jwks.js'
import {pruneKeys, rotateKeys, type PruneResult, type RotateResult} from './rotate.js'
import {drainWindowMs, keyFilePath, loadTokenSettings, type TokenSettings} from './settings.js'
import {readKeySet} from './store.js'

export interface ProjectKeyOptions {
  dir: string
  file?: string
  now?: Date
}

export interface DrainReport {
  drainWindowMs: number
  /** Human form: "125s = token ttl 60s + clock skew 5s + verifier JWKS refresh 30s + Oathkeeper reload 30s". */
  drainWindow: string
  settingsSource: string
}

function drainReport(s: TokenSettings): DrainReport {
  const f = (ms: number): string => formatDuration(Math.round(ms))
  return {
    drainWindowMs: drainWindowMs(s),
    drainWindow: `${f(drainWindowMs(s))} = token ttl ${f(s.ttlMs)} + clock skew ${f(s.clockSkewMs)} + verifier JWKS refresh ${f(s.jwksRefreshMs)} + Oathkeeper JWKS reload ${f(s.oathkeeperReloadMs)}`,
    settingsSource: s.source,
  }
}

export async function listProjectKeys(o: ProjectKeyOptions): Promise<{file: string; keys: KeyStatus[]} & DrainReport> {
  const file = keyFilePath(o.dir, o.file)
  const settings = await loadTokenSettings(o.dir)
  const set = await readKeySet(file)
  const drain = drainReport(settings)
  return {file, keys: keyStatuses(set, o.now ?? new Date(), drain.drainWindowMs), ...drain}
}

export interface RotateReport extends RotateResult, DrainReport {
  file: string
  /** How the running Oathkeeper picks up the new key. */
  reload: {
    /** Oathkeeper re-reads the file after this long: no restart. */
    withinMs: number
    native: string
    compose: string
  }
}

export async function rotateProjectKeys(o: ProjectKeyOptions & {algorithm?: KeyAlgorithm}): Promise<RotateReport> {
  const file = keyFilePath(o.dir, o.file)
  const settings = await loadTokenSettings(o.dir)
  const drain = drainReport(settings)
  const result = await rotateKeys(file, {drainWindowMs: drain.drainWindowMs, algorithm: o.algorithm, now: o.now})
  const within = formatDuration(Math.round(settings.oathkeeperReloadMs))
  return {
    file,
    ...result,
    ...drain,
    reload: {
      withinMs: settings.oathkeeperReloadMs,
      native: `automatic: Oathkeeper re-reads ${relative(o.dir, file) || file} within ${within} (authenticators.jwt.config.jwks_ttl); no restart`,
      // A bind-mounted directory (what the rendered compose file mounts) shows the renamed file; a single-file mount
      // keeps the old inode until the container restarts.
      compose: `automatic within ${within}: the rendered compose file mounts ${LAYOUT.oathkeeperDir} as a directory (if you mount only the file, run: docker compose -f ${LAYOUT.compose} restart oathkeeper)`,
    },
  }
}

export async function pruneProjectKeys(o: ProjectKeyOptions & {dryRun?: boolean; force?: boolean}): Promise<PruneResult & DrainReport & {file: string}> {
  const file = keyFilePath(o.dir, o.file)
  const settings = await loadTokenSettings(o.dir)
  const drain = drainReport(settings)
  const result = await pruneKeys(file, {drainWindowMs: drain.drainWindowMs, now: o.now, dryRun: o.dryRun, force: o.force})
  return {file, ...result, ...drain}
}
