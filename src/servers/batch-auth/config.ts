/**
 * batch-auth's settings → its options, with iam's precedence: what was given (a flag, or its environment variable:
 * oclif has merged them) wins, then what iam.yaml says, then BATCH_AUTH_DEFAULTS. Pure; every bad value is a usage
 * error naming the setting.
 */
import type {IamConfig} from '../../config/model.js'
import {durationValue, httpUrlValue, portValue, positiveInt, precedence, sizeValue} from '../../util/values.js'
import type {Logger} from '../http/index.js'
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
  const pick = precedence(given, fromConfig)
  return {
    host: pick('host') ?? d.host,
    port: portValue('port', pick('port') ?? d.port),
    ketoReadUrl: httpUrlValue('keto-read-url', pick('ketoReadUrl') ?? d.ketoReadUrl),
    timeoutMs: durationValue('timeout', pick('timeout')) ?? d.timeoutMs,
    maxBodyBytes: sizeValue('max-body', pick('maxBody')) ?? d.maxBodyBytes,
    maxTuples: positiveInt('max-tuples', pick('maxTuples')) ?? d.maxTuples,
    maxBatch: positiveInt('max-batch', pick('maxBatch')) ?? d.maxBatch,
    cacheTtlMs: durationValue('cache-ttl', pick('cacheTtl'), {allowZero: true}) ?? d.cacheTtlMs,
    cacheSize: positiveInt('cache-size', pick('cacheSize')) ?? d.cacheSize,
    connections: positiveInt('connections', pick('connections')) ?? d.connections,
    logger,
  }
}
