import {mkdtemp, readdir, readFile, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {writeFileAtomic} from '../../src/util/atomic-write.js'

describe('writeFileAtomic', () => {
  it('writes content with the exact mode and leaves no temp file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iam-atomic-'))
    const file = join(dir, 'sub', 'secret.json')
    await writeFileAtomic(file, '{"a":1}', {mode: 0o600})
    expect(await readFile(file, 'utf8')).toBe('{"a":1}')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(await readdir(join(dir, 'sub'))).toEqual(['secret.json'])
  })

  it('replaces an existing file and keeps the old one when the write fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iam-atomic-'))
    const file = join(dir, 'f.txt')
    await writeFile(file, 'old')
    await writeFileAtomic(file, 'new')
    expect(await readFile(file, 'utf8')).toBe('new')
    // A directory where the file should be makes rename fail: the original stays, no temp left behind.
    const target = join(dir, 'd')
    await writeFileAtomic(join(target, 'x'), 'x')
    await expect(writeFileAtomic(target, 'nope')).rejects.toThrow()
    expect((await readdir(dir)).sort()).toEqual(['d', 'f.txt'])
  })
})
