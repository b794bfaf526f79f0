/**
 * `iam clients` before anything reaches Hydra: a project with Hydra off is HYDRA_DISABLED (exit 2), no secret is
 * CLIENT_SECRET_MISSING (exit 2), a bad spec is CLIENT_INVALID (exit 2), Hydra not running is ORY_UNREACHABLE (exit 3)
 * naming its admin API.
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {getFreePort} from '../harness/ports.js'
import {runIam} from '../helpers/cli.js'

let parent: string
let off: string
let on: string

beforeAll(async () => {
  parent = await mkdtemp(join(tmpdir(), 'iam-clients-cli-'))
  off = join(parent, 'off')
  on = join(parent, 'on')
  expect((await runIam(['init', off, '--yes'])).exitCode).toBe(0)
  expect((await runIam(['init', on, '--yes', '--machine-clients'])).exitCode).toBe(0)
}, 120_000)

afterAll(async () => {
  await rm(parent, {recursive: true, force: true})
})

const error = (r: {json: unknown}): {code: string; message: string; suggestion?: string} => (r.json as {error: {code: string; message: string; suggestion?: string}}).error

describe('iam clients: refusals before any call', () => {
  it('Hydra off: HYDRA_DISABLED, exit 2, with the fix', async () => {
    const r = await runIam(['clients', 'list', '-C', off, '--json'])
    expect(r.exitCode).toBe(2)
    expect(error(r)).toMatchObject({code: 'HYDRA_DISABLED', suggestion: expect.stringContaining('iam init --machine-clients')})
  })

  it('no secret: CLIENT_SECRET_MISSING, exit 2 (never read from an argument)', async () => {
    const r = await runIam(['clients', 'token', 'billing', '-C', on, '--json'], {env: {IAM_CLIENT_SECRET: ''}})
    expect(r.exitCode).toBe(2)
    expect(error(r)).toMatchObject({code: 'CLIENT_SECRET_MISSING', message: expect.stringContaining('IAM_CLIENT_SECRET')})
  })

  it('a bad spec: CLIENT_INVALID, exit 2, naming what is wrong', async () => {
    const r = await runIam(['clients', 'create', 'bad id', '-C', on, '--json'])
    expect(r.exitCode).toBe(2)
    expect(error(r)).toMatchObject({code: 'CLIENT_INVALID', message: expect.stringContaining('"bad id"')})
    const metadata = await runIam(['clients', 'create', 'ok', '--metadata', 'novalue', '-C', on, '--json'])
    expect(error(metadata)).toMatchObject({code: 'CLIENT_INVALID', message: expect.stringContaining('key=value')})
  })

  it('Hydra not running: ORY_UNREACHABLE, exit 3, naming its admin API', async () => {
    const port = await getFreePort()
    const r = await runIam(['clients', 'list', '-C', on, '--hydra-admin-url', `http://127.0.0.1:${port}`, '--json'])
    expect(r.exitCode).toBe(3)
    expect(error(r)).toMatchObject({code: 'ORY_UNREACHABLE', message: expect.stringContaining('hydra-admin')})
  })
})
