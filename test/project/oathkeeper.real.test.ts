/**
 * Real Oathkeeper only: ES256 signing keys (tokens.algorithm) work end to end with the rendered config, a rotated JWKS
 * is picked up within jwks_ttl without a restart, and the compose variant (oathkeeper.compose.yml + rules.compose.json)
 * is accepted by the binary too.
 */
import {createServer} from 'node:http'
import {mkdtemp, readFile, writeFile} from 'node:fs/promises'
import {setTimeout as sleep} from 'node:timers/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {createRemoteJWKSet, decodeProtectedHeader, jwtVerify} from 'jose'
import {afterAll, describe, expect, it} from 'vitest'

import {defaultConfig} from '../../src/config/defaults.js'
import {generateKey} from '../../src/keys/generate.js'
import {LAYOUT, projectPath} from '../../src/project/layout.js'
import {OATHKEEPER_JWKS_TTL_MS} from '../../src/templates/oathkeeper.js'
import {renderProject} from '../../src/project/render.js'
import {getFreePort, startOryFromConfig} from '../harness/index.js'
import {freeProjectPorts} from '../harness/stack.js'

const seen: (string | undefined)[] = []
const upstream = createServer((req, res) => {
  seen.push(req.headers.authorization)
  res.end('ok')
})
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())))

describe('rendered Oathkeeper config on the real Oathkeeper', () => {
  it('ES256: an anonymous route gets an id_token that verifies against the published JWKS; a rotated key is used within jwks_ttl', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iam-es256-'))
    const [proxyPort, apiPort, upstreamPort] = [await getFreePort(), await getFreePort(), await getFreePort()]
    await new Promise<void>((resolve) => upstream.listen(upstreamPort, '127.0.0.1', () => resolve()))
    const config = defaultConfig('es', {ports: {...(await freeProjectPorts()), oathkeeperProxy: proxyPort, oathkeeperApi: apiPort}})
    config.tokens.algorithm = 'ES256'
    config.routes = config.routes.map((r) => ({...r, upstream: `http://127.0.0.1:${upstreamPort}`}))
    await renderProject(dir, {config})
    const api = `http://127.0.0.1:${apiPort}`
    await startOryFromConfig({server: 'oathkeeper', configPath: projectPath(dir, LAYOUT.oathkeeperConfig), readyUrls: [`${api}/health/ready`]})
    const res = await fetch(`http://127.0.0.1:${proxyPort}/public/x`)
    expect(res.status).toBe(200)
    const token = seen.at(-1)!.slice('Bearer '.length)
    const {payload, protectedHeader} = await jwtVerify(token, createRemoteJWKSet(new URL(`${api}/.well-known/jwks.json`)), {audience: 'es-api', issuer: config.tokens.issuer})
    expect(protectedHeader.alg).toBe('ES256')
    expect(payload.sub).toBe('guest')

    // Rotation: append a new key (Oathkeeper signs with the last private key of the file); within jwks_ttl the
    // running server signs with it, without a restart.
    const jwksPath = projectPath(dir, LAYOUT.jwks)
    const jwks = JSON.parse(await readFile(jwksPath, 'utf8')) as {keys: {kid: string}[]}
    const next = await generateKey('ES256')
    await writeFile(jwksPath, JSON.stringify({keys: [...jwks.keys, next]}), {mode: 0o600})
    await sleep(OATHKEEPER_JWKS_TTL_MS + 1_500)
    expect((await fetch(`http://127.0.0.1:${proxyPort}/public/x`)).status).toBe(200)
    expect(decodeProtectedHeader(seen.at(-1)!.slice('Bearer '.length)).kid).toBe(next.kid)
    expect(protectedHeader.kid).toBe(jwks.keys[0]!.kid)
  }, 120_000)

  it('the compose variant of the config and rules loads and becomes ready', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iam-okc-'))
    const [proxyPort, apiPort] = [await getFreePort(), await getFreePort()]
    const ports = {...(await freeProjectPorts()), oathkeeperProxy: proxyPort, oathkeeperApi: apiPort}
    await renderProject(dir, {config: defaultConfig('okc', {ports})})
    const handle = await startOryFromConfig({
      server: 'oathkeeper',
      configPath: projectPath(dir, LAYOUT.oathkeeperComposeConfig),
      readyUrls: [`http://127.0.0.1:${apiPort}/health/ready`],
    })
    const rules = (await (await fetch(`http://127.0.0.1:${apiPort}/rules`)).json()) as {id: string; upstream: {url: string}}[]
    expect(rules.map((r) => r.id).sort()).toEqual(['admin', 'app', 'iam-ory', 'iam-ui', 'public', 'tenant'])
    const byId = Object.fromEntries(rules.map((r) => [r.id, r]))
    expect(byId.public!.upstream.url).toBe(`http://host.docker.internal:${ports.exampleApp}`)
    expect(byId['iam-ory']!.upstream.url).toBe(`http://kratos:${ports.kratosPublic}`)
    expect(byId['iam-ui']!.upstream.url).toBe(`http://ui:${ports.ui}`)
    expect(handle.logs()).toContain('rules.compose.json')
  }, 120_000)
})
