import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {loadWebhookSecret, secretDigest, secretMatches} from '../../../src/servers/http/webhook-secret.js'

describe('webhook secret', () => {
  it('matches only the exact secret, whatever the presented length', () => {
    const digest = secretDigest('s3cret-s3cret-s3cret')
    expect(secretMatches(digest, 's3cret-s3cret-s3cret')).toBe(true)
    for (const wrong of ['', 's', 's3cret-s3cret-s3cre', 's3cret-s3cret-s3cret ', 'x'.repeat(10_000)]) expect(secretMatches(digest, wrong)).toBe(false)
    expect(secretMatches(digest, undefined)).toBe(false)
    expect(secretMatches(digest, ['s3cret-s3cret-s3cret'])).toBe(false)
  })

  it('comes from the file (trailing newline trimmed) before the environment, and is required', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iam-secret-'))
    try {
      const file = join(dir, 'secret')
      await writeFile(file, 'from-the-file-0123456789\n', {mode: 0o600})
      expect(await loadWebhookSecret({envName: 'ROLE_WEBHOOK_SECRET', server: 'The role webhook', secretFile: file, env: {ROLE_WEBHOOK_SECRET: 'from-the-env-0123456789'}})).toBe('from-the-file-0123456789')
      expect(await loadWebhookSecret({envName: 'ROLE_WEBHOOK_SECRET', server: 'The role webhook', env: {ROLE_WEBHOOK_SECRET: 'from-the-env-0123456789'}})).toBe('from-the-env-0123456789')
      await expect(loadWebhookSecret({envName: 'ROLE_WEBHOOK_SECRET', server: 'The role webhook', env: {}})).rejects.toMatchObject({code: 'WEBHOOK_SECRET_MISSING', exitCode: 2})
      await expect(loadWebhookSecret({envName: 'ROLE_WEBHOOK_SECRET', server: 'The role webhook', env: {ROLE_WEBHOOK_SECRET: 'short'}})).rejects.toMatchObject({code: 'WEBHOOK_SECRET_WEAK'})
      await expect(loadWebhookSecret({envName: 'ROLE_WEBHOOK_SECRET', server: 'The role webhook', secretFile: join(dir, 'missing')})).rejects.toMatchObject({code: 'WEBHOOK_SECRET_UNREADABLE'})
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })
})
