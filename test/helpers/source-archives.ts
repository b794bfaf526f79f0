/**
 * The Ory v26.2.0 source archives the install tests build from: IAM_ORY_SOURCE_ARCHIVES when set (CI sets it),
 * else ../shared/ory/src beside this checkout. Missing archives fail the test that needs them, loudly: never a skip.
 */
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {SOURCE_ARCHIVES_ENV, sourceArchiveNames} from '../../src/install/source-archive.js'
import type {OryServer} from '../../src/ory/servers.js'

export function sourceArchivesDir(): string {
  const dir = process.env[SOURCE_ARCHIVES_ENV] || fileURLToPath(new URL('../../../shared/ory/src', import.meta.url))
  if (!existsSync(dir)) {
    throw new Error(`the Ory source archives are not at ${dir}: set ${SOURCE_ARCHIVES_ENV} to the folder holding ${sourceArchiveNames('kratos')[0]} and its siblings`)
  }
  return dir
}

export function sourceArchive(server: OryServer): string {
  const dir = sourceArchivesDir()
  for (const name of sourceArchiveNames(server)) {
    const path = `${dir}/${name}`
    if (existsSync(path)) return path
  }
  throw new Error(`no source archive of ${server} in ${dir} (looked for ${sourceArchiveNames(server).join(', ')})`)
}
