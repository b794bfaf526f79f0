import {readFile, stat} from 'node:fs/promises'

import {execa} from 'execa'
import {describe, expect, it} from 'vitest'

import {readKeySet} from '../../src/keys/store.js'
import {IAM_BIN, runIam} from '../helpers/cli.js'
import {jwksPath, tempProject as project} from './project.js'

describe('iam keys (CLI)', () => {
  it('generate writes a 0600 JWKS, prints only public information, refuses to overwrite', async () => {
    const dir = await project()
    const r = await runIam(['keys', 'generate', '--dir', dir, '--algorithm', 'ES256', '--json'])
    expect(r.exitCode, r.output).toBe(0)
    const out = r.json as {kid: string; alg: string; file: string; publicJwk: Record<string, string>}
    expect(out).toMatchObject({alg: 'ES256', file: jwksPath(dir)})
    expect(out.publicJwk).not.toHaveProperty('d')
    expect(r.stdout).not.toContain('"d"')
    expect((await stat(jwksPath(dir))).mode & 0o777).toBe(0o600)
    const key = JSON.parse(await readFile(jwksPath(dir), 'utf8')).keys[0]
    expect(key).toMatchObject({kid: out.kid, alg: 'ES256', use: 'sig', kty: 'EC'})

    const again = await runIam(['keys', 'generate', '--dir', dir, '--json'])
    expect(again.exitCode).toBe(2)
    expect(again.json).toMatchObject({error: {code: 'KEYS_EXIST'}})

    const revealed = await runIam(['keys', 'generate', '--dir', dir, '--force', '--reveal', '--json'])
    expect(revealed.exitCode, revealed.output).toBe(0)
    expect((revealed.json as {privateJwks: {keys: {d?: string}[]}}).privateJwks.keys[0]!.d).toEqual(expect.any(String))
  })

  it('rotate, list and prune use the drain window from iam.yaml', async () => {
    const dir = await project({ttl: '10s', clockSkew: '2s', jwksRefresh: '3s'})
    expect((await runIam(['keys', 'generate', '--dir', dir])).exitCode).toBe(0)
    const rotated = await runIam(['keys', 'rotate', '--dir', dir, '--json'])
    expect(rotated.exitCode, rotated.output).toBe(0)
    const rotation = rotated.json as {kid: string; previousKid: string; drainWindowMs: number; prunableAt: string; retiredAt: string; reload: {withinMs: number}}
    // 10s ttl + 2s skew + 3s verifier refresh + Oathkeeper's default 30s jwks_ttl (no rendered oathkeeper.yml here).
    expect(rotation.drainWindowMs).toBe(45_000)
    expect(rotation.reload.withinMs).toBe(30_000)
    expect(Date.parse(rotation.prunableAt) - Date.parse(rotation.retiredAt)).toBe(45_000)

    const listed = await runIam(['keys', 'list', '--dir', dir, '--json'])
    expect((listed.json as {keys: unknown[]}).keys).toEqual([
      expect.objectContaining({kid: rotation.previousKid, role: 'verify-only', prunableAt: rotation.prunableAt}),
      expect.objectContaining({kid: rotation.kid, role: 'signing'}),
    ])
    const human = await runIam(['keys', 'list', '--dir', dir])
    expect(human.stdout).toMatch(/KID\s+ALG\s+CREATED\s+ROLE/)
    expect(human.stdout).not.toContain('"d"')

    const early = await runIam(['keys', 'prune', '--dir', dir, '--json'])
    expect((early.json as {pruned: unknown[]}).pruned).toEqual([])
    const dry = await runIam(['keys', 'prune', '--dir', dir, '--force', '--dry-run'])
    expect(dry.stdout).toContain(`would remove ${rotation.previousKid}`)
    expect(dry.stderr).toMatch(/warning: would prune .* before its drain window ends/)
    const forced = await runIam(['keys', 'prune', '--dir', dir, '--force', '--json'])
    expect((forced.json as {pruned: {kid: string}[]}).pruned.map((k) => k.kid)).toEqual([rotation.previousKid])
    const after = JSON.parse(await readFile(jwksPath(dir), 'utf8')) as {keys: {kid: string}[]}
    expect(after.keys.map((k) => k.kid)).toEqual([rotation.kid])
  })

  it('a rotation killed at any moment leaves a valid key file (old or new), and the next rotation proceeds', async () => {
    const dir = await project()
    expect((await runIam(['keys', 'generate', '--dir', dir, '--algorithm', 'RS256'])).exitCode).toBe(0)
    let kids = (await readKeySet(jwksPath(dir))).keys.map((k) => k.kid)
    for (const delayMs of [50, 300, 600, 900, 1200, 1500]) {
      const child = execa('node', [IAM_BIN, 'keys', 'rotate', '--dir', dir], {reject: false})
      await new Promise((r) => setTimeout(r, delayMs))
      child.kill('SIGKILL')
      await child
      const now = (await readKeySet(jwksPath(dir))).keys.map((k) => k.kid)
      // Either untouched or exactly one key appended: never torn, never a lost key.
      expect(now.slice(0, kids.length)).toEqual(kids)
      expect(now.length - kids.length).toBeLessThanOrEqual(1)
      kids = now
    }
    const after = await runIam(['keys', 'rotate', '--dir', dir, '--json'])
    expect(after.exitCode, after.output).toBe(0)
    expect((after.json as {previousKid: string}).previousKid).toBe(kids.at(-1))
  })

  it('a missing key file is a usage error naming the fix', async () => {
    const dir = await project()
    const r = await runIam(['keys', 'list', '--dir', dir, '--json'])
    expect(r.exitCode).toBe(2)
    expect(r.json).toMatchObject({error: {code: 'KEYS_NOT_FOUND', suggestion: expect.stringContaining('iam keys generate')}})
  })

  it('every keys and token command has --help examples', async () => {
    for (const command of [['keys', 'generate'], ['keys', 'rotate'], ['keys', 'prune'], ['keys', 'list'], ['token', 'mint'], ['token', 'verify']]) {
      const r = await runIam([...command, '--help'])
      expect(r.exitCode).toBe(0)
      expect(r.stdout).toContain('EXAMPLES')
    }
  })
})
