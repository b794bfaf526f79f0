import {mkdtemp, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
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

  it('version --json lists v26.2.0 for each server: pinned, and what the installed binary reports', async () => {
    const r = await runIam(['version', '--json'])
    expect(r.exitCode, r.output).toBe(0)
    const server = {pinned: 'v26.2.0', reported: 'v26.2.0', status: 'ok', path: expect.any(String)}
    expect(r.json).toMatchObject({ory: {version: 'v26.2.0', servers: {oathkeeper: server, keto: server, kratos: server}}})
  })

  it('version flags a binary that reports another version (exit 1) and says which are not installed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iam-version-'))
    try {
      await writeFile(join(dir, 'oathkeeper'), "#!/bin/sh\nprintf 'Version:    v0.40.9\\n'\n", {mode: 0o755})
      await symlink(process.execPath, join(dir, 'node'))
      const env = {IAM_HOME: join(dir, 'empty-home'), PATH: dir}
      const r = await runIam(['version', '--json'], {env})
      expect(r.exitCode, r.output).toBe(1)
      expect(r.json).toMatchObject({
        ory: {servers: {oathkeeper: {pinned: 'v26.2.0', reported: 'v0.40.9', status: 'mismatch', source: 'path'}, kratos: {status: 'missing'}}},
      })
      const text = await runIam(['version'], {env})
      expect(text.stdout).toMatch(/oathkeeper\s+v26\.2\.0\s+binary: v0\.40\.9 \(iam pins v26\.2\.0\)/)
      expect(text.stdout).toMatch(/kratos\s+v26\.2\.0\s+binary: not installed \(iam install\)/)
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
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
