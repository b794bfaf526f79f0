/** Temp iam projects for the keys and token CLI tests: removed after the test file. */
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll} from 'vitest'
import {stringify as stringifyYaml} from 'yaml'

const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, {recursive: true, force: true})))
})

/** A project dir; with `tokens`, an iam.yaml whose `tokens` section is that. */
export async function tempProject(tokens?: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'iam-keys-project-'))
  dirs.push(dir)
  if (tokens) await writeFile(join(dir, 'iam.yaml'), stringifyYaml({version: 1, project: 'keys-test', tokens}))
  return dir
}

export const jwksPath = (dir: string): string => join(dir, 'ory', 'oathkeeper', 'jwks.json')
