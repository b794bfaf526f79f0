/**
 * SHA-256 checksums of Ory's release archives that iam trusts. Fail closed: an archive whose checksum is not known
 * (pinned here, given with --sha256, or listed in a --checksums file) is never installed.
 */
import {readFile} from 'node:fs/promises'

import {usageError} from '../errors.js'
import type {OryServer} from '../ory/servers.js'

/**
 * Pinned checksums, keyed `<server>@<version>/<archive file name>` (Ory's asset name, e.g.
 * `kratos@v26.2.0/kratos_26.2.0-linux_sqlite_64bit.tar.gz`). Values must be copied from the `checksums.txt` Ory
 * publishes (and cosign-signs) on the release page. None are pinned: the machines this was built on cannot reach
 * GitHub, and a checksum we never verified ourselves would defeat the point. Without one, the archive is checked
 * against the `checksums.txt` the release publishes beside it (release.ts), or --sha256 / --checksums.
 */
export const PINNED_SHA256: Readonly<Record<string, string>> = {}

export function pinnedKey(server: OryServer, version: string, archiveName: string): string {
  return `${server}@${version}/${archiveName}`
}

const SHA256_HEX = /^[0-9a-f]{64}$/

export function normalizeSha256(value: string, source: string): string {
  const hex = value.trim().toLowerCase()
  if (!SHA256_HEX.test(hex)) {
    throw usageError('CHECKSUM_INVALID', `${source} is not a SHA-256 checksum (64 hex digits): "${value.trim()}"`, {
      suggestion: 'Copy the checksum from the checksums.txt on the Ory release page.',
    })
  }
  return hex
}

/** Parses goreleaser's `checksums.txt` (`<sha256>  <file name>` per line; `*` binary-mode markers allowed). */
export function parseChecksumsFile(text: string, source = 'checksums file'): Map<string, string> {
  const out = new Map<string, string>()
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const match = /^([0-9a-fA-F]{64})\s+\*?(\S+)$/.exec(line)
    if (!match) {
      throw usageError('CHECKSUM_INVALID', `${source}:${index + 1}: expected "<sha256>  <file name>", got "${line}"`, {
        suggestion: "Pass Ory's checksums.txt from the release page unchanged.",
        details: {file: source, line: index + 1},
      })
    }
    out.set(match[2]!, match[1]!.toLowerCase())
  }
  return out
}

export async function readChecksumsFile(path: string): Promise<Map<string, string>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw usageError('CHECKSUMS_FILE_UNREADABLE', `cannot read the checksums file ${path}: ${(error as Error).message}`, {
      suggestion: 'Check the path given to --checksums.',
      cause: error,
    })
  }
  return parseChecksumsFile(text, path)
}
