import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {createServer} from 'node:net'
import {describe, expect, it} from 'vitest'
import {stringify} from 'yaml'

import {isIamError} from '../../src/errors.js'
import {serverBinaryPath} from '../../src/install/paths.js'
import {resolveOryBinary} from '../../src/ory/launch.js'
import {describePortOwner, isPortFree} from '../../src/util/ports.js'
import {getFreePort, getFreePorts, startKeto, startKratos, startOathkeeper, startOryFromConfig, tempDir} from './index.js'
import {collapseRepeats, processExists} from './process.js'
import {ketoConfig, sqliteDsn} from './configs.js'

const portOf = (url: string): number => Number(new URL(url).port)

async function putTuple(writeUrl: string, tuple: object): Promise<number> {
  const response = await fetch(`${writeUrl}/admin/relation-tuples`, {
    method: 'PUT',
    headers: {'content-type': 'application/json'},
    body: JSON.stringify(tuple),
  })
  await response.arrayBuffer()
  return response.status
}

async function isAllowed(readUrl: string, tuple: Record<string, string>): Promise<boolean> {
  const response = await fetch(`${readUrl}/relation-tuples/check/openapi?${new URLSearchParams(tuple)}`)
  return ((await response.json()) as {allowed: boolean}).allowed
}

describe('harness lifecycle', () => {
  it('stop() leaves no process and no listening port; start() brings the same server back with its data', async () => {
    const keto = await startKeto()
    const pid = keto.pid
    expect(pid).toBeTypeOf('number')
    const ports = [portOf(keto.urls.read), portOf(keto.urls.write)]
    expect((await describePortOwner(ports[0]!))?.pid).toBe(pid)

    const tuple = {namespace: 'Tenant', object: 'acme', relation: 'member', subject_id: 'bob'}
    expect(await putTuple(keto.urls.write, tuple)).toBe(201)

    await keto.stop()
    expect(processExists(pid!)).toBe(false)
    for (const port of ports) {
      expect(await isPortFree(port)).toBe(true)
      expect(await describePortOwner(port)).toBeUndefined()
    }
    await expect(fetch(`${keto.urls.read}/health/ready`)).rejects.toThrow()
    await keto.stop() // idempotent

    await keto.start()
    expect(keto.pid).not.toBe(pid)
    expect(keto.urls.read).toBe(`http://127.0.0.1:${ports[0]}`)
    expect(await isAllowed(keto.urls.read, tuple)).toBe(true)
    expect(await isAllowed(keto.urls.read, {...tuple, subject_id: 'eve'})).toBe(false)
    expect(keto.logs()).toContain('exited')
    expect(keto.readyTimesMs).toHaveLength(2)
  })

  it('keeps stray Ory settings of the test environment away from the servers (Ory reads config keys from env)', async () => {
    const key = 'LIMIT_MAX_BATCH_CHECK_SIZE'
    const before = process.env[key]
    process.env[key] = '1'
    const keto = await startKeto().finally(() => {
      if (before === undefined) delete process.env[key]
      else process.env[key] = before
    })
    const tuple = {namespace: 'User', object: 'u', relation: 'self', subject_id: 'u'}
    const response = await fetch(`${keto.urls.read}/relation-tuples/batch/check`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({tuples: [tuple, tuple]}),
    })
    expect(response.status).toBe(200)
  })

  it('gives every Kratos its own database, copied from the migrated template after the first migration', async () => {
    const first = await startKratos()
    const second = await startKratos()
    expect(second.logs()).toContain('copied from the migrated template')
    const created = await fetch(`${first.urls.admin}/admin/identities`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({schema_id: 'default', traits: {email: 'only-in-first@example.test'}}),
    })
    expect(created.status).toBe(201)
    const count = async (admin: string) => ((await (await fetch(`${admin}/admin/identities`)).json()) as unknown[]).length
    expect(await count(first.urls.admin)).toBe(1)
    expect(await count(second.urls.admin)).toBe(0)
  })

  it('starts a server from a config rendered by the caller (DSN from env, migrations first)', async () => {
    const dir = await tempDir('test')
    const ports = await getFreePorts(['read', 'write', 'metrics', 'opl'] as const)
    const config = ketoConfig({dsn: 'memory', ports, namespaces: [{id: 7, name: 'Project'}]})
    const configPath = join(dir, 'keto.yml')
    await writeFile(configPath, stringify(config))
    const read = `http://127.0.0.1:${ports.read}`
    const write = `http://127.0.0.1:${ports.write}`
    const keto = await startOryFromConfig({
      server: 'keto',
      configPath,
      env: {DSN: sqliteDsn(join(dir, 'custom.db'))},
      readyUrls: [`${read}/health/ready`, `${write}/health/ready`],
    })
    expect(keto.urls).toEqual({read, write})
    const tuple = {namespace: 'Project', object: 'p', relation: 'owner', subject_id: 'carol'}
    expect(await putTuple(write, tuple)).toBe(201)
    expect(await isAllowed(read, tuple)).toBe(true)
    // The env DSN won over the config's `memory`: the data lives in the file and survives a restart.
    await keto.stop()
    await keto.start()
    expect(await isAllowed(read, tuple)).toBe(true)
    expect((await readFile(join(dir, 'custom.db'))).length).toBeGreaterThan(0)
  })

  it('a missing binary fails with ORY_BINARY_MISSING and its fix (never a skip)', async () => {
    const empty = await tempDir('empty')
    for (const server of ['keto', 'kratos', 'oathkeeper'] as const) {
      const error = await resolveOryBinary(server, {env: {IAM_HOME: empty, PATH: empty}}).catch((e: unknown) => e)
      expect(isIamError(error)).toBe(true)
      if (!isIamError(error)) continue
      expect(error.code).toBe('ORY_BINARY_MISSING')
      expect(error.exitCode).toBe(3)
      expect(error.suggestion).toContain(`iam install --from-source ${server}`)
      expect(error.details?.looked).toContain(serverBinaryPath(server, undefined, {IAM_HOME: empty}))
    }
    const explicit = await resolveOryBinary('keto', {explicitPath: join(empty, 'keto')}).catch((e: unknown) => e)
    expect(isIamError(explicit) && explicit.code).toBe('ORY_BINARY_MISSING')
    // The start functions resolve with the process environment and fail loudly with the same error.
    const saved = {IAM_HOME: process.env.IAM_HOME, PATH: process.env.PATH}
    Object.assign(process.env, {IAM_HOME: empty, PATH: empty})
    try {
      await expect(startKratos()).rejects.toMatchObject({code: 'ORY_BINARY_MISSING', suggestion: expect.stringContaining('iam install --from-source kratos')})
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key]
        else process.env[key] = value
      }
    }
  })

  it('a taken port fails fast with PORT_IN_USE naming the holder (Keto would hang, not exit)', async () => {
    const taken = await getFreePort()
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(taken, '127.0.0.1', resolve))
    try {
      const dir = await tempDir('test')
      const ports = {...(await getFreePorts(['write', 'metrics', 'opl'] as const)), read: taken}
      const configPath = join(dir, 'keto.yml')
      await writeFile(configPath, stringify(ketoConfig({dsn: sqliteDsn(join(dir, 'k.db')), ports})))
      const error = await startOryFromConfig({server: 'keto', configPath, readyUrls: [`http://127.0.0.1:${taken}/health/ready`]}).catch(
        (e: unknown) => e,
      )
      expect(isIamError(error) && error.code).toBe('PORT_IN_USE')
      expect(isIamError(error) && error.details).toMatchObject({ports: [{port: taken, owner: expect.stringMatching(new RegExp(`^pid ${process.pid} `))}]})
      expect((error as Error).message).toContain(`by pid ${process.pid}`)
    } finally {
      blocker.close()
    }
  })

  it('a server that exits at startup fails with NOT_READY and its log at once, not after the timeout', async () => {
    const dir = await tempDir('test')
    const api = await getFreePort()
    const configPath = join(dir, 'oathkeeper.yml')
    await writeFile(configPath, stringify({serve: {api: {host: '127.0.0.1', port: api}}, authenticators: {no_such_handler: {}}}))
    const error = await startOryFromConfig({server: 'oathkeeper', configPath, readyUrls: [`http://127.0.0.1:${api}/health/ready`]}).catch(
      (e: unknown) => e,
    )
    expect(isIamError(error) && error.code).toBe('NOT_READY')
    expect(isIamError(error) && error.details?.url).toBe(`http://127.0.0.1:${api}/health/ready`)
    expect((error as Error).message).toMatch(/process exited/)
    expect((error as Error).message).toMatch(/no_such_handler/)
  })

  it('refuses an Oathkeeper without rules at once (Oathkeeper would never report ready)', async () => {
    await expect(startOathkeeper({rules: []})).rejects.toThrow(/at least one access rule/)
  })

  it('folds repeated log lines in printed logs', () => {
    const lines = ['start', 'time=1 error path=/health/ready remote=127.0.0.1:5', 'time=2 error path=/health/ready remote=127.0.0.1:6', 'time=3 error path=/health/ready remote=127.0.0.1:7', 'exit']
    expect(collapseRepeats(lines)).toEqual(['start', lines[1], '    … 2 more similar lines', 'exit'])
  })
})
