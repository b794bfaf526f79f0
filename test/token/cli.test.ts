import {describe, expect, it} from 'vitest'

import {runIam} from '../helpers/cli.js'
import {jwksPath, tempProject as project} from '../keys/project.js'

describe('iam token (CLI)', () => {
  it('mints a token that verifies, and reports the exact reason a token is rejected (exit 1)', async () => {
    const dir = await project({issuer: 'https://gw.example/', ttl: '60s'})
    expect((await runIam(['keys', 'generate', '--dir', dir])).exitCode).toBe(0)
    const minted = await runIam(['token', 'mint', '--dir', dir, '--sub', 'user-1', '--aud', 'orders-api', '--role', 'admin', '--claims', '{"tenant":"acme"}'])
    expect(minted.exitCode, minted.output).toBe(0)
    const token = minted.stdout.trim()
    expect(token.split('.')).toHaveLength(3)

    const ok = await runIam(['token', 'verify', token, '--dir', dir, '--aud', 'orders-api', '--iss', 'https://gw.example/', '--json'])
    expect(ok.exitCode, ok.output).toBe(0)
    // roles: the extra claim of the rendered mutator (roles are enabled by default in iam.yaml).
    expect(ok.json).toMatchObject({valid: true, claims: {sub: 'user-1', aud: ['orders-api'], iss: 'https://gw.example/', roles: ['admin'], tenant: 'acme'}})

    const stdin = await runIam(['token', 'verify', '-', '--dir', dir], {input: token})
    expect(stdin.exitCode, stdin.output).toBe(0)
    expect(stdin.stderr).toContain('audience not checked')
    // Inside a project the issuer is checked against tokens.issuer without --iss.
    expect(stdin.stderr).not.toContain('issuer not checked')

    const reasons: [string[], string][] = [
      [['--aud', 'billing-api'], 'audience_mismatch'],
      [['--iss', 'https://other.example/'], 'issuer_mismatch'],
    ]
    for (const [flags, reason] of reasons) {
      const r = await runIam(['token', 'verify', token, '--dir', dir, ...flags, '--json'])
      expect(r.exitCode).toBe(1)
      expect(r.json).toMatchObject({error: {code: 'TOKEN_INVALID', details: {reason}}})
    }
    const [h, p, s] = token.split('.')
    const tampered = `${h}.${Buffer.from(JSON.stringify({...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'admin'})).toString('base64url')}.${s}`
    const bad = await runIam(['token', 'verify', tampered, '--dir', dir])
    expect(bad.exitCode).toBe(1)
    expect(bad.stderr).toContain('invalid_signature')
    const garbage = await runIam(['token', 'verify', 'abc', '--dir', dir, '--json'])
    expect(garbage.json).toMatchObject({error: {details: {reason: 'malformed'}}})

    // Expired beyond the skew: a 1s token checked with no skew after it ran out.
    const short = (await runIam(['token', 'mint', '--dir', dir, '--sub', 'u', '--aud', 'a', '--ttl', '1s'])).stdout.trim()
    await new Promise((r) => setTimeout(r, 2_100))
    const expired = await runIam(['token', 'verify', short, '--dir', dir, '--skew', '0s', '--json'])
    expect(expired.json).toMatchObject({error: {details: {reason: 'expired'}}})

    // A different project's key: unknown_kid.
    const other = await project()
    expect((await runIam(['keys', 'generate', '--dir', other])).exitCode).toBe(0)
    const unknown = await runIam(['token', 'verify', token, '--jwks', jwksPath(other), '--json'])
    expect(unknown.json).toMatchObject({error: {details: {reason: 'unknown_kid'}}})
  })

  it('refuses --claims that would override what Oathkeeper sets itself', async () => {
    const dir = await project()
    expect((await runIam(['keys', 'generate', '--dir', dir])).exitCode).toBe(0)
    const r = await runIam(['token', 'mint', '--dir', dir, '--sub', 'u', '--aud', 'a', '--claims', '{"exp": 1}', '--json'])
    expect(r.exitCode).toBe(2)
    expect(r.json).toMatchObject({error: {code: 'TOKEN_INVALID_INPUT'}})
  })
})
