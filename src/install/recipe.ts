/**
 * How each pinned Ory server is built from its tag's source tree, as Ory's release builds do it. Pure data and pure
 * functions: the I/O lives in go-build.ts and source-archive.ts; versions, tags, cgo and the build-info package come
 * from ORY_SPECS.
 */
import {ORY_SPECS, type OryServer} from '../ory/servers.js'

/** The v26 go.mod files say `go 1.26`; with GOTOOLCHAIN=local an older toolchain refuses them. */
export const MIN_GO_VERSION = {major: 1, minor: 26} as const

export interface BuildRecipe {
  server: OryServer
  version: string
  cgo: boolean
  tags: string[]
  /** CGO_CPPFLAGS, when the server sets any. */
  cgoCppFlags?: string
  /** `-X` assignments passed through -ldflags so `<server> version` reports the pinned version. */
  ldflagsX: Record<string, string>
}

export function buildRecipe(server: OryServer): BuildRecipe {
  const spec = ORY_SPECS[server]
  return {
    server,
    version: spec.version,
    cgo: spec.cgo,
    tags: [...spec.buildTags],
    ...(spec.cgoCppFlags ? {cgoCppFlags: spec.cgoCppFlags} : {}),
    ldflagsX: {[`${spec.buildInfoPackage}.Version`]: spec.version},
  }
}

/** Arguments of the `go build` run inside the extracted source tree (`-s -w` as in Ory's release builds). */
export function goBuildArgs(recipe: BuildRecipe, outFile: string): string[] {
  const ldflags = ['-s', '-w', ...Object.entries(recipe.ldflagsX).map(([name, value]) => `-X ${name}=${value}`)].join(' ')
  return [
    'build',
    '-trimpath',
    '-buildvcs=false',
    ...(recipe.tags.length > 0 ? ['-tags', recipe.tags.join(',')] : []),
    '-ldflags',
    ldflags,
    '-o',
    outFile,
    '.',
  ]
}

/**
 * Environment of every go command the installer runs: the machine's own toolchain (never an auto-download),
 * dependencies exactly as the tree's go.sum pins them (`-mod=readonly`), cgo exactly as the recipe says.
 */
export function goEnv(base: NodeJS.ProcessEnv, recipe?: BuildRecipe): NodeJS.ProcessEnv {
  return {
    ...base,
    GOTOOLCHAIN: 'local',
    GOFLAGS: '-mod=readonly',
    // The extracted tree's go.mod alone decides: no go.work around IAM_HOME may change what is built.
    GOWORK: 'off',
    ...(recipe ? {CGO_ENABLED: recipe.cgo ? '1' : '0'} : {}),
    ...(recipe?.cgoCppFlags ? {CGO_CPPFLAGS: recipe.cgoCppFlags} : {}),
  }
}

/** Parses `go version` output (`go version go1.26.8 linux/amd64`, `go version go1.22rc1 …`). */
export function parseGoVersion(output: string): {major: number; minor: number; text: string} | undefined {
  const match = /\bgo(\d+)\.(\d+)/.exec(output)
  if (!match) return undefined
  return {major: Number(match[1]), minor: Number(match[2]), text: `go${match[1]}.${match[2]}${/\bgo\d+\.\d+(\S*)/.exec(output)?.[1] ?? ''}`}
}

export function goVersionSupported(v: {major: number; minor: number}): boolean {
  return v.major > MIN_GO_VERSION.major || (v.major === MIN_GO_VERSION.major && v.minor >= MIN_GO_VERSION.minor)
}

/** The version an Ory binary reports in `<server> version` (`Version:    v26.2.0`, `Version:\t\t\tv26.2.0`). */
export function parseReportedVersion(output: string): string | undefined {
  return /^\s*Version:\s+(\S+)/m.exec(output)?.[1]
}
