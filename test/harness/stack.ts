/**
 * A rendered project's Ory servers, started as the native runtime starts them: `renderProject` into a harness temp
 * dir, then the REAL Keto, Kratos and Oathkeeper from the rendered files (cwd = ory/<server>, env from
 * src/project/env.ts). Our own servers (role webhook, batch-auth) are left to the test: it starts the real ones or
 * recorders on the rendered ports. Stopped and cleaned up after the test file like every harness server.
 */
import {mkdir} from 'node:fs/promises'

import {DEFAULT_PORTS} from '../../src/config/defaults.js'
import type {IamConfig, PortsConfig} from '../../src/config/model.js'
import {kratosEnv, ketoEnv} from '../../src/project/env.js'
import {LAYOUT, projectPath} from '../../src/project/layout.js'
import {renderProject} from '../../src/project/render.js'
import {readSecrets} from '../../src/project/secrets.js'
import {getFreePorts} from './ports.js'
import {startOryFromConfig, tempDir} from './index.js'

/** Every port of iam.yaml (the defaults' keys, so a new port is never left on its default in a test). */
export const PORT_NAMES = Object.keys(DEFAULT_PORTS) as (keyof PortsConfig)[]

/** Distinct free loopback ports for every port of iam.yaml (test files and benches run stacks side by side). */
export async function freeProjectPorts(): Promise<PortsConfig> {
  return getFreePorts(PORT_NAMES)
}

export const loopback = (port: number): string => `http://127.0.0.1:${port}`

export interface RenderedStack {
  dir: string
  secrets: Awaited<ReturnType<typeof readSecrets>>
  urls: {kratosPublic: string; kratosAdmin: string; ketoRead: string; ketoWrite: string; proxy: string; api: string}
}

export async function startRenderedStack(config: IamConfig, label: string): Promise<RenderedStack> {
  const dir = await tempDir(label)
  await renderProject(dir, {config})
  await mkdir(projectPath(dir, LAYOUT.dataDir), {recursive: true})
  const secrets = await readSecrets(dir)
  const {ports} = config
  const urls = {
    kratosPublic: loopback(ports.kratosPublic),
    kratosAdmin: loopback(ports.kratosAdmin),
    ketoRead: loopback(ports.ketoRead),
    ketoWrite: loopback(ports.ketoWrite),
    proxy: loopback(ports.oathkeeperProxy),
    api: loopback(ports.oathkeeperApi),
  }
  await Promise.all([
    startOryFromConfig({
      server: 'keto',
      configPath: projectPath(dir, LAYOUT.ketoConfig),
      env: ketoEnv({config, projectDir: dir, secrets}),
      readyUrls: [`${urls.ketoRead}/health/ready`, `${urls.ketoWrite}/health/ready`],
    }),
    startOryFromConfig({
      server: 'kratos',
      configPath: projectPath(dir, LAYOUT.kratosConfig),
      env: kratosEnv({config, projectDir: dir, secrets}),
      readyUrls: [`${urls.kratosPublic}/health/ready`, `${urls.kratosAdmin}/health/ready`],
    }),
    startOryFromConfig({server: 'oathkeeper', configPath: projectPath(dir, LAYOUT.oathkeeperConfig), readyUrls: [`${urls.api}/health/ready`]}),
  ])
  return {dir, secrets, urls}
}

/** Self-service registration through Kratos' API flow (password method); returns the session token and identity id. */
export async function registerIdentity(kratosPublic: string, email: string, password: string): Promise<{token: string; identityId: string}> {
  const flow = (await (await fetch(`${kratosPublic}/self-service/registration/api`)).json()) as {id: string}
  const res = await fetch(`${kratosPublic}/self-service/registration?flow=${flow.id}`, {
    method: 'POST',
    headers: {'content-type': 'application/json', accept: 'application/json'},
    body: JSON.stringify({method: 'password', password, traits: {email, name: 'Test'}}),
  })
  const body = (await res.json()) as {session_token?: string; identity?: {id: string}}
  if (res.status !== 200 || !body.session_token || !body.identity) throw new Error(`registration of ${email} failed: ${res.status} ${JSON.stringify(body)}`)
  return {token: body.session_token, identityId: body.identity.id}
}

/** Self-service login through Kratos' API flow; answers what Kratos said (a refused login is not an exception here). */
export async function loginIdentity(kratosPublic: string, identifier: string, password: string): Promise<{status: number; token?: string; body: unknown}> {
  const flow = (await (await fetch(`${kratosPublic}/self-service/login/api`)).json()) as {id: string}
  const res = await fetch(`${kratosPublic}/self-service/login?flow=${flow.id}`, {
    method: 'POST',
    headers: {'content-type': 'application/json', accept: 'application/json'},
    body: JSON.stringify({method: 'password', identifier, password}),
  })
  const text = await res.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // not JSON: keep the text for the assertion message
  }
  const token = (body as {session_token?: unknown} | null)?.session_token
  return {status: res.status, ...(typeof token === 'string' ? {token} : {}), body}
}
