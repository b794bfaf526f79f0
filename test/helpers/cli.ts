import {execa} from 'execa'
import {fileURLToPath} from 'node:url'

/** Absolute path of the built CLI entry point (tests run after `npm run build`). */
export const IAM_BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

export interface CliResult {
  exitCode: number
  stdout: string
  stderr: string
  /** stderr then stdout: the message of an assertion on the exit code (with --json the error is on stdout). */
  output: string
  /** stdout parsed as JSON when it is JSON, else undefined. */
  json: unknown
}

/** Runs the real `iam` binary as a user would; never throws on a non-zero exit. */
export async function runIam(
  args: string[],
  options: {cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number} = {},
): Promise<CliResult> {
  const result = await execa('node', [IAM_BIN, ...args], {
    cwd: options.cwd,
    env: {...process.env, NO_COLOR: '1', ...options.env},
    input: options.input,
    reject: false,
    timeout: options.timeoutMs ?? 120_000,
  })
  let json: unknown
  try {
    json = JSON.parse(result.stdout)
  } catch {
    json = undefined
  }
  return {exitCode: result.exitCode ?? 1, stdout: result.stdout, stderr: result.stderr, output: `${result.stderr}\n${result.stdout}`, json}
}
