/**
 * A real compose validator for tests: tools/compose-check (Go) loads a compose file with compose-go v2, the loader
 * `docker compose` itself uses (YAML parsing, interpolation, compose-spec JSON schema, semantic checks). Built once per
 * source version with the machine's Go (needs the Go module proxy the first time) into the OS temp dir.
 */
import {createHash} from 'node:crypto'
import {access, readFile, rename} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {execa} from 'execa'

const TOOL_DIR = fileURLToPath(new URL('../../tools/compose-check/', import.meta.url))

let built: Promise<string> | undefined

export function composeCheckBinary(): Promise<string> {
  built ??= (async () => {
    const hash = createHash('sha256')
    for (const file of ['go.mod', 'go.sum', 'main.go']) hash.update(await readFile(join(TOOL_DIR, file)))
    const out = join(tmpdir(), `iam-compose-check-${hash.digest('hex').slice(0, 16)}`, 'compose-check')
    try {
      await access(out)
      return out
    } catch {
      // Built beside its final name and renamed, so an interrupted build never leaves a truncated binary to reuse.
      const partial = `${out}.${process.pid}.partial`
      await execa('go', ['build', '-o', partial, '.'], {cwd: TOOL_DIR, env: {GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod'}, timeout: 600_000})
      await rename(partial, out)
      return out
    }
  })()
  return built
}

/** Runs the validator; exitCode 0 means compose-go accepted the file (stdout: the normalized project as JSON). */
export async function composeCheck(file: string, o: {envFile?: string} = {}): Promise<{exitCode: number; stdout: string; stderr: string}> {
  const bin = await composeCheckBinary()
  const result = await execa(bin, [...(o.envFile ? ['--env-file', o.envFile] : []), file], {reject: false, timeout: 60_000})
  return {exitCode: result.exitCode ?? 1, stdout: result.stdout, stderr: result.stderr}
}
