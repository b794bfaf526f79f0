import {mkdir, mkdtemp, readdir, readFile, rename, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {initProject, missingGitignoreLines, projectNameFor, type RenderFn} from '../../src/project/init.js'
import {generateJwksFile} from '../../src/keys/generate.js'
import {IamError} from '../../src/errors.js'

/** A stand-in for renderProject: writes a few files the way it does (secrets and keys 0600). */
const stubRender: RenderFn = async (dir) => {
  await mkdir(join(dir, 'ory/kratos'), {recursive: true})
  await writeFile(join(dir, 'ory/kratos/kratos.yml'), 'rendered: true\n')
  await writeFile(join(dir, '.env'), 'SECRET=x\n', {mode: 0o600})
  const jwks = join(dir, 'ory/oathkeeper/jwks.json')
  if (!(await stat(jwks).catch(() => undefined))) await generateJwksFile(jwks, {algorithm: 'RS256'})
}

async function tree(dir: string, base = dir): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const entry of await readdir(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) Object.assign(out, await tree(path, base))
    else out[path.slice(base.length + 1)] = await readFile(path, 'utf8')
  }
  return out
}

describe('initProject (transactional writes)', () => {
  it('a failing render leaves the directory as it was', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iam-init-'))
    await writeFile(join(dir, 'README.md'), 'mine\n')
    const failing: RenderFn = async (stage) => {
      await stubRender(stage, {} as never)
      throw new Error('render exploded')
    }
    await expect(initProject(dir, {render: failing})).rejects.toThrow('render exploded')
    expect(await tree(dir)).toEqual({'README.md': 'mine\n'})
  })

  it('a move failing halfway rolls back: new files removed, replaced files restored', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iam-init-'))
    await initProject(dir, {render: stubRender, project: 'p'})
    await writeFile(join(dir, 'ory/kratos/kratos.yml'), 'hand-made\n')
    const before = await tree(dir)
    let calls = 0
    const flaky = async (from: string, to: string): Promise<void> => {
      if (++calls === 5) throw new Error('disk full')
      await rename(from, to)
    }
    let caught: unknown
    try {
      await initProject(dir, {render: stubRender, force: true, rename: flaky})
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(IamError)
    expect(caught).toMatchObject({code: 'INIT_FAILED', details: {rolledBack: true}})
    expect(calls).toBe(5)
    expect(await tree(dir)).toEqual(before)
  })

  it('a directory it created is removed again when init fails', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'iam-init-')), 'new-project')
    await expect(initProject(dir, {render: async () => Promise.reject(new Error('no'))})).rejects.toThrow('no')
    await expect(stat(dir)).rejects.toThrow()
  })

  it('an existing .env (the application\'s own) is handed to render to extend, never replaced', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iam-init-'))
    await writeFile(join(dir, '.env'), 'APP_TOKEN=keep-me\n', {mode: 0o640})
    let seen = ''
    const result = await initProject(dir, {
      render: async (stage, o) => {
        seen = await readFile(join(stage, '.env'), 'utf8')
        await stubRender(stage, o)
      },
    })
    expect(seen).toBe('APP_TOKEN=keep-me\n')
    expect(result.kept).toEqual(['.env'])
  })
})

describe('init helpers', () => {
  it('derives project names from directories', () => {
    expect(projectNameFor('/x/My Cool_App!')).toBe('my-cool_app')
    expect(projectNameFor('/x/---')).toBe('iam')
  })

  it('finds the missing .gitignore lines, accepting /x and x/ spellings', () => {
    expect(missingGitignoreLines('')).toEqual(['.env', 'ory/oathkeeper/jwks.json', '.iam/', '.*.tmp'])
    expect(missingGitignoreLines('/.env\n.iam\n/ory/oathkeeper/jwks.json\n.*.tmp\n')).toEqual([])
  })
})
