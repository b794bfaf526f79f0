import {execa} from 'execa'

import {parseReportedVersion} from './recipe.js'

/** Runs `<binary> version` and returns the version it reports, or undefined if it does not run or says nothing. */
export async function reportedVersion(binary: string, env: NodeJS.ProcessEnv = process.env): Promise<{version?: string; output: string}> {
  const result = await execa(binary, ['version'], {reject: false, timeout: 30_000, env, all: true, stdin: 'ignore'})
  const output = typeof result.all === 'string' ? result.all : ''
  if (result.failed) return {output: output || (result.message ?? '')}
  return {version: parseReportedVersion(output), output}
}
