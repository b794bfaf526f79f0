/**
 * Each embedded server's config module: what was given (flag or environment) wins over iam.yaml, which wins over the
 * server's defaults; a bad value is a usage error naming the setting.
 */
import {describe, expect, it} from 'vitest'

import {defaultConfig} from '../../src/config/defaults.js'
import {isIamError} from '../../src/errors.js'
import {BATCH_AUTH_DEFAULTS} from '../../src/servers/batch-auth/index.js'
import {batchAuthSettingsFrom, resolveBatchAuthOptions} from '../../src/servers/batch-auth/config.js'
import {createLogger} from '../../src/servers/http/index.js'
import {MAIL_CATCHER_DEFAULTS, mailCatcherSettingsFrom, resolveMailCatcherOptions} from '../../src/servers/mail/config.js'
import {resolveRoleWebhookOptions, ROLE_WEBHOOK_DEFAULTS, roleWebhookSettingsFrom} from '../../src/servers/role-webhook/config.js'

const logger = createLogger({level: 'error'})
const config = defaultConfig('cfg', {ports: {batchAuth: 15470, ketoRead: 15466, kratosAdmin: 15434, roleWebhook: 15471, mailSmtp: 15025, mailUi: 15436}})
config.keto.maxBatchCheckSize = 7
config.roles.namespace = 'AppRole'

function usageCode(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return isIamError(error) && error.exitCode === 2 ? error.code : 'not a usage error'
  }
  return undefined
}

describe('server config modules: given, then iam.yaml, then defaults', () => {
  it('batch-auth', () => {
    const fromYaml = batchAuthSettingsFrom(config)
    expect(resolveBatchAuthOptions({}, {}, logger)).toMatchObject({port: BATCH_AUTH_DEFAULTS.port, maxBatch: BATCH_AUTH_DEFAULTS.maxBatch, ketoReadUrl: BATCH_AUTH_DEFAULTS.ketoReadUrl})
    expect(resolveBatchAuthOptions({}, fromYaml, logger)).toMatchObject({port: 15470, maxBatch: 7, ketoReadUrl: 'http://127.0.0.1:15466'})
    expect(resolveBatchAuthOptions({port: 1, maxBatch: 3, timeout: '1500ms', cacheTtl: '0s', maxBody: '1kb'}, fromYaml, logger)).toMatchObject({port: 1, maxBatch: 3, timeoutMs: 1500, cacheTtlMs: 0, maxBodyBytes: 1024})
    expect(usageCode(() => resolveBatchAuthOptions({timeout: 'soon'}, {}, logger))).toBe('INVALID_DURATION')
    expect(usageCode(() => resolveBatchAuthOptions({ketoReadUrl: 'ftp://x'}, {}, logger))).toBe('INVALID_FLAG')
    expect(usageCode(() => resolveBatchAuthOptions({port: 70_000}, {}, logger))).toBe('INVALID_FLAG')
  })

  it('role webhook', () => {
    const fromYaml = roleWebhookSettingsFrom(config)
    const secret = 'x'.repeat(32)
    expect(resolveRoleWebhookOptions({}, {}, {secret, logger})).toMatchObject({port: ROLE_WEBHOOK_DEFAULTS.port, shape: {namespace: 'Role', relation: 'member'}, timeoutMs: 2000, strict: false})
    expect(resolveRoleWebhookOptions({}, fromYaml, {secret, logger})).toMatchObject({port: 15471, kratosAdminUrl: 'http://127.0.0.1:15434', shape: {namespace: 'AppRole'}})
    expect(resolveRoleWebhookOptions({rolesNamespace: 'Team', timeout: '1s', strict: true}, fromYaml, {secret, logger})).toMatchObject({shape: {namespace: 'Team'}, timeoutMs: 1000, strict: true})
    expect(usageCode(() => resolveRoleWebhookOptions({timeout: '10ms'}, {}, {secret, logger}))).toBe('INVALID_DURATION')
    expect(usageCode(() => resolveRoleWebhookOptions({timeout: '1500'}, {}, {secret, logger}))).toBe('INVALID_DURATION')
  })

  it('mail catcher', () => {
    const fromYaml = mailCatcherSettingsFrom(config)
    expect(resolveMailCatcherOptions({}, {}, logger)).toMatchObject({smtpPort: MAIL_CATCHER_DEFAULTS.smtpPort, httpPort: MAIL_CATCHER_DEFAULTS.httpPort})
    expect(resolveMailCatcherOptions({httpPort: 1}, fromYaml, logger)).toMatchObject({smtpPort: 15025, httpPort: 1})
    expect(usageCode(() => resolveMailCatcherOptions({maxSize: 'huge'}, {}, logger))).toBe('INVALID_FLAG')
  })
})
