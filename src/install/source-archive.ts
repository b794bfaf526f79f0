/**
 * The source tree a server is built from: the tag's source archive, from a local directory or file (offline, CI) or
 * downloaded from GitHub, extracted into the install's staging folder and verified against the pinned tree hash
 * before anything is compiled from it.
 */
import {execa} from 'execa'
import {mkdir, readdir, stat} from 'node:fs/promises'
import {join, resolve} from 'node:path'

import {environmentError, ExitCode, IamError, usageError} from '../errors.js'
import {ORY_SPECS, type OryServer} from '../ory/servers.js'
import {download} from './download.js'
import {hashTree} from './tree-hash.js'

/** Where to take the archives from when `--source-archives` is not given: a directory, or one archive file. */
export const SOURCE_ARCHIVES_ENV = 'IAM_ORY_SOURCE_ARCHIVES'

/** GitHub's archive of a tag (what "Source code (tar.gz)" on a release page links to). */
export const SOURCE_URL_TEMPLATE = 'https://github.com/{repository}/archive/refs/tags/{version}.tar.gz'

const MAX_SOURCE_ARCHIVE_BYTES = 256 * 1024 * 1024

export type SourceArchive = {kind: 'file'; path: string} | {kind: 'url'; url: string}

/** File names a server's archive may have in a directory: ours (`kratos-v26.2.0.tar.gz`) and GitHub's download name. */
export function sourceArchiveNames(server: OryServer, version = ORY_SPECS[server].version): string[] {
  const semver = version.replace(/^v/, '')
  return [`${server}-${version}.tar.gz`, `${server}-${semver}.tar.gz`]
}

export function sourceArchiveUrl(server: OryServer, version = ORY_SPECS[server].version): string {
  return SOURCE_URL_TEMPLATE.replace('{repository}', ORY_SPECS[server].repository).replace('{version}', version)
}

/**
 * Picks the archive of `server`: from `from` (a directory holding it under one of `sourceArchiveNames`, or an
 * archive file), else GitHub. A directory without it is an error rather than a silent download: offline that
 * download would only fail later and less clearly.
 */
export async function locateSourceArchive(server: OryServer, from: string | undefined): Promise<SourceArchive> {
  if (from === undefined || from === '') return {kind: 'url', url: sourceArchiveUrl(server)}
  const path = resolve(from)
  const info = await stat(path).catch(() => undefined)
  if (!info) {
    throw usageError('SOURCE_ARCHIVES_MISSING', `${path} (the source archives, from --source-archives or ${SOURCE_ARCHIVES_ENV}) does not exist`, {
      suggestion: `Point it at a directory holding ${sourceArchiveNames(server)[0]} (or at that file), or leave it unset to download the tag's archive from GitHub.`,
      details: {server, path},
    })
  }
  if (info.isFile()) return {kind: 'file', path}
  const names = sourceArchiveNames(server)
  for (const name of names) {
    const candidate = join(path, name)
    if ((await stat(candidate).catch(() => undefined))?.isFile()) return {kind: 'file', path: candidate}
  }
  throw environmentError('SOURCE_ARCHIVE_MISSING', `${path} holds no source archive of ${server} ${ORY_SPECS[server].version} (looked for ${names.join(', ')})`, {
    suggestion: `Put ${server}'s archive there (${sourceArchiveUrl(server)}), or leave --source-archives / ${SOURCE_ARCHIVES_ENV} unset to download it.`,
    details: {server, path, looked: names},
  })
}

/** Brings the archive into `staging` when it is remote; returns the local file. */
export async function fetchSourceArchive(server: OryServer, archive: SourceArchive, staging: string): Promise<string> {
  if (archive.kind === 'file') return archive.path
  const file = join(staging, sourceArchiveNames(server)[0]!)
  await download(archive.url, file, {
    timeoutMs: 15 * 60_000,
    idleTimeoutMs: 60_000,
    maxBytes: MAX_SOURCE_ARCHIVE_BYTES,
    suggestion: `Check the network; offline, put the archive in a directory and pass --source-archives <dir> (or set ${SOURCE_ARCHIVES_ENV}).`,
  })
  return file
}

/**
 * Extracts `archive` into `<staging>/src` and returns the tree's root (the archive's one top folder) after its
 * hash matched the pinned one. Throws SOURCE_ARCHIVE_INVALID or SOURCE_TREE_MISMATCH (exit 1); the caller removes
 * the staging folder, so nothing of a refused tree is left anywhere.
 */
export async function extractVerifiedSource(server: OryServer, archive: string, staging: string): Promise<string> {
  const spec = ORY_SPECS[server]
  const dest = join(staging, 'src')
  await mkdir(dest)
  const tar = await execa('tar', ['-xzf', archive, '-C', dest, '--no-same-owner'], {reject: false, all: true, stdin: 'ignore', timeout: 300_000})
  if (tar.failed) {
    throw new IamError('SOURCE_ARCHIVE_INVALID', `cannot extract ${archive}: ${String(tar.all || tar.message).trim().slice(0, 500)}`, {
      exitCode: ExitCode.Failure,
      suggestion: `Use the tag's source archive (.tar.gz), e.g. ${sourceArchiveUrl(server)}.`,
      details: {server, archive},
    })
  }
  const top = await readdir(dest)
  const root = top.length === 1 ? join(dest, top[0]!) : undefined
  if (!root || !(await stat(root)).isDirectory()) {
    throw new IamError('SOURCE_ARCHIVE_INVALID', `${archive} does not hold one top folder (found ${top.length} entries)`, {
      exitCode: ExitCode.Failure,
      suggestion: `Use the tag's source archive as GitHub or \`git archive --prefix=${server}-${spec.version.replace(/^v/, '')}/\` makes it.`,
      details: {server, archive},
    })
  }
  const actual = await hashTree(root)
  if (actual !== spec.sourceTreeSha256) {
    throw new IamError('SOURCE_TREE_MISMATCH', `the source tree in ${archive} is not ${server} ${spec.version}: its tree hash is ${actual}, the pinned one ${spec.sourceTreeSha256}; refused, nothing built or installed`, {
      exitCode: ExitCode.Failure,
      suggestion: `Use the unmodified source archive of the ${spec.version} tag (${sourceArchiveUrl(server)}).`,
      details: {server, version: spec.version, archive, expected: spec.sourceTreeSha256, actual},
    })
  }
  return root
}
