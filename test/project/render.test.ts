import {chmod, mkdtemp, readFile, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {LAYOUT, SECRET_NAMES} from '../../src/project/layout.js'
import {renderProject, type RenderReport} from '../../src/project/render.js'
import {ensureSecrets, parseDotEnv, readSecrets} from '../../src/project/secrets.js'
import {testConfig} from '../templates/fixture.js'

const statusOf = (report: RenderReport, path: string): string | undefined => report.files.find((f) => f.path === path)?.status

async function project(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'iam-render-'))
}

describe('renderProject', () => {
  it('creates every file, the secrets (0600) and the JWKS (0600), then reports everything unchanged', async () => {
    const dir = await project()
    const config = testConfig()
    const first = await renderProject(dir, {config})
    expect(first.drift).toBe(false)
    for (const path of [LAYOUT.kratosConfig, LAYOUT.identitySchema, LAYOUT.roleWebhookBody, LAYOUT.ketoConfig, LAYOUT.ketoNamespaces, LAYOUT.oathkeeperConfig, LAYOUT.oathkeeperRules, LAYOUT.compose, LAYOUT.secrets, LAYOUT.jwks]) {
      expect(statusOf(first, path), path).toBe('created')
    }
    expect((await stat(join(dir, LAYOUT.secrets))).mode & 0o777).toBe(0o600)
    expect((await stat(join(dir, LAYOUT.jwks))).mode & 0o777).toBe(0o600)
    const jwks = JSON.parse(await readFile(join(dir, LAYOUT.jwks), 'utf8')) as {keys: {alg: string; d?: string}[]}
    expect(jwks.keys[0]!.alg).toBe('RS256')
    const second = await renderProject(dir, {config})
    expect(second.drift).toBe(false)
    expect(second.files.every((f) => f.status === 'unchanged')).toBe(true)
  })

  it('secrets: strong, base64url, Kratos-sized cipher, kept across renders, other lines preserved', async () => {
    const dir = await project()
    await writeFile(join(dir, '.env'), '# mine\nSMTP_URL=smtp://x\nROLE_WEBHOOK_SECRET=keep-me-please-0123456789\n', {mode: 0o644})
    const report = await renderProject(dir, {config: testConfig()})
    expect(statusOf(report, LAYOUT.secrets)).toBe('updated')
    const text = await readFile(join(dir, '.env'), 'utf8')
    expect(text.startsWith('# mine\nSMTP_URL=smtp://x\nROLE_WEBHOOK_SECRET=keep-me-please-0123456789\n')).toBe(true)
    const values = parseDotEnv(text)
    expect(values.get('KRATOS_SECRETS_CIPHER')).toMatch(/^[A-Za-z0-9_-]{32}$/)
    expect(values.get('KRATOS_SECRETS_COOKIE')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect((await stat(join(dir, LAYOUT.secrets))).mode & 0o777).toBe(0o600)
    const secrets = await readSecrets(dir)
    for (const name of SECRET_NAMES) expect(secrets[name]).toBeTruthy()
    await renderProject(dir, {config: testConfig()})
    expect(await readFile(join(dir, '.env'), 'utf8')).toBe(text)
    // A loosened mode is tightened again.
    await chmod(join(dir, '.env'), 0o644)
    expect((await ensureSecrets(dir)).status).toBe('unchanged')
    expect((await stat(join(dir, LAYOUT.secrets))).mode & 0o777).toBe(0o600)
  })

  it('a changed iam.yaml updates the files iam wrote', async () => {
    const dir = await project()
    await renderProject(dir, {config: testConfig()})
    const report = await renderProject(dir, {config: testConfig((c) => (c.tokens.ttlMs = 30_000))})
    expect(statusOf(report, LAYOUT.oathkeeperConfig)).toBe('updated')
    expect(statusOf(report, LAYOUT.kratosConfig)).toBe('unchanged')
    expect(await readFile(join(dir, LAYOUT.oathkeeperConfig), 'utf8')).toContain('ttl: 30s')
  })

  it('a hand-edited file is reported and kept; --force overwrites it', async () => {
    const dir = await project()
    await renderProject(dir, {config: testConfig()})
    const path = join(dir, LAYOUT.ketoConfig)
    const edited = (await readFile(path, 'utf8')) + '# my tweak\n'
    await writeFile(path, edited)
    const kept = await renderProject(dir, {config: testConfig((c) => (c.keto.maxBatchCheckSize = 20))})
    expect(statusOf(kept, LAYOUT.ketoConfig)).toBe('hand-edited')
    expect(kept.drift).toBe(true)
    expect(await readFile(path, 'utf8')).toBe(edited)
    // Still hand-edited on the next run (the record keeps what iam wrote, not the edit).
    expect(statusOf(await renderProject(dir, {config: testConfig()}), LAYOUT.ketoConfig)).toBe('hand-edited')
    const forced = await renderProject(dir, {config: testConfig((c) => (c.keto.maxBatchCheckSize = 20)), force: true})
    expect(statusOf(forced, LAYOUT.ketoConfig)).toBe('updated')
    expect(await readFile(path, 'utf8')).toContain('max_batch_check_size: 20')
  })

  it('check mode writes nothing and reports drift', async () => {
    const dir = await project()
    const missing = await renderProject(dir, {config: testConfig(), check: true})
    expect(missing.drift).toBe(true)
    expect(missing.files.every((f) => f.status === 'drifted')).toBe(true)
    await expect(stat(join(dir, 'ory'))).rejects.toThrow()
    await expect(stat(join(dir, '.env'))).rejects.toThrow()
    await renderProject(dir, {config: testConfig()})
    expect((await renderProject(dir, {config: testConfig(), check: true})).drift).toBe(false)
    const changed = await renderProject(dir, {config: testConfig((c) => (c.ports.batchAuth = 5000)), check: true})
    expect(changed.drift).toBe(true)
    expect(changed.files.filter((f) => f.status === 'drifted').map((f) => f.path)).toEqual([LAYOUT.compose, LAYOUT.oathkeeperComposeConfig, LAYOUT.oathkeeperConfig])
    await writeFile(join(dir, LAYOUT.compose), 'edited\n')
    expect(statusOf(await renderProject(dir, {config: testConfig(), check: true}), LAYOUT.compose)).toBe('hand-edited')
  })

  it('a file iam no longer renders is removed when untouched (roles disabled → no hook body)', async () => {
    const dir = await project()
    await renderProject(dir, {config: testConfig()})
    const report = await renderProject(dir, {config: testConfig((c) => (c.roles.enabled = false))})
    expect(statusOf(report, LAYOUT.roleWebhookBody)).toBe('updated')
    await expect(stat(join(dir, LAYOUT.roleWebhookBody))).rejects.toThrow()
    const manifest = JSON.parse(await readFile(join(dir, LAYOUT.manifest), 'utf8')) as {files: Record<string, string>}
    expect(Object.keys(manifest.files)).not.toContain(LAYOUT.roleWebhookBody)
  })

  it('${VAR} references in URL fields resolve from .env (or the environment); the SMTP URL stays out of the files', async () => {
    const dir = await project()
    await writeFile(join(dir, '.env'), 'APP_URL=http://127.0.0.1:9999\nSMTP_URL=smtp://user:pw@mail:25/\n', {mode: 0o600})
    const config = testConfig((c) => {
      c.routes[0]!.upstream = '${APP_URL}'
      c.kratos.smtpUrl = '${SMTP_URL}'
    })
    await renderProject(dir, {config})
    expect(await readFile(join(dir, LAYOUT.oathkeeperRules), 'utf8')).toContain('"url": "http://127.0.0.1:9999"')
    expect(await readFile(join(dir, LAYOUT.kratosConfig), 'utf8')).not.toContain('pw@mail')
    await renderProject(dir, {config, env: {APP_URL: 'http://127.0.0.1:7777'}})
    expect(await readFile(join(dir, LAYOUT.oathkeeperRules), 'utf8')).toContain('"url": "http://127.0.0.1:7777"')
  })

  it('hand-edit detection works without the state dir (a fresh clone has the committed manifest)', async () => {
    const dir = await project()
    await renderProject(dir, {config: testConfig()})
    const manifest = JSON.parse(await readFile(join(dir, LAYOUT.manifest), 'utf8')) as {version: number; files: Record<string, string>}
    expect(manifest.version).toBe(1)
    expect(Object.keys(manifest.files)).toContain(LAYOUT.kratosConfig)
    expect(JSON.stringify(manifest)).not.toMatch(/SECRETS|BEGIN|"d":/)
  })
})
