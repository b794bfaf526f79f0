/**
 * The compose file and the native runtime hand Kratos and Keto some config keys as env instead of in the YAML. An env
 * var with a wrong name is silently ignored, so each one is proven here against the real binaries: given an invalid
 * value, the server must refuse it — which it only does when it read the key.
 */
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'
import {beforeAll, describe, expect, it} from 'vitest'

import {resolveOryBinary} from '../../src/ory/launch.js'
import {LAYOUT, projectPath} from '../../src/project/layout.js'
import {renderProject} from '../../src/project/render.js'
import {testConfig} from '../templates/fixture.js'

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iam-env-keys-'))
  await renderProject(dir, {config: testConfig()})
}, 60_000)

async function serve(server: 'kratos' | 'keto', env: Record<string, string>): Promise<string> {
  const binary = (await resolveOryBinary(server)).path
  const configPath = projectPath(dir, server === 'kratos' ? LAYOUT.kratosConfig : LAYOUT.ketoConfig)
  const args = ['serve', '-c', configPath, ...(server === 'kratos' ? ['--dev'] : []), '--sqa-opt-out']
  const result = await execa(binary, args, {cwd: projectPath(dir, `ory/${server}`), env: {DSN: 'memory', SQA_OPT_OUT: 'true', ...env}, reject: false, timeout: server === 'keto' ? 5_000 : 15_000, all: true})
  return result.all ?? ''
}

describe('env keys read by the real servers', () => {
  it('Kratos reads SECRETS_CIPHER, SECRETS_COOKIE, SECRETS_DEFAULT and COURIER_SMTP_CONNECTION_URI', async () => {
    expect(await serve('kratos', {SECRETS_CIPHER: 'short'})).toContain('#/secrets/cipher/0')
    expect(await serve('kratos', {SECRETS_COOKIE: 'short'})).toContain('#/secrets/cookie/0')
    expect(await serve('kratos', {SECRETS_DEFAULT: 'short'})).toContain('#/secrets/default/0')
    expect(await serve('kratos', {COURIER_SMTP_CONNECTION_URI: 'not-a-uri'})).toContain('#/courier/smtp/connection_uri')
  }, 60_000)

  it('Kratos reads SERVE_PUBLIC_HOST and SERVE_ADMIN_HOST', async () => {
    // v26.2.0 fails to listen on the unresolvable host (v1.3.1 logged "public httpd on: 999.1.1.1:14433" first).
    expect(await serve('kratos', {SERVE_PUBLIC_HOST: '999.1.1.1'})).toMatch(/listen tcp: lookup 999\.1\.1\.1/)
    expect(await serve('kratos', {SERVE_ADMIN_HOST: '999.1.1.1'})).toMatch(/listen tcp: lookup 999\.1\.1\.1/)
  }, 60_000)

  it('Kratos decodes SELFSERVICE_FLOWS_*_AFTER as a JSON object (and validates it)', async () => {
    expect(await serve('kratos', {SELFSERVICE_FLOWS_LOGIN_AFTER: '{"hooks":[{"hook":"nope"}]}'})).toContain('#/selfservice/flows/login/after')
    expect(await serve('kratos', {SELFSERVICE_FLOWS_REGISTRATION_AFTER: '{"password":{"hooks":[{"hook":"nope"}]}}'})).toContain('#/selfservice/flows/registration/after')
  }, 60_000)

  it('Keto reads SERVE_READ_HOST and SERVE_WRITE_HOST', async () => {
    expect(await serve('keto', {SERVE_READ_HOST: '999.1.1.1'})).toContain('unable to listen on "999.1.1.1:14466"')
    expect(await serve('keto', {SERVE_WRITE_HOST: '999.1.1.1'})).toContain('unable to listen on "999.1.1.1:14467"')
  }, 60_000)
})
