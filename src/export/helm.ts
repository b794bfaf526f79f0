/**
 * `iam export helm` as a function: renders the project's Kubernetes export (src/export/helm-render.ts) from iam.yaml
 * and writes only the files that changed, atomically; with `check` writes nothing and reports the drift.
 */
import {join, relative, resolve, sep} from 'node:path'

import {usageError} from '../errors.js'
import {LAYOUT} from '../project/layout.js'
import {projectEnv, readPackageInfo, renderProjectFiles, resolveRenderRefs} from '../project/render.js'
import {writeFileAtomic} from '../util/atomic-write.js'
import {readTextIfExists} from '../util/fs.js'
import {checkReleaseName, defaultRelease, renderHelmExport} from './helm-render.js'

export type ExportStatus = 'created' | 'updated' | 'unchanged' | 'drifted'

export interface HelmExportReport {
  out: string
  release: string
  namespace: string
  files: {path: string; status: ExportStatus}[]
  /** True with `check` when a file is missing or differs from what iam.yaml exports to. */
  drift: boolean
  warnings: string[]
}

export interface HelmExportRequest {
  /** Output folder (relative paths resolve against the project directory). */
  out: string
  check?: boolean
  release?: string
  namespace?: string
}

export async function exportHelm(projectDir: string, request: HelmExportRequest): Promise<HelmExportReport> {
  const env = await projectEnv(projectDir)
  const {config, files: rendered} = await renderProjectFiles(projectDir, {env})
  const release = request.release ?? defaultRelease(config.project)
  const problem = checkReleaseName(release)
  if (problem) throw usageError('USAGE', `--release "${release}" is not a usable release name: ${problem}.`, {suggestion: 'Pass e.g. --release iam.'})
  const namespace = request.namespace ?? release
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || namespace.length > 63) {
    throw usageError('USAGE', `--namespace "${namespace}" is not a Kubernetes namespace name (a DNS label).`, {suggestion: 'Pass e.g. --namespace iam.'})
  }
  const pkg = await readPackageInfo()
  const out = resolve(projectDir, request.out)
  const exported = renderHelmExport(resolveRenderRefs(config, env), {
    release,
    namespace,
    packageName: pkg.name,
    packageVersion: pkg.version,
    roleWebhookJsonnet: rendered.find((f) => f.path === LAYOUT.roleWebhookBody)?.content ?? '',
    dir: relative(projectDir, out).split(sep).join('/') || '.',
  })
  const files: HelmExportReport['files'] = []
  let drift = false
  for (const file of exported.files) {
    const path = join(out, file.path)
    const onDisk = await readTextIfExists(path)
    if (onDisk === file.content) {
      files.push({path: file.path, status: 'unchanged'})
      continue
    }
    if (request.check) {
      files.push({path: file.path, status: 'drifted'})
      drift = true
      continue
    }
    await writeFileAtomic(path, file.content)
    files.push({path: file.path, status: onDisk === undefined ? 'created' : 'updated'})
  }
  return {out, release, namespace, files, drift, warnings: exported.warnings}
}
