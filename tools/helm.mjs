#!/usr/bin/env node
// Builds Helm (the tests' `helm template` of the exported values against the official Ory charts) once from the Go
// module proxy into the iam cache: <IAM_HOME or $XDG_CACHE_HOME/iam or ~/.cache/iam>/tools/helm/<version>/helm. A cached
// binary that reports the pinned version is left alone. Prints the binary's path on stdout; exits non-zero with the
// reason when Go is missing or the build fails (the version is stamped with -ldflags, as Helm's release build does). helm.sh/helm/v3 has no `replace` directives, so `go install` works.
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, renameSync, rmSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'

export const HELM_VERSION = 'v3.21.4'

export function helmPath(env = process.env) {
  const home = env.IAM_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'iam')
  return join(home, 'tools', 'helm', HELM_VERSION, 'helm')
}

function reportsVersion(bin) {
  const run = spawnSync(bin, ['version', '--short'], {encoding: 'utf8'})
  return run.status === 0 && run.stdout.startsWith(HELM_VERSION)
}

export function ensureHelm() {
  const bin = helmPath()
  if (existsSync(bin) && reportsVersion(bin)) return bin
  const dir = join(bin, '..')
  const staging = `${dir}.tmp-${process.pid}`
  rmSync(staging, {recursive: true, force: true})
  mkdirSync(staging, {recursive: true})
  const started = Date.now()
  process.stderr.write(`building helm ${HELM_VERSION} from the Go module proxy (cold: minutes) …\n`)
  const build = spawnSync('go', ['install', `-ldflags=-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}`, `helm.sh/helm/v3/cmd/helm@${HELM_VERSION}`], {
    env: {...process.env, GOBIN: staging, GOFLAGS: '-mod=mod', CGO_ENABLED: '0'},
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  if (build.error || build.status !== 0) {
    rmSync(staging, {recursive: true, force: true})
    throw new Error(`go install helm.sh/helm/v3/cmd/helm@${HELM_VERSION} failed${build.error ? `: ${build.error.message}` : ` (exit ${build.status})`}`)
  }
  rmSync(dir, {recursive: true, force: true})
  mkdirSync(join(dir, '..'), {recursive: true})
  renameSync(staging, dir)
  if (!reportsVersion(bin)) throw new Error(`${bin} does not report ${HELM_VERSION}`)
  process.stderr.write(`built helm ${HELM_VERSION} in ${Math.round((Date.now() - started) / 1000)}s\n`)
  return bin
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.stdout.write(`${ensureHelm()}\n`)
  } catch (error) {
    process.stderr.write(`${error.message}\n`)
    process.exit(3)
  }
}
