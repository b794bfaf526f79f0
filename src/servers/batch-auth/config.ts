/**
 * batch-auth's settings → its options, with iam's precedence: what was given (a flag, or its environment variable:
 * oclif has merged them) wins, then what iam.yaml says, then BATCH_AUTH_DEFAULTS. Pure; every bad value is a usage
 * error naming the setting.
 */
import type {IamConfig} from '../../config/model.js'
import {durationValue, httpUrlValue, portValue, positiveInt} from '../../util/values.js'
import {parseByteSize, type Logger} from '../http/index.js'
import {usageError} from '../../errors.js'
import {BATCH_AUTH_DEFAULTS, type BatchAuthOptions} from './server.js'

/** The settings as given, text where the user writes text (durations, sizes). */
export interface BatchAuthSettings {
  host?: string
  port?: number
  ketoReadUrl?: string
  timeout?: string
  maxBody?: string
  maxTuples?: number
  maxBatch?: number
  cacheTtl?: string
  cacheSize?: number
  connections?: number
}

/** What batch-auth takes from iam.yaml: its port, Keto's read API on loopback and Keto's batch limit. */
export function batchAuthSettingsFrom(config: IamConfig): BatchAuthSettings {
  return {port: config.ports.batchAuth, ketoReadUrl: `http://127.0.0.1:${config.ports.ketoRead}`, maxBatch: config.keto.maxBatchCheckSize}
}

export function resolveBatchAuthOptions(given: BatchAuthSettings, fromConfig: BatchAuthSettings, logger: Logger): BatchAuthOptions {
  const d = BATCH_AUTH_DEFAULTS
  const pick = <K extends keyof BatchAuthSettings>(key: K): BatchAuthSettings[K] => given[key] ?? fromConfig[key]
  const maxBodyText = pick('maxBody')
  const maxBodyBytes = maxBodyText === undefined ? d.maxBodyBytes : parseByteSize(maxBodyText)
  if (maxBodyBytes === undefined) throw usageError('INVALID_FLAG', `--max-body must be a size like 64kb or 1mb, got "${maxBodyText}".`)
  return {
    host: pick('host') ?? d.host,
    port: portValue('port', pick('port') ?? d.port),
    ketoReadUrl: httpUrlValue('keto-read-url', pick('ketoReadUrl') ?? d.ketoReadUrl),
    timeoutMs: durationValue('timeout', pick('timeout')) ?? d.timeoutMs,
    maxBodyBytes,
    maxTuples: positiveInt('max-tuples', pick('maxTuples')) ?? d.maxTuples,
    maxBatch: positiveInt('max-batch', pick('maxBatch')) ?? d.maxBatch,
    cacheTtlMs: durationValue('cache-ttl', pick('cacheTtl'), {allowZero: true}) ?? d.cacheTtlMs,
    cacheSize: positiveInt('cache-size', pick('cacheSize')) ?? d.cacheSize,
    connections: positiveInt('connections', pick('connections')) ?? d.connections,
    logger,
  }
}
