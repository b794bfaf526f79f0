import {mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {findEnvRefs, resolveEnvRefs} from '../../src/config/env.js'
import {loadConfig} from '../../src/config/load.js'
import {IamError} from '../../src/errors.js'

describe('resolveEnvRefs', () => {
  it('substitutes set variables and defaults', () => {
    expect(resolveEnvRefs('http://${HOST}:${PORT:-8080}/x', {HOST: 'api'})).toBe('http://api:8080/x')
    expect(resolveEnvRefs('${A:-}', {})).toBe('')
    expect(resolveEnvRefs('${A:-d}', {A: ''})).toBe('d')
    expect(resolveEnvRefs('plain', {})).toBe('plain')
  })

  it('keeps $${ as a literal ${', () => {
    expect(resolveEnvRefs('$${NOT_A_REF}', {NOT_A_REF: 'x'})).toBe('${NOT_A_REF}')
    expect(findEnvRefs('$${X} ${Y}')).toEqual([{name: 'Y', index: 6}])
  })

  it('throws CONFIG_ENV_MISSING (exit 2) naming the variable, never a value', () => {
    let caught: unknown
    try {
      resolveEnvRefs('smtp://${SMTP_USER}:${SMTP_PASSWORD}@mail', {SMTP_USER: 'secret-user'})
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(IamError)
    expect(caught).toMatchObject({code: 'CONFIG_ENV_MISSING', exitCode: 2, details: {variable: 'SMTP_PASSWORD'}})
    expect((caught as Error).message).not.toContain('secret-user')
  })
})

describe('loadConfig', () => {
  it('reads iam.yaml, keeps references verbatim and reports which are set', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iam-config-'))
    await writeFile(join(dir, 'iam.yaml'), 'version: 1\nproject: demo\nkratos:\n  smtpUrl: ${SMTP_URL}\ntokens:\n  issuer: ${ISSUER:-http://x/}\n')
    const loaded = await loadConfig(dir, {env: {SMTP_URL: 'smtp://u:p@h/'}})
    expect(loaded.path).toBe(join(dir, 'iam.yaml'))
    expect(loaded.config.kratos.smtpUrl).toBe('${SMTP_URL}')
    expect(loaded.source).toContain('project: demo')
    expect(loaded.envRefs).toEqual([
      {path: 'kratos.smtpUrl', name: 'SMTP_URL', set: true, hasDefault: false},
      {path: 'tokens.issuer', name: 'ISSUER', set: false, hasDefault: true},
    ])
  })

  it('CONFIG_NOT_FOUND (exit 2) without iam.yaml', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iam-config-'))
    await expect(loadConfig(dir)).rejects.toMatchObject({code: 'CONFIG_NOT_FOUND', exitCode: 2})
  })

  it('CONFIG_INVALID names the file it read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iam-config-'))
    await writeFile(join(dir, 'iam.yaml'), 'version: 1\nproject: demo\nruntime: podman\n')
    await expect(loadConfig(dir)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      details: {file: join(dir, 'iam.yaml'), line: 3, column: 10, errors: [{path: 'runtime', allowed: ['auto', 'compose', 'native']}]},
    })
  })
})
