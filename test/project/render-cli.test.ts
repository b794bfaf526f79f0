import {mkdtemp, readFile, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {LAYOUT} from '../../src/project/layout.js'
import {runIam} from '../helpers/cli.js'

async function projectWithConfig(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'iam-render-cli-'))
  await writeFile(join(dir, 'iam.yaml'), 'version: 1\nproject: demo\n')
  return dir
}

describe('iam render', () => {
  it('--check exits 1 listing the files before the first render, renders, then --check exits 0', async () => {
    const dir = await projectWithConfig()
    const before = await runIam(['render', '--check', '--dir', dir])
    expect(before.exitCode).toBe(1)
    expect(before.stdout).toMatch(/drifted\s+ory\/kratos\/kratos\.yml/)
    expect(before.stderr).toContain('drift:')

    const render = await runIam(['render', '--dir', dir])
    expect(render.exitCode).toBe(0)
    expect(render.stdout).toMatch(/created\s+ory\/oathkeeper\/rules\.json/)
    expect(render.stdout).toMatch(/created\s+\.env/)
    // Secrets are never printed.
    const env = await readFile(join(dir, '.env'), 'utf8')
    const secret = /ROLE_WEBHOOK_SECRET=(.+)/.exec(env)![1]!
    expect(render.stdout + render.stderr).not.toContain(secret)

    const clean = await runIam(['render', '--check', '--dir', dir])
    expect(clean.exitCode).toBe(0)
    expect(clean.stdout).toMatch(/unchanged\s+ory\/compose\.yaml/)
  })

  it('--check --json reports drift with exit 1; a hand-edited file is kept without --force', async () => {
    const dir = await projectWithConfig()
    expect((await runIam(['render', '--dir', dir])).exitCode).toBe(0)
    const path = join(dir, LAYOUT.kratosConfig)
    await writeFile(path, (await readFile(path, 'utf8')) + '# edited\n')

    const check = await runIam(['render', '--check', '--json', '--dir', dir])
    expect(check.exitCode).toBe(1)
    const report = check.json as {drift: boolean; files: {path: string; status: string}[]}
    expect(report.drift).toBe(true)
    expect(report.files.find((f) => f.path === LAYOUT.kratosConfig)?.status).toBe('hand-edited')

    const again = await runIam(['render', '--dir', dir])
    expect(again.exitCode).toBe(0)
    expect(again.stdout).toMatch(/hand-edited\s+ory\/kratos\/kratos\.yml/)
    expect(await readFile(path, 'utf8')).toContain('# edited')

    expect((await runIam(['render', '--force', '--dir', dir])).exitCode).toBe(0)
    expect(await readFile(path, 'utf8')).not.toContain('# edited')
    expect((await runIam(['render', '--check', '--dir', dir])).exitCode).toBe(0)
  })

  it('a broken iam.yaml exits 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iam-render-cli-'))
    await writeFile(join(dir, 'iam.yaml'), 'version: 1\nproject: demo\nbogus: true\n')
    const result = await runIam(['render', '--dir', dir])
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain('CONFIG_INVALID')
  })
})
