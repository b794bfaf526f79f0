import {describe, expect, it} from 'vitest'

import {isIamError} from '../../src/errors.js'
import {parseChecksumsFile, PINNED_SHA256} from '../../src/install/checksums.js'
import {buildRecipe, goBuildArgs, goEnv, goVersionSupported, parseGoVersion, parseReportedVersion} from '../../src/install/recipe.js'
import {archiveName, DEFAULT_URL_TEMPLATE, knownSha256, releaseChecksumsUrl, releasePlatform, renderUrlTemplate, templateValues} from '../../src/install/release.js'
import {ORY_SERVERS, ORY_SPECS, ORY_VERSION} from '../../src/ory/servers.js'

function thrownCode(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return isIamError(error) ? error.code : 'not-an-IamError'
  }
  return undefined
}

describe('build recipes', () => {
  it('pin the versions from ORY_SPECS and set the reported version through -ldflags -X, as Ory\'s release builds', () => {
    for (const server of ORY_SERVERS) {
      const recipe = buildRecipe(server)
      expect(recipe.version).toBe(ORY_VERSION)
      const args = goBuildArgs(recipe, '/out/bin')
      expect(args.slice(0, 3)).toEqual(['build', '-trimpath', '-buildvcs=false'])
      expect(args[args.indexOf('-ldflags') + 1]).toBe(`-s -w -X ${ORY_SPECS[server].buildInfoPackage}.Version=${ORY_VERSION}`)
      expect(args.slice(-3)).toEqual(['-o', '/out/bin', '.'])
    }
  })

  it('oathkeeper: no cgo, no tags; dependencies only as go.sum pins them; no go.work', () => {
    const r = buildRecipe('oathkeeper')
    expect(r).toMatchObject({cgo: false, tags: []})
    expect(goBuildArgs(r, 'o')).not.toContain('-tags')
    expect(goEnv({PATH: '/x'}, r)).toEqual({PATH: '/x', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly', GOWORK: 'off', CGO_ENABLED: '0'})
  })

  it('kratos and keto: cgo with the sqlite tags, and SQLite files created 0600', () => {
    const kratos = buildRecipe('kratos')
    expect(kratos).toMatchObject({cgo: true, tags: ['sqlite', 'json1']})
    const args = goBuildArgs(kratos, 'o')
    expect(args[args.indexOf('-tags') + 1]).toBe('sqlite,json1')
    expect(goEnv({}, kratos)).toMatchObject({CGO_ENABLED: '1', CGO_CPPFLAGS: '-DSQLITE_DEFAULT_FILE_PERMISSIONS=0600'})
    expect(buildRecipe('keto')).toMatchObject({cgo: true, tags: ['sqlite']})
    expect(goEnv({}, buildRecipe('keto')).CGO_CPPFLAGS).toBe('-DSQLITE_DEFAULT_FILE_PERMISSIONS=0600')
  })

  it('every server pins a tree hash of its source', () => {
    for (const server of ORY_SERVERS) expect(ORY_SPECS[server].sourceTreeSha256, server).toMatch(/^[0-9a-f]{64}$/)
  })

  it('parses go versions and enforces Go ≥1.26 (the v26 go.mod files ask for it)', () => {
    expect(parseGoVersion('go version go1.26.8 linux/amd64')).toMatchObject({major: 1, minor: 26, text: 'go1.26.8'})
    expect(parseGoVersion('go version go1.22rc1 darwin/arm64')).toMatchObject({major: 1, minor: 22})
    expect(parseGoVersion('bash: go: not found')).toBeUndefined()
    expect(goVersionSupported({major: 1, minor: 25})).toBe(false)
    expect(goVersionSupported({major: 1, minor: 26})).toBe(true)
    expect(goVersionSupported({major: 2, minor: 0})).toBe(true)
  })

  it('reads the version each Ory binary reports', () => {
    expect(parseReportedVersion('Version:    v26.2.0\nGit Hash:   undefined\n')).toBe('v26.2.0')
    expect(parseReportedVersion('Version:\t\t\tv26.2.0\nBuild Commit:\tundefined\n')).toBe('v26.2.0')
    expect(parseReportedVersion('panic: nope')).toBeUndefined()
  })
})

describe('release archive naming', () => {
  it("follows Ory's goreleaser asset names, with the sqlite build for Kratos and Keto", () => {
    const linux = releasePlatform('linux', 'x64')
    const url = (server: (typeof ORY_SERVERS)[number]) => renderUrlTemplate(DEFAULT_URL_TEMPLATE, templateValues(server, ORY_SPECS[server].version, linux))
    expect(url('oathkeeper')).toBe('https://github.com/ory/oathkeeper/releases/download/v26.2.0/oathkeeper_26.2.0-linux_64bit.tar.gz')
    expect(url('kratos')).toBe('https://github.com/ory/kratos/releases/download/v26.2.0/kratos_26.2.0-linux_sqlite_64bit.tar.gz')
    expect(url('keto')).toBe('https://github.com/ory/keto/releases/download/v26.2.0/keto_26.2.0-linux_sqlite_64bit.tar.gz')
    expect(templateValues('kratos', 'v26.2.0', releasePlatform('darwin', 'arm64')).platform).toBe('macOS_sqlite_arm64')
    expect(templateValues('oathkeeper', 'v26.2.0', releasePlatform('linux', 'arm64')).platform).toBe('linux_arm64')
    expect(archiveName(url('kratos'))).toBe('kratos_26.2.0-linux_sqlite_64bit.tar.gz')
    // The release's own checksums.txt sits beside its archives.
    expect(releaseChecksumsUrl(url('kratos'))).toBe('https://github.com/ory/kratos/releases/download/v26.2.0/checksums.txt')
  })

  it('rejects unknown placeholders, non-http URLs and unsupported platforms', () => {
    const values = templateValues('keto', 'v26.2.0', releasePlatform('linux', 'x64'))
    expect(thrownCode(() => renderUrlTemplate('https://x/{nope}.tar.gz', values))).toBe('URL_TEMPLATE_INVALID')
    expect(thrownCode(() => renderUrlTemplate('file:///etc/{server}', values))).toBe('URL_TEMPLATE_INVALID')
    expect(thrownCode(() => renderUrlTemplate('{server}.tar.gz', values))).toBe('URL_TEMPLATE_INVALID')
    expect(thrownCode(() => releasePlatform('win32', 'x64'))).toBe('PLATFORM_UNSUPPORTED')
    expect(thrownCode(() => releasePlatform('linux', 'ia32'))).toBe('PLATFORM_UNSUPPORTED')
  })
})

describe('checksums', () => {
  const hex = 'ab'.repeat(32)
  const name = 'kratos_26.2.0-linux_sqlite_64bit.tar.gz'

  it('without a pinned, given or listed checksum nothing is known offline (the release\'s checksums.txt decides)', () => {
    expect(knownSha256('kratos', 'v26.2.0', name, {pinned: {}})).toBeUndefined()
    // Every pinned entry, if any are added, must be well-formed.
    for (const [key, value] of Object.entries(PINNED_SHA256)) expect(`${key} ${value}`).toMatch(/^[a-z]+@v[\d.]+\/\S+\.tar\.gz [0-9a-f]{64}$/)
  })

  it('take --sha256 first, then the --checksums file, then the pinned table', () => {
    const other = 'cd'.repeat(32)
    const pinned = {[`kratos@v26.2.0/${name}`]: other}
    expect(knownSha256('kratos', 'v26.2.0', name, {pinned})).toEqual({sha256: other, from: 'pinned checksums'})
    expect(knownSha256('kratos', 'v26.2.0', name, {pinned, checksums: new Map([[name, hex]])})).toEqual({sha256: hex, from: '--checksums'})
    expect(knownSha256('kratos', 'v26.2.0', name, {pinned, sha256: hex.toUpperCase()})).toEqual({sha256: hex, from: '--sha256'})
    expect(thrownCode(() => knownSha256('kratos', 'v26.2.0', name, {sha256: 'xyz'}))).toBe('CHECKSUM_INVALID')
  })

  it("parse goreleaser's checksums.txt and reject anything else", () => {
    const parsed = parseChecksumsFile(`${hex}  ${name}\n\n${'EF'.repeat(32)} *keto_26.2.0-linux_sqlite_64bit.tar.gz\n`)
    expect([...parsed]).toEqual([
      [name, hex],
      ['keto_26.2.0-linux_sqlite_64bit.tar.gz', 'ef'.repeat(32)],
    ])
    expect(thrownCode(() => parseChecksumsFile('not a checksum line'))).toBe('CHECKSUM_INVALID')
  })
})
