import {appendFile, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {PassThrough} from 'node:stream'
import {afterAll, describe, expect, it} from 'vitest'

import {followFiles, tailFile} from '../../src/runtime/logfiles.js'

const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, {recursive: true, force: true})
})

describe('log files', () => {
  it('tailFile returns the last N lines; a missing file is empty', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iam-logs-'))
    dirs.push(dir)
    await writeFile(join(dir, 'a.log'), 'one\ntwo\nthree\n')
    expect(await tailFile(join(dir, 'a.log'), 2)).toEqual(['two', 'three'])
    expect(await tailFile(join(dir, 'a.log'), 10)).toEqual(['one', 'two', 'three'])
    expect(await tailFile(join(dir, 'missing.log'), 5)).toEqual([])
  })

  it('followFiles prints only what is appended, whole lines, prefixed, until aborted', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iam-logs-'))
    dirs.push(dir)
    const a = join(dir, 'kratos.log')
    const b = join(dir, 'keto.log')
    await writeFile(a, 'old line\n')
    await writeFile(b, '')
    const out = new PassThrough()
    let text = ''
    out.on('data', (chunk: Buffer) => (text += chunk.toString()))
    const abort = new AbortController()
    const following = followFiles([{path: a, prefix: 'kratos | '}, {path: b, prefix: 'keto   | '}], out, abort.signal, 20)
    await new Promise((r) => setTimeout(r, 60))
    await appendFile(a, 'new 1\npart')
    await appendFile(b, 'keto 1\n')
    await new Promise((r) => setTimeout(r, 100))
    await appendFile(a, 'ial\n')
    for (let i = 0; i < 100 && !text.includes('partial'); i++) await new Promise((r) => setTimeout(r, 20))
    abort.abort()
    await following
    expect(text).not.toContain('old line')
    expect(text.split('\n').filter(Boolean).sort()).toEqual(['keto   | keto 1', 'kratos | new 1', 'kratos | partial'])
  })
})
