import {readFile} from 'node:fs/promises'
import {isAbsolute, join, resolve} from 'node:path'

import {parse as parseYaml} from 'yaml'

import {isIamError} from '../errors.js'
import {resolveEnvRefs} from '../config/env.js'
import {loadConfig} from '../config/load.js'
import {PROJECT_FILES, type TokenAlgorithm} from '../config/model.js'
import {parseDurationMs} from '../config/duration.js'

/** Oathkeeper's default `authenticators.jwt.config.jwks_ttl` (driver/configuration/provider_koanf.go). */
export const OATHKEEPER_DEFAULT_JWKS_TTL_MS = 30_000

/** Token settings of a project, from iam.yaml (or the model's defaults when the project has none). */
export interface TokenSettings {
  issuer: string
  ttlMs: number
  algorithm: TokenAlgorithm
  clockSkewMs: number
  jwksRefreshMs: number
  /** How long Oathkeeper caches the JWKS file before re-reading it (its `jwks_ttl`, read from the rendered config). */
  oathkeeperReloadMs: number
  /** Whether the rendered id_token carries a `roles` claim (iam.yaml `roles.enabled`). */
  rolesClaim: boolean
  /** Where the values came from: the iam.yaml path or "defaults". */
  source: string
}

export const DEFAULT_TOKEN_SETTINGS: Omit<TokenSettings, 'source' | 'oathkeeperReloadMs'> = {
  issuer: 'http://127.0.0.1:4455/',
  ttlMs: 60_000,
  algorithm: 'RS256',
  clockSkewMs: 5_000,
  jwksRefreshMs: 30_000,
  rolesClaim: true,
}

/**
 * Time a retired key must stay published: Oathkeeper signs with it until it re-reads the file (reload TTL), then
 * serves tokens it cached for up to a token TTL, which verifiers accept up to the clock skew past `exp`; the verifier's
 * JWKS refresh interval is added as margin for verifiers that only refresh on a timer.
 */
export function drainWindowMs(s: Pick<TokenSettings, 'ttlMs' | 'clockSkewMs' | 'jwksRefreshMs' | 'oathkeeperReloadMs'>): number {
  return s.ttlMs + s.clockSkewMs + s.jwksRefreshMs + s.oathkeeperReloadMs
}

/**
 * The one call site reading iam.yaml for the keys and token commands. Uses the config module's `loadConfig`; a project
 * without iam.yaml (CONFIG_NOT_FOUND) gets the model's defaults so `--file` works on a bare JWKS.
 */
export async function loadTokenSettings(projectDir: string, env: NodeJS.ProcessEnv = process.env): Promise<TokenSettings> {
  const dir = resolve(projectDir)
  const oathkeeperReloadMs = await readOathkeeperJwksTtl(dir)
  try {
    const {config, path} = await loadConfig(dir, {env})
    const t = config.tokens
    return {issuer: resolveEnvRefs(t.issuer, env), ttlMs: t.ttlMs, algorithm: t.algorithm, clockSkewMs: t.clockSkewMs, jwksRefreshMs: t.jwksRefreshMs, rolesClaim: config.roles.enabled, oathkeeperReloadMs, source: path}
  } catch (error) {
    if (!(isIamError(error) && error.code === 'CONFIG_NOT_FOUND')) throw error
  }
  return {...DEFAULT_TOKEN_SETTINGS, oathkeeperReloadMs, source: 'defaults'}
}

/** Oathkeeper re-reads a file:// JWKS after `authenticators.jwt.config.jwks_ttl` (one fetcher serves the mutator too). */
async function readOathkeeperJwksTtl(projectDir: string): Promise<number> {
  let text: string
  try {
    text = await readFile(join(projectDir, PROJECT_FILES.renderedDir, 'oathkeeper', 'oathkeeper.yml'), 'utf8')
  } catch {
    return OATHKEEPER_DEFAULT_JWKS_TTL_MS
  }
  try {
    const doc = parseYaml(text) as {authenticators?: {jwt?: {config?: {jwks_ttl?: unknown}}}} | null
    const ttl = doc?.authenticators?.jwt?.config?.jwks_ttl
    return typeof ttl === 'string' ? parseDurationMs(ttl, 'jwks_ttl') : OATHKEEPER_DEFAULT_JWKS_TTL_MS
  } catch {
    return OATHKEEPER_DEFAULT_JWKS_TTL_MS
  }
}

/** The key file of a project unless `--file` names one. */
export function keyFilePath(projectDir: string, file?: string): string {
  if (file) return isAbsolute(file) ? file : resolve(file)
  return join(resolve(projectDir), PROJECT_FILES.jwks)
}
