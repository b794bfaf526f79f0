import {describe, expect, it} from 'vitest'

import {isIamError} from '../../src/errors.js'
import {parseChecksumsFile, PINNED_SHA256} from '../../src/install/checksums.js'
import {buildRecipe, goBuildArgs, goEnv, goVersionSupported, parseGoVersion, parseReportedVersion} from '../../src/install/recipe.js'
import {archiveName, DEFAULT_URL_TEMPLATE, expectedSha256, releasePlatform, renderUrlTemplate, templateValues} from '../../src/install/release.js'
import {ORY_SERVERS, ORY_SPECS} from '../../src/ory/servers.js'

function thrownCode(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return isIamError(error) ? error.code : 'not-an-IamError'
  }
  return undefined
}

describe('build recipes', () => {
  it('pin the versions from ORY_SPECS and set the reported version through -ldflags -X', () => {
    for (const server of ORY_SERVERS) {
      const recipe = buildRecipe(server)
      expect(recipe.version).toBe(ORY_SPECS[server].version)
      const args = goBuildArgs(recipe, '/out/bin')
      expect(args.slice(0, 2)).toEqual(['build', '-trimpath'])
      expect(args[args.indexOf('-ldflags') + 1]).toBe(`-X ${ORY_SPECS[server].buildInfoPackage}.Version=${ORY_SPECS[server].version}`)
      expect(args.slice(-3)).toEqual(['-o', '/out/bin', '.'])
    }
  })

  it('oathkeeper: no cgo, no tags, nothing patched', () => {
    const r = buildRecipe('oathkeeper')
    expect(r).toMatchObject({cgo: false, tags: [], dropReplaces: [], standIns: []})
    expect(goBuildArgs(r, 'o')).not.toContain('-tags')
    expect(goEnv({PATH: '/x'}, r)).toEqual({PATH: '/x', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod', CGO_ENABLED: '0'})
  })

  it('kratos: cgo with sqlite,json1 and the client-go replace dropped', () => {
    const r = buildRecipe('kratos')
    expect(r).toMatchObject({cgo: true, tags: ['sqlite', 'json1'], dropReplaces: ['github.com/ory/client-go'], standIns: []})
    const args = goBuildArgs(r, 'o')
    expect(args[args.indexOf('-tags') + 1]).toBe('sqlite,json1')
    expect(goEnv({}, r).CGO_ENABLED).toBe('1')
  })

  it('keto: keeps the ./proto replace and fills it with the published proto module plus the batch-check stand-in', () => {
    const r = buildRecipe('keto')
    expect(r).toMatchObject({cgo: true, tags: ['sqlite'], dropReplaces: []})
    expect(r.standIns).toHaveLength(1)
    const standIn = r.standIns[0]!
    expect(standIn).toMatchObject({dir: 'proto', module: 'github.com/ory/keto/proto', version: 'v0.13.0-alpha.0'})
    expect(standIn.files.map((f) => f.path)).toEqual(['ory/keto/relation_tuples/v1alpha2/zz_iam_batch_check_standin.go'])
    const go = standIn.files[0]!.content
    expect(go).toMatch(/^package rts$/m)
    for (const type of ['CheckResponseWithError', 'BatchCheckRequest', 'BatchCheckResponse']) expect(go).toContain(`type ${type} struct`)
    expect(go).toContain('Tuples   []*RelationTuple')
    expect(go).toContain('Results []*CheckResponseWithError')
  })

  it('parses go versions and enforces Go ≥1.22', () => {
    expect(parseGoVersion('go version go1.26.8 linux/amd64')).toMatchObject({major: 1, minor: 26, text: 'go1.26.8'})
    expect(parseGoVersion('go version go1.22rc1 darwin/arm64')).toMatchObject({major: 1, minor: 22})
    expect(parseGoVersion('bash: go: not found')).toBeUndefined()
    expect(goVersionSupported({major: 1, minor: 21})).toBe(false)
    expect(goVersionSupported({major: 1, minor: 22})).toBe(true)
    expect(goVersionSupported({major: 2, minor: 0})).toBe(true)
  })

  it('reads the version each Ory binary reports', () => {
    expect(parseReportedVersion('Version:    v0.40.9\nGit Hash:   undefined\n')).toBe('v0.40.9')
    expect(parseReportedVersion('Version:\t\t\tv0.14.0\nBuild Commit:\tundefined\n')).toBe('v0.14.0')
    expect(parseReportedVersion('panic: nope')).toBeUndefined()
  })
})

describe('release archive naming', () => {
  it("follows Ory's goreleaser asset names, with the sqlite build for Kratos and Keto", () => {
    const linux = releasePlatform('linux', 'x64')
    const url = (server: (typeof ORY_SERVERS)[number]) => renderUrlTemplate(DEFAULT_URL_TEMPLATE, templateValues(server, ORY_SPECS[server].version, linux))
    expect(url('oathkeeper')).toBe('https://github.com/ory/oathkeeper/releases/download/v0.40.9/oathkeeper_0.40.9-linux_64bit.tar.gz')
    expect(url('kratos')).toBe('https://github.com/ory/kratos/releases/download/v1.3.1/kratos_1.3.1-linux_sqlite_64bit.tar.gz')
    expect(url('keto')).toBe('https://github.com/ory/keto/releases/download/v0.14.0/keto_0.14.0-linux_sqlite_64bit.tar.gz')
    expect(templateValues('kratos', 'v1.3.1', releasePlatform('darwin', 'arm64')).platform).toBe('macOS_sqlite_arm64')
    expect(templateValues('oathkeeper', 'v0.40.9', releasePlatform('linux', 'arm64')).platform).toBe('linux_arm64')
    expect(archiveName(url('kratos'))).toBe('kratos_1.3.1-linux_sqlite_64bit.tar.gz')
  })

  it('rejects unknown placeholders, non-http URLs and unsupported platforms', () => {
    const values = templateValues('keto', 'v0.14.0', releasePlatform('linux', 'x64'))
    expect(thrownCode(() => renderUrlTemplate('https://x/{nope}.tar.gz', values))).toBe('URL_TEMPLATE_INVALID')
    expect(thrownCode(() => renderUrlTemplate('file:///etc/{server}', values))).toBe('URL_TEMPLATE_INVALID')
    expect(thrownCode(() => renderUrlTemplate('{server}.tar.gz', values))).toBe('URL_TEMPLATE_INVALID')
    expect(thrownCode(() => releasePlatform('win32', 'x64'))).toBe('PLATFORM_UNSUPPORTED')
    expect(thrownCode(() => releasePlatform('linux', 'ia32'))).toBe('PLATFORM_UNSUPPORTED')
  })
})

describe('checksums', () => {
  const hex = 'ab'.repeat(32)
  const name = 'kratos_1.3.1-linux_sqlite_64bit.tar.gz'

  it('fail closed: no pinned, given or listed checksum → CHECKSUM_UNKNOWN', () => {
    expect(thrownCode(() => expectedSha256('kratos', 'v1.3.1', name, {pinned: {}}))).toBe('CHECKSUM_UNKNOWN')
    // Every pinned entry, if any are added, must be well-formed.
    for (const [key, value] of Object.entries(PINNED_SHA256)) expect(`${key} ${value}`).toMatch(/^[a-z]+@v[\d.]+\/\S+\.tar\.gz [0-9a-f]{64}$/)
  })

  it('take --sha256 first, then the --checksums file, then the pinned table', () => {
    const other = 'cd'.repeat(32)
    const pinned = {[`kratos@v1.3.1/${name}`]: other}
    expect(expectedSha256('kratos', 'v1.3.1', name, {pinned})).toEqual({sha256: other, from: 'pinned checksums'})
    expect(expectedSha256('kratos', 'v1.3.1', name, {pinned, checksums: new Map([[name, hex]])})).toEqual({sha256: hex, from: '--checksums'})
    expect(expectedSha256('kratos', 'v1.3.1', name, {pinned, sha256: hex.toUpperCase()})).toEqual({sha256: hex, from: '--sha256'})
    expect(thrownCode(() => expectedSha256('kratos', 'v1.3.1', name, {sha256: 'xyz'}))).toBe('CHECKSUM_INVALID')
  })

  it("parse goreleaser's checksums.txt and reject anything else", () => {
    const parsed = parseChecksumsFile(`${hex}  ${name}\n\n${'EF'.repeat(32)} *keto_0.14.0-linux_sqlite_64bit.tar.gz\n`)
    expect([...parsed]).toEqual([
      [name, hex],
      ['keto_0.14.0-linux_sqlite_64bit.tar.gz', 'ef'.repeat(32)],
    ])
    expect(thrownCode(() => parseChecksumsFile('not a checksum line'))).toBe('CHECKSUM_INVALID')
  })
})
