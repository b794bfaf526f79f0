import {describe, expect, it} from 'vitest'

import {runIam} from '../helpers/cli.js'

describe('CLI conventions', () => {
  it('--version prints the version', async () => {
    const r = await runIam(['--version'])
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toMatch(/^iam\/\d+\.\d+\.\d+ /)
  })

  it('--version --json prints one JSON document', async () => {
    const r = await runIam(['--version', '--json'])
    expect(r.exitCode).toBe(0)
    expect(r.json).toMatchObject({name: 'iam', version: expect.stringMatching(/^\d+\.\d+\.\d+/)})
  })

  it('version --json includes the pinned Ory versions', async () => {
    const r = await runIam(['version', '--json'])
    expect(r.exitCode).toBe(0)
    expect(r.json).toMatchObject({ory: {oathkeeper: 'v0.40.9', keto: 'v0.14.0', kratos: 'v1.3.1', images: 'v26.2.0'}})
  })

  it('--help lists commands', async () => {
    const r = await runIam(['--help'])
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain('version')
  })

  it('an unknown flag is a usage error with exit code 2, as JSON with --json', async () => {
    const r = await runIam(['version', '--no-such-flag', '--json'])
    expect(r.exitCode).toBe(2)
    expect(r.json).toMatchObject({error: {code: 'USAGE', exitCode: 2}})
  })
})
