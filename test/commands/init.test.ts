import {mkdtemp, readdir, readFile, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'

import {loadConfig} from '../../src/config/load.js'
import {defaultConfig} from '../../src/config/defaults.js'
import {runIam} from '../helpers/cli.js'

/** Every file under dir (relative), with its content, to prove a refused command changed nothing. */
async function snapshot(dir: string, base = dir): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const entry of await readdir(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) Object.assign(out, await snapshot(path, base))
    else out[path.slice(base.length + 1)] = await readFile(path, 'utf8')
  }
  return out
}

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777

describe('iam init (CLI)', () => {
  let root: string
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'iam-init-cli-'))
  })

  it('--yes creates a complete project: iam.yaml, every Ory file, 0600 secrets and keys, .gitignore', async () => {
    const dir = join(root, 'My Stack')
    const r = await runIam(['init', dir, '--yes', '--json'])
    expect(r.exitCode, r.output).toBe(0)
    const result = r.json as {dir: string; files: string[]; secretsFile: string; jwks: {kid: string; alg: string}}
    expect(result.dir).toBe(dir)
    expect(result.secretsFile).toBe(join(dir, '.env'))
    expect(result.jwks).toEqual({kid: expect.any(String), alg: 'RS256'})
    expect(result.files).toEqual(expect.arrayContaining(['iam.yaml', '.env', '.gitignore', 'ory/oathkeeper/jwks.json', 'ory/kratos/kratos.yml', 'ory/keto/keto.yml', 'ory/oathkeeper/oathkeeper.yml', 'ory/oathkeeper/rules.json']))
    for (const file of result.files) expect((await stat(join(dir, file))).isFile()).toBe(true)
    expect(await mode(join(dir, '.env'))).toBe(0o600)
    expect(await mode(join(dir, 'ory/oathkeeper/jwks.json'))).toBe(0o600)
    // No secret material in the output, and no temp directory left behind.
    const env = await readFile(join(dir, '.env'), 'utf8')
    for (const line of env.split('\n').filter((l) => l.includes('='))) expect(r.stdout).not.toContain(line.split('=')[1])
    expect(r.stdout).not.toMatch(/"d":/)
    expect((await readdir(dir)).filter((f) => f.startsWith('.iam-init'))).toEqual([])
    // The written iam.yaml loads back as the defaults for the derived project name.
    const loaded = await loadConfig(dir)
    expect(loaded.config).toEqual(defaultConfig('my-stack'))
    expect(await readFile(join(dir, '.gitignore'), 'utf8')).toMatch(/^\.env$[\s\S]*^ory\/oathkeeper\/jwks\.json$[\s\S]*^\.iam\/$/m)
  })

  it('refuses an existing project without --force (exit 2, PROJECT_EXISTS) and changes nothing', async () => {
    const dir = join(root, 'twice')
    expect((await runIam(['init', dir, '--yes'])).exitCode).toBe(0)
    const before = await snapshot(dir)
    const r = await runIam(['init', dir, '--yes', '--json'])
    expect(r.exitCode).toBe(2)
    expect(r.json).toMatchObject({error: {code: 'PROJECT_EXISTS', exitCode: 2}})
    expect(await snapshot(dir)).toEqual(before)
  })

  it('--force replaces iam.yaml and rendered files, keeps the secrets and a same-algorithm key', async () => {
    const dir = join(root, 'forced')
    const first = await runIam(['init', dir, '--yes', '--json'])
    expect(first.exitCode, first.output).toBe(0)
    const env = await readFile(join(dir, '.env'), 'utf8')
    const r = await runIam(['init', dir, '--yes', '--force', '--project', 'renamed', '--runtime', 'native', '--no-roles', '--json'])
    expect(r.exitCode, r.output).toBe(0)
    expect(r.json).toMatchObject({kept: ['.env', 'ory/oathkeeper/jwks.json'], jwks: (first.json as {jwks: unknown}).jwks, removed: ['ory/kratos/hooks/role-webhook.jsonnet']})
    expect(await readFile(join(dir, '.env'), 'utf8')).toBe(env)
    const {config} = await loadConfig(dir)
    expect(config).toMatchObject({project: 'renamed', runtime: 'native', roles: {enabled: false}})
    await expect(stat(join(dir, 'ory/kratos/hooks'))).rejects.toThrow()
  })

  it('asks for --yes when stdin is not a terminal (exit 2) and writes nothing', async () => {
    const dir = join(root, 'no-tty')
    const r = await runIam(['init', dir], {input: ''})
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain('INIT_NOT_INTERACTIVE')
    expect(r.stderr).toContain('--yes')
    await expect(stat(dir)).rejects.toThrow()
  })

  it('updates .gitignore idempotently, appending only missing lines', async () => {
    const dir = join(root, 'gitignore')
    const r0 = await runIam(['init', dir, '--yes', '--project', 'gi'])
    expect(r0.exitCode, r0.output).toBe(0)
    await writeFile(join(dir, '.gitignore'), 'node_modules/\n/.env\n')
    const r1 = await runIam(['init', dir, '--yes', '--force', '--json'])
    expect(r1.exitCode, r1.output).toBe(0)
    expect(r1.json).toMatchObject({gitignoreAdded: ['ory/oathkeeper/jwks.json', '.iam/', '.*.tmp']})
    const once = await readFile(join(dir, '.gitignore'), 'utf8')
    expect(once.startsWith('node_modules/\n/.env\n\n# iam:')).toBe(true)
    const r2 = await runIam(['init', dir, '--yes', '--force', '--json'])
    expect(r2.json).toMatchObject({gitignoreAdded: []})
    expect(await readFile(join(dir, '.gitignore'), 'utf8')).toBe(once)
  })

  it('ES256 and an invalid project name', async () => {
    const dir = join(root, 'es')
    const r = await runIam(['init', dir, '--yes', '--algorithm', 'ES256', '--json'])
    expect(r.exitCode, r.output).toBe(0)
    expect(r.json).toMatchObject({jwks: {alg: 'ES256'}})
    const bad = await runIam(['init', join(root, 'bad'), '--yes', '--project', 'Bad Name', '--json'])
    expect(bad.exitCode).toBe(2)
    expect(bad.json).toMatchObject({error: {code: 'INVALID_PROJECT_NAME'}})
  })
})
