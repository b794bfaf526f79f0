// Unit tests of src/ory/launch.ts and src/util/ports.ts (the harness's production building blocks).
import {chmod, mkdir, writeFile} from 'node:fs/promises'
import {createServer as createHttpServer, type Server} from 'node:http'
import {createServer} from 'node:net'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'

import {IamError, isIamError} from '../../src/errors.js'
import {serverBinaryPath} from '../../src/install/paths.js'
import {fatalStartupLine, healthUrls, migrationSpec, resolveOryBinary, serveSpec, waitForReady} from '../../src/ory/launch.js'
import {tempDir} from './index.js'
import {assertPortsFree, describePortOwner, getFreePort, getFreePorts, isPortFree, listeningInodes} from '../../src/util/ports.js'

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
})

async function httpServer(handler: Parameters<typeof createHttpServer>[1]): Promise<string> {
  const server = createHttpServer(handler)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function notReady(promise: Promise<unknown>): Promise<IamError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!isIamError(error)) throw new Error(`expected an IamError, got ${String(error)}`)
  expect(error.code).toBe('NOT_READY')
  return error
}

describe('launch specs', () => {
  const o = {binary: '/bin/x', configPath: '/c/x.yml', dsn: 'sqlite:///d/x.db?_fk=true'}
  it('migrates Kratos and Keto (DSN as env), not Oathkeeper', () => {
    expect(migrationSpec('kratos', o)).toEqual({
      command: '/bin/x',
      args: ['migrate', 'sql', 'up', '-e', '--yes', '-c', '/c/x.yml'],
      env: {SQA_OPT_OUT: 'true', DSN: o.dsn},
    })
    expect(migrationSpec('keto', o)?.args).toEqual(['migrate', 'up', '--yes', '-c', '/c/x.yml'])
    expect(migrationSpec('oathkeeper', o)).toBeUndefined()
  })
  it('serves with the config, --dev only for Kratos when asked, never a DSN for Oathkeeper', () => {
    expect(serveSpec('kratos', {...o, dev: true}).args).toEqual(['serve', '-c', '/c/x.yml', '--sqa-opt-out', '--dev'])
    expect(serveSpec('keto', {...o, dev: true}).args).toEqual(['serve', '-c', '/c/x.yml', '--sqa-opt-out'])
    expect(serveSpec('oathkeeper', o).env).toEqual({SQA_OPT_OUT: 'true'})
  })
  it('health URLs: every API port of Kratos and Keto, the API port of Oathkeeper', () => {
    expect(healthUrls('keto', {read: 'http://h:1', write: 'http://h:2/'})).toEqual(['http://h:1/health/ready', 'http://h:2/health/ready'])
    expect(healthUrls('oathkeeper', {proxy: 'http://h:1', api: 'http://h:2'})).toEqual(['http://h:2/health/ready'])
    expect(() => healthUrls('kratos', {public: 'http://h:1'})).toThrow(/admin/)
  })
  it('recognises the log line of a bind failure', () => {
    expect(fatalStartupLine('ok\nError: unable to listen on "127.0.0.1:1": listen tcp 127.0.0.1:1: bind: address already in use\n')).toMatch(
      /^Error: unable to listen/,
    )
    expect(fatalStartupLine('level=info msg=Starting\n')).toBeUndefined()
  })
})

describe('resolveOryBinary', () => {
  async function fakeBinary(dir: string, name: string): Promise<string> {
    await mkdir(dir, {recursive: true})
    const path = join(dir, name)
    await writeFile(path, '#!/bin/sh\n')
    await chmod(path, 0o755)
    return path
  }
  it('prefers an explicit path, then the installer cache, then PATH', async () => {
    const home = await tempDir('resolve')
    const onPath = await fakeBinary(join(home, 'path-bin'), 'keto')
    const env = {IAM_HOME: home, PATH: `relative:${join(home, 'path-bin')}`}
    expect(await resolveOryBinary('keto', {env})).toEqual({path: onPath, source: 'path'})
    const cached = serverBinaryPath('keto', undefined, env)
    await fakeBinary(join(cached, '..'), 'keto')
    expect(await resolveOryBinary('keto', {env})).toEqual({path: cached, source: 'cache'})
    expect(await resolveOryBinary('keto', {env, explicitPath: onPath})).toEqual({path: onPath, source: 'explicit'})
  })
  it('refuses a file that is not executable', async () => {
    const home = await tempDir('resolve')
    await writeFile(join(home, 'kratos'), 'not a binary')
    const error = await resolveOryBinary('kratos', {env: {IAM_HOME: home, PATH: home}}).catch((e: unknown) => e)
    expect(isIamError(error) && error.code).toBe('ORY_BINARY_MISSING')
  })
})

describe('waitForReady', () => {
  it('resolves once the URL answers 2xx', async () => {
    let calls = 0
    const url = await httpServer((_req, res) => {
      res.statusCode = ++calls < 3 ? 503 : 200
      res.end()
    })
    await waitForReady(url, {timeoutMs: 5000, intervalMs: 10})
    expect(calls).toBe(3)
  })
  it('times out with NOT_READY and the last status', async () => {
    const url = await httpServer((_req, res) => {
      res.statusCode = 503
      res.end('{"status":"not ready"}')
    })
    // Budget for a loaded machine: the first answer must arrive before the deadline for there to be a last status.
    const error = await notReady(waitForReady(url, {timeoutMs: 2000, intervalMs: 20}))
    expect(error.details).toMatchObject({url, lastStatus: 503, lastBody: '{"status":"not ready"}'})
  })
  it('reports the connection error when nothing listens', async () => {
    const url = `http://127.0.0.1:${await getFreePort()}/health/ready`
    const error = await notReady(waitForReady(url, {timeoutMs: 200, intervalMs: 20}))
    expect(String(error.details?.lastError)).toBe('connection refused')
  })
  it('gives up at once when the process died, and on a hanging endpoint after the per-request timeout', async () => {
    const url = await httpServer(() => undefined) // never answers
    const started = Date.now()
    const error = await notReady(waitForReady(url, {timeoutMs: 30_000, requestTimeoutMs: 100, isAlive: () => Date.now() - started < 300}))
    expect(error.message).toMatch(/process exited/)
    expect(Date.now() - started).toBeLessThan(5000)
    expect(error.details?.lastError).toBe('timed out')
  })
  it('stops when its signal aborts', async () => {
    const url = `http://127.0.0.1:${await getFreePort()}/`
    const controller = new AbortController()
    setTimeout(() => controller.abort(new Error('stop now')), 100)
    await expect(waitForReady(url, {timeoutMs: 30_000, signal: controller.signal})).rejects.toThrow('stop now')
  })
})

describe('ports', () => {
  it('getFreePort gives a bindable port; isPortFree and describePortOwner see a listener', async () => {
    const port = await getFreePort()
    expect(await isPortFree(port)).toBe(true)
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    try {
      expect(await isPortFree(port)).toBe(false)
      const owner = await describePortOwner(port)
      expect(owner?.pid).toBe(process.pid)
      expect(owner?.command).toMatch(/node/)
      const error = await assertPortsFree([{service: 'kratos', name: 'api', port}]).catch((e: unknown) => e)
      expect(isIamError(error) && error.code).toBe('PORT_IN_USE')
      expect((error as Error).message).toBe(`Cannot start: port ${port} (kratos api) is in use by pid ${process.pid} (${owner?.command.slice(0, 120)}). Nothing was started.`)
      expect(isIamError(error) && error.exitCode).toBe(3)
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
    expect(await describePortOwner(port)).toBeUndefined()
    await assertPortsFree([{service: 'kratos', name: 'api', port}])
  })
  it('getFreePorts gives distinct free ports for every name', async () => {
    const ports = await getFreePorts(['a', 'b', 'c', 'd', 'e'] as const)
    expect(Object.keys(ports)).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(new Set(Object.values(ports)).size).toBe(5)
    for (const port of Object.values(ports)) expect(await isPortFree(port)).toBe(true)
  })
  it('parses listening sockets out of /proc/net/tcp text', () => {
    const text = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1151 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:1151 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 23456 1 0000000000000000 20 4 30 10 -1',
      '   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 34567 1 0000000000000000 100 0 0 10 0',
    ].join('\n')
    expect(listeningInodes(text, 0x1151)).toEqual(['12345'])
    expect(listeningInodes(text, 8080)).toEqual(['34567'])
    expect(listeningInodes(text, 1)).toEqual([])
  })
})
