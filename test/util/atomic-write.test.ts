import {spawn} from 'node:child_process'
import {mkdtemp, readdir, readFile, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {fileURLToPath} from 'node:url'
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

  it('a writer killed with SIGKILL mid-write leaves a 0600 temp file; the next write of that file removes it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iam-atomic-'))
    const file = join(dir, 'jwks.json')
    const module = fileURLToPath(new URL('../../src/util/atomic-write.ts', import.meta.url))
    // A real process writing a large secret file in a loop, killed while a temp file exists.
    const script = `const {writeFileAtomic} = await import(${JSON.stringify(module)}); const big = 'k'.repeat(8 << 20); for (;;) await writeFileAtomic(${JSON.stringify(file)}, big, {mode: 0o600})`
    let leftovers: string[] = []
    for (let attempt = 0; attempt < 20 && leftovers.length === 0; attempt++) {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {stdio: 'ignore'})
      for (let i = 0; i < 2000 && !(await readdir(dir)).some((f) => f.endsWith('.tmp')); i++) await sleep(2)
      child.kill('SIGKILL')
      await new Promise((resolve) => child.once('exit', resolve))
      leftovers = (await readdir(dir)).filter((f) => f.endsWith('.tmp'))
    }
    expect(leftovers).toHaveLength(1)
    expect(leftovers[0]).toMatch(/^\.jwks\.json\.\d+-[0-9a-f]{12}\.tmp$/)
    expect((await stat(join(dir, leftovers[0]!))).mode & 0o777).toBe(0o600)
    await writeFileAtomic(file, '{"keys":[]}', {mode: 0o600})
    expect(await readdir(dir)).toEqual(['jwks.json'])
  }, 60_000)

  it("a live writer's temp file is left alone", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iam-atomic-'))
    const live = `.f.json.${process.pid}-${'a'.repeat(12)}.tmp`
    await writeFile(join(dir, live), 'in progress')
    await writeFileAtomic(join(dir, 'f.json'), '{}')
    expect((await readdir(dir)).sort()).toEqual([live, 'f.json'].sort())
  })
})
