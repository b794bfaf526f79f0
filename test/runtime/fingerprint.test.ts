/** Unit tests of the service fingerprint `iam up` compares to decide what restarts (see test/stack/converge.test.ts for the real stack). */
import {mkdtemp, mkdir, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {fingerprintChanges, fingerprintOf, startFiles} from '../../src/runtime/fingerprint.js'

const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, {recursive: true, force: true})
})

async function project(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'iam-fp-'))
  dirs.push(dir)
  await mkdir(join(dir, 'ory/oathkeeper'), {recursive: true})
  await writeFile(join(dir, 'ory/oathkeeper/oathkeeper.yml'), 'serve: {}\n')
  await writeFile(join(dir, 'ory/oathkeeper/oathkeeper.compose.yml'), 'serve: {}\n')
  await writeFile(join(dir, 'ory/oathkeeper/rules.json'), '[]')
  await writeFile(join(dir, 'ory/oathkeeper/jwks.json'), '{}')
  return dir
}

describe('fingerprint', () => {
  it('start files: the config folder without compose variants and without what the server reloads by itself', async () => {
    const dir = await project()
    const files = await startFiles(join(dir, 'ory/oathkeeper'), ['rules.json', 'jwks.json'])
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['ory/oathkeeper/oathkeeper.yml'])
  })

  it('names what changed: file, environment, command line; identical input → no reasons', async () => {
    const dir = await project()
    const files = await startFiles(join(dir, 'ory/oathkeeper'), ['rules.json', 'jwks.json'])
    const input = {command: '/bin/true', args: ['serve'], cwd: dir, env: {SECRET: 'hunter2-very-secret'}, files, projectDir: dir}
    const a = await fingerprintOf(input)
    expect(fingerprintChanges(a, await fingerprintOf(input))).toEqual([])
    // Hashes only: a secret in the environment never appears in the record.
    expect(JSON.stringify(a)).not.toContain('hunter2')
    await writeFile(join(dir, 'ory/oathkeeper/oathkeeper.yml'), 'serve: {proxy: {port: 1}}\n')
    const b = await fingerprintOf({...input, env: {SECRET: 'another'}, args: ['serve', '--dev']})
    expect(fingerprintChanges(a, b)).toEqual(['command line changed', 'environment changed', 'ory/oathkeeper/oathkeeper.yml changed'])
  })

  it('a service started by an older iam (no fingerprint) restarts, saying so', async () => {
    const dir = await project()
    const now = await fingerprintOf({command: '/bin/true', args: [], cwd: dir, env: {}, files: [], projectDir: dir})
    expect(fingerprintChanges(undefined, now)).toEqual(['started without a recorded configuration (an older iam)'])
  })
})
