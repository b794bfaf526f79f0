import {execa} from 'execa'
import {mkdtemp, readFile, rm, stat, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {Config} from '@oclif/core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {getFreePort} from '../harness/ports.js'
import {runIam, type CliResult} from '../helpers/cli.js'

describe('CLI conventions', () => {
  it('--version prints the version', async () => {
    const r = await runIam(['--version'])
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toMatch(/^iam\/\d+\.\d+\.\d+ /)
  })

  it('--version --json prints one JSON document', async () => {
    const r = await runIam(['--version', '--json'])
    expect(r.exitCode).toBe(0)
    expect(r.json).toMatchObject({name: 'iam', version: expect.stringMatching(/^\d+\.\d+\.\d+/)})
  })

  it('version --json lists v26.2.0 for each server: pinned, and what the installed binary reports', async () => {
    const r = await runIam(['version', '--json'])
    expect(r.exitCode, r.output).toBe(0)
    const server = {pinned: 'v26.2.0', reported: 'v26.2.0', status: 'ok', path: expect.any(String)}
    expect(r.json).toMatchObject({ory: {version: 'v26.2.0', servers: {oathkeeper: server, keto: server, kratos: server}}})
  })

  it('version flags a binary that reports another version (exit 1) and says which are not installed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iam-version-'))
    try {
      await writeFile(join(dir, 'oathkeeper'), "#!/bin/sh\nprintf 'Version:    v0.40.9\\n'\n", {mode: 0o755})
      await symlink(process.execPath, join(dir, 'node'))
      const env = {IAM_HOME: join(dir, 'empty-home'), PATH: dir}
      const r = await runIam(['version', '--json'], {env})
      expect(r.exitCode, r.output).toBe(1)
      expect(r.json).toMatchObject({
        ory: {servers: {oathkeeper: {pinned: 'v26.2.0', reported: 'v0.40.9', status: 'mismatch', source: 'path'}, kratos: {status: 'missing'}}},
      })
      const text = await runIam(['version'], {env})
      expect(text.stdout).toMatch(/oathkeeper\s+v26\.2\.0\s+binary: v0\.40\.9 \(iam pins v26\.2\.0\)/)
      expect(text.stdout).toMatch(/kratos\s+v26\.2\.0\s+binary: not installed \(iam install\)/)
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })

  it('--help lists commands', async () => {
    const r = await runIam(['--help'])
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain('version')
  })

  it('an unknown flag is a usage error with exit code 2, as JSON with --json', async () => {
    const r = await runIam(['version', '--no-such-flag', '--json'])
    expect(r.exitCode).toBe(2)
    expect(r.json).toMatchObject({error: {code: 'USAGE', exitCode: 2}})
  })
})

// Issue 12, item 5: one set of conventions for every command, each checked through the built CLI.
describe('one set of CLI conventions', {timeout: 240_000}, () => {
  let dir: string
  let project: string
  let empty: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iam-conventions-'))
    project = join(dir, 'project')
    empty = join(dir, 'empty')
    const init = await runIam(['init', '-C', project, '--yes', '--runtime', 'native'])
    expect(init.exitCode, init.output).toBe(0)
    await execa('mkdir', [empty])
  })

  afterAll(async () => {
    if (dir) await rm(dir, {recursive: true, force: true})
  })

  it('every command that reads a project takes -C, --dir; none takes -d or --config for it', async () => {
    const config = await Config.load(fileURLToPath(new URL('../..', import.meta.url)))
    const ours = config.commands.filter((c) => c.pluginName === 'iam-stack')
    expect(ours.length).toBeGreaterThan(30)
    // Only these read no project: the Ory binaries live in the per-user cache.
    expect(ours.filter((c) => !c.flags.dir).map((c) => c.id).sort()).toEqual(['install', 'version'])
    for (const c of ours) {
      if (c.flags.dir) expect(c.flags.dir.char, c.id).toBe('C')
      expect(Object.keys(c.flags), c.id).not.toContain('config')
      for (const [name, flag] of Object.entries(c.flags)) expect(flag.char, `${c.id} --${name}`).not.toBe('d')
    }
  })

  it('the removed spellings are usage errors; -C and --dir reach the project', async () => {
    const [d, config, short, long] = await Promise.all([
      runIam(['render', '--check', '-d', project, '--json']),
      runIam(['roles', 'list', '--config', project, '--json']),
      runIam(['render', '--check', '-C', project, '--json']),
      runIam(['keys', 'list', '--dir', project, '--json']),
    ])
    expect(d.exitCode, d.output).toBe(2)
    expect(d.json).toMatchObject({error: {code: 'USAGE'}})
    expect(config.exitCode, config.output).toBe(2)
    expect(config.json).toMatchObject({error: {code: 'USAGE'}})
    expect(short.exitCode, short.output).toBe(0)
    expect(short.json).toMatchObject({drift: false})
    expect(long.exitCode, long.output).toBe(0)
    expect((long.json as {keys: unknown[]}).keys).toHaveLength(1)
  })

  it('init takes -C like every command (or the DIR argument), not both naming different directories', async () => {
    expect((await stat(join(project, 'iam.yaml'))).isFile()).toBe(true)
    const both = await runIam(['init', join(dir, 'a'), '-C', join(dir, 'b'), '--yes', '--json'])
    expect(both.exitCode, both.output).toBe(2)
    expect(both.json).toMatchObject({error: {code: 'USAGE', message: expect.stringContaining('Two project directories')}})
    await expect(stat(join(dir, 'a'))).rejects.toThrow()
  })

  // Every duration flag, with what the command needs to get as far as parsing it.
  const durationFlags: Array<[string[], string]> = [
    [['up'], 'timeout'],
    [['smoke'], 'timeout'],
    [['down'], 'grace'],
    [['mail', 'code', '--to', 'ada@example.com'], 'wait'],
    [['mail', 'code', '--to', 'ada@example.com'], 'timeout'],
    [['mail', 'list'], 'timeout'],
    [['token', 'mint', '--sub', 'u', '--aud', 'a'], 'ttl'],
    [['token', 'verify', 'a.b.c'], 'skew'],
    [['roles', 'list'], 'timeout'],
    [['tuples', 'list'], 'timeout'],
    [['identities', 'list'], 'timeout'],
    [['seed'], 'timeout'],
    [['serve', 'batch-auth', '--port', '0'], 'timeout'],
    [['serve', 'batch-auth', '--port', '0'], 'cache-ttl'],
    [['serve', 'role-webhook', '--port', '0'], 'timeout'],
  ]

  it('every duration flag refuses a bare number (exit 2, naming the fix) and text that is no duration', async () => {
    const cases = durationFlags.flatMap(([command, flag]) => ['30', 'abc'].map((value) => ({command, flag, value})))
    const env = {ROLE_WEBHOOK_SECRET: 'a-secret-that-is-long-enough-for-the-webhook-0123'}
    const runs = await pool(cases, ({command, flag, value}) => runIam([...command, `--${flag}`, value], {cwd: empty, env}))
    for (const [i, r] of runs.entries()) {
      const {command, flag, value} = cases[i]!
      const what = `iam ${command.join(' ')} --${flag} ${value}`
      expect(r.exitCode, `${what}\n${r.output}`).toBe(2)
      expect(r.stderr, what).toContain(`error [INVALID_DURATION]: --${flag} takes a duration like 500ms, 5s, 10m or 1h (as in iam.yaml)`)
      if (value === '30') expect(r.stderr, what).toContain(`fix: Write the unit: --${flag} 30s (seconds) or --${flag} 30ms`)
      else expect(r.stderr, what).toContain(`fix: Pass a duration, e.g. --${flag} `)
    }
  })

  it('duration flags take iam.yaml syntax: 2s is accepted everywhere, and means two seconds', async () => {
    const closed = `http://127.0.0.1:${await getFreePort()}`
    const ory = ['--kratos-admin-url', closed, '--keto-read-url', closed, '--keto-write-url', closed]
    const runs = await pool(
      durationFlags.filter(([command]) => command[0] !== 'serve'),
      ([command, flag]) => runIam([...command, `--${flag}`, '2s', '--json', ...(command[0] === 'mail' ? ['--url', closed] : []), ...(['roles', 'tuples', 'identities'].includes(command[0]!) ? ory : [])], {cwd: empty}),
    )
    for (const [i, r] of runs.entries()) {
      const code = (r.json as {error?: {code: string}} | undefined)?.error?.code
      expect(['INVALID_DURATION', 'INVALID_FLAG', 'USAGE'], `${durationFlags[i]!.join(' ')}\n${r.output}`).not.toContain(code)
    }
    const minted = await runIam(['token', 'mint', '-C', project, '--sub', 'u', '--aud', 'a', '--ttl', '2s', '--json'])
    expect(minted.exitCode, minted.output).toBe(0)
    const claims = JSON.parse(Buffer.from((minted.json as {token: string}).token.split('.')[1]!, 'base64url').toString()) as {iat: number; exp: number}
    expect(claims.exp - claims.iat).toBe(2)
  })

  it('status -o json is status --json: the same document, the same exit code (results and errors)', async () => {
    const [oJson, json, oJsonErr, jsonErr] = await Promise.all([
      runIam(['status', '-C', project, '--runtime', 'native', '-o', 'json']),
      runIam(['status', '-C', project, '--runtime', 'native', '--json']),
      runIam(['status', '-C', empty, '-o', 'json']),
      runIam(['status', '-C', empty, '--json']),
    ])
    expect(json.json, json.output).toMatchObject({runtime: 'native', services: expect.any(Array), endpoints: expect.any(Array)})
    expect(oJson.stdout).toBe(json.stdout)
    expect(oJson.exitCode).toBe(json.exitCode)
    expect(jsonErr.json).toMatchObject({error: {code: 'CONFIG_NOT_FOUND'}})
    expect(oJsonErr.stdout).toBe(jsonErr.stdout)
    expect(oJsonErr.exitCode).toBe(jsonErr.exitCode)
  })

  it('-q prints nothing for a table or a success line; a value for scripts, warnings and errors still come', async () => {
    const table = await runIam(['keys', 'list', '-C', project])
    expect(table.exitCode, table.output).toBe(0)
    expect(table.stdout).toMatch(/^KID\s+ALG/)
    const [quietTable, quietRender, quietStatus, token, failed] = await Promise.all([
      runIam(['keys', 'list', '-C', project, '-q']),
      runIam(['render', '-C', project, '-q']),
      runIam(['status', '-C', project, '--runtime', 'native', '-q']),
      runIam(['token', 'mint', '-C', project, '--sub', 'u', '--aud', 'a', '-q']),
      runIam(['keys', 'list', '-C', empty, '-q']),
    ])
    for (const r of [quietTable, quietRender]) {
      expect(r.exitCode, r.output).toBe(0)
      expect(r.stdout).toBe('')
      expect(r.stderr).toBe('')
    }
    // Nothing runs: exit 1 as without -q, and no table.
    expect(quietStatus.exitCode, quietStatus.output).toBe(1)
    expect(quietStatus.stdout).toBe('')
    expect(token.exitCode, token.output).toBe(0)
    expect(token.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/)
    expect(failed.exitCode).toBe(2)
    expect(failed.stdout).toBe('')
    expect(failed.stderr).toMatch(/^error \[KEYS_NOT_FOUND\]/)
  })

  it('no password on a command line: not in the quick start, not in any --help example', async () => {
    const onCommandLine = /(^|\s)(--password(?![-\w])|-p\s)/m
    const readme = await readFile(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8')
    const quickStart = /## Quick start[^\n]*\n+```sh\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(quickStart).toContain('iam identities create')
    expect(quickStart).not.toMatch(onCommandLine)
    const config = await Config.load(fileURLToPath(new URL('../..', import.meta.url)))
    for (const c of config.commands.filter((c) => c.pluginName === 'iam-stack')) {
      for (const example of c.examples ?? []) {
        const text = typeof example === 'string' ? example : example.command
        expect(text, c.id).not.toMatch(onCommandLine)
      }
    }
    const help = await runIam(['identities', 'create', '--help'])
    expect(help.exitCode, help.output).toBe(0)
    expect(help.stdout).toContain('--password-env ALICE_PW')
    expect(help.stdout).toContain('--password-stdin')
  })

  it('shell completion: iam autocomplete prints the setup and builds a completion that knows every command and flag', async () => {
    const cache = join(dir, 'cache')
    const env = {XDG_CACHE_HOME: cache}
    const script = await runIam(['autocomplete', 'script', 'bash'], {env})
    expect(script.exitCode, script.output).toBe(0)
    expect(script.stdout).toContain('IAM_AC_BASH_SETUP_PATH=')
    const setup = await runIam(['autocomplete', 'bash'], {env})
    expect(setup.exitCode, setup.output).toBe(0)
    expect(setup.stdout).toContain('iam autocomplete script bash')
    const functions = join(cache, 'iam', 'autocomplete', 'functions', 'bash', 'iam.bash')
    expect(await readFile(functions, 'utf8')).toContain('roles:list')
    // Real bash completes `iam roles list --d` to --dir.
    const complete = await execa('bash', ['-c', `source ${functions}; COMP_WORDS=(iam roles list --d); COMP_CWORD=3; _iam_autocomplete; echo "\${COMPREPLY[@]}"`])
    expect(complete.stdout.trim()).toBe('--dir')
  })
})

/** Runs `fn` over `items`, four at a time (each is a node process), keeping the order. */
async function pool<T>(items: T[], fn: (item: T) => Promise<CliResult>): Promise<CliResult[]> {
  const results: CliResult[] = new Array(items.length)
  let next = 0
  await Promise.all(
    Array.from({length: 4}, async () => {
      while (next < items.length) {
        const i = next++
        results[i] = await fn(items[i]!)
      }
    }),
  )
  return results
}
