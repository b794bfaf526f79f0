/**
 * `iam render`: renders every file from iam.yaml in memory, then writes only what changed (atomically), creates the
 * secrets and the signing JWKS when missing, and never silently overwrites a file someone edited by hand.
 *
 * Hand-edit detection: ory/.iam-render.json (committed, no secrets) records the sha256 of each file as iam last
 * wrote it. A file whose content matches neither the new rendering nor its recorded hash was edited by someone else:
 * it is reported `hand-edited` and left alone unless `force`. Without a record (first render over existing files) a
 * differing file counts as hand-edited too.
 */
import {createHash} from 'node:crypto'
import {readFile, rm} from 'node:fs/promises'
import {fileURLToPath} from 'node:url'

import {resolveEnvRefs} from '../config/env.js'
import {loadConfig} from '../config/load.js'
import type {IamConfig} from '../config/model.js'
import {generateJwksFile} from '../keys/generate.js'
import {renderAll, type RenderedFile} from '../templates/index.js'
import {writeFileAtomic} from '../util/atomic-write.js'
import {readTextIfExists} from '../util/fs.js'
import {LAYOUT, projectPath} from './layout.js'
import {ensureSecrets, parseDotEnv, secretNames} from './secrets.js'

export type RenderStatus = 'created' | 'updated' | 'unchanged' | 'drifted' | 'hand-edited'

export interface RenderReport {
  files: {path: string; status: RenderStatus}[]
  /** True when a file on disk differs from what iam.yaml renders to (after this run). */
  drift: boolean
}

export interface RenderOptions {
  /** Render this config instead of loading iam.yaml. */
  config?: IamConfig
  /** Write nothing; report what differs. */
  check?: boolean
  /** Overwrite hand-edited files. */
  force?: boolean
  /** Environment for `${VAR}` references (default: process.env over the values in .env). */
  env?: NodeJS.ProcessEnv
}

interface Manifest {
  version: 1
  files: Record<string, string>
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

let packageInfo: Promise<{name: string; version: string}> | undefined
/** This package's name and version (the compose file runs the embedded servers from it). */
export function readPackageInfo(): Promise<{name: string; version: string}> {
  packageInfo ??= readFile(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8').then((text) => {
    const pkg = JSON.parse(text) as {name: string; version: string}
    return {name: pkg.name, version: pkg.version}
  })
  return packageInfo
}

async function readAsset(relative: string): Promise<string> {
  return readFile(fileURLToPath(new URL(`../../templates/ory/${relative}`, import.meta.url)), 'utf8')
}


/** Resolves the `${VAR}` references that end up in rendered files (URLs). smtpUrl stays a reference: see kratosEnv. */
export function resolveRenderRefs(config: IamConfig, env: NodeJS.ProcessEnv): IamConfig {
  const r = (value: string): string => resolveEnvRefs(value, env)
  return {
    ...config,
    kratos: {...config.kratos, publicUrl: r(config.kratos.publicUrl), uiUrl: r(config.kratos.uiUrl), allowedReturnUrls: config.kratos.allowedReturnUrls.map(r)},
    tokens: {...config.tokens, issuer: r(config.tokens.issuer)},
    routes: config.routes.map((route) => ({...route, upstream: r(route.upstream)})),
  }
}

/** The environment `${VAR}` references in iam.yaml resolve against: process.env over the values in .env. */
export async function projectEnv(projectDir: string): Promise<NodeJS.ProcessEnv> {
  const dotenv = parseDotEnv((await readTextIfExists(projectPath(projectDir, LAYOUT.secrets))) ?? '')
  return {...Object.fromEntries(dotenv), ...process.env}
}

/** Renders the project in memory (no I/O besides reading iam.yaml, .env for references and the static assets). */
export async function renderProjectFiles(
  projectDir: string,
  o: Pick<RenderOptions, 'config' | 'env'> = {},
): Promise<{config: IamConfig; files: RenderedFile[]}> {
  const env = o.env ?? (await projectEnv(projectDir))
  const config = o.config ?? (await loadConfig(projectDir, {env})).config
  const pkg = await readPackageInfo()
  const files = renderAll(resolveRenderRefs(config, env), {
    packageName: pkg.name,
    packageVersion: pkg.version,
    assets: {roleWebhookJsonnet: await readAsset('kratos/role-webhook.jsonnet')},
  })
  return {config, files}
}

export async function renderProject(projectDir: string, o: RenderOptions = {}): Promise<RenderReport> {
  const {config, files: rendered} = await renderProjectFiles(projectDir, o)
  const manifestPath = projectPath(projectDir, LAYOUT.manifest)
  const manifestText = await readTextIfExists(manifestPath)
  const previous: Manifest = manifestText ? (JSON.parse(manifestText) as Manifest) : {version: 1, files: {}}
  const next: Manifest = {version: 1, files: {...previous.files}}
  const files: RenderReport['files'] = []
  let drift = false

  for (const file of rendered) {
    const path = projectPath(projectDir, file.path)
    const onDisk = await readTextIfExists(path)
    const wanted = sha256(file.content)
    if (onDisk === file.content) {
      files.push({path: file.path, status: 'unchanged'})
      next.files[file.path] = wanted
      continue
    }
    const ours = onDisk === undefined || previous.files[file.path] === sha256(onDisk)
    if (o.check) {
      files.push({path: file.path, status: ours ? 'drifted' : 'hand-edited'})
      drift = true
      continue
    }
    if (!ours && !o.force) {
      files.push({path: file.path, status: 'hand-edited'})
      drift = true
      continue
    }
    await writeFileAtomic(path, file.content)
    next.files[file.path] = wanted
    files.push({path: file.path, status: onDisk === undefined ? 'created' : 'updated'})
  }

  // Files iam rendered before but no longer renders (e.g. the role hook after disabling roles): remove them when
  // untouched since, report them as hand-edited otherwise.
  const current = new Set(rendered.map((f) => f.path))
  for (const [stale, hash] of Object.entries(previous.files)) {
    if (current.has(stale)) continue
    const path = projectPath(projectDir, stale)
    const onDisk = await readTextIfExists(path)
    delete next.files[stale]
    if (onDisk === undefined) continue
    if (sha256(onDisk) !== hash && !o.force) {
      files.push({path: stale, status: 'hand-edited'})
      drift = true
      next.files[stale] = hash
      continue
    }
    drift ||= Boolean(o.check)
    if (!o.check) await rm(path, {force: true})
    files.push({path: stale, status: o.check ? 'drifted' : 'updated'})
  }

  const secrets = await ensureSecrets(projectDir, {check: o.check, names: secretNames(config)})
  files.push({path: LAYOUT.secrets, status: secrets.status})
  if (secrets.status === 'drifted') drift = true

  const jwksPath = projectPath(projectDir, LAYOUT.jwks)
  if ((await readTextIfExists(jwksPath)) === undefined) {
    if (o.check) {
      files.push({path: LAYOUT.jwks, status: 'drifted'})
      drift = true
    } else {
      await generateJwksFile(jwksPath, {algorithm: config.tokens.algorithm})
      files.push({path: LAYOUT.jwks, status: 'created'})
    }
  } else files.push({path: LAYOUT.jwks, status: 'unchanged'})

  if (!o.check) {
    const manifest = JSON.stringify({version: 1, files: Object.fromEntries(Object.entries(next.files).sort(([a], [b]) => (a < b ? -1 : 1)))}, null, 2) + '\n'
    if (manifest !== manifestText) await writeFileAtomic(manifestPath, manifest)
  }
  return {files, drift}
}
