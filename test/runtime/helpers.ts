/**
 * Projects for the native-runtime tests, made as a user makes them, and the last line of defence after them: every
 * process a project's pid files name is killed and every temp dir removed in `cleanup()`, even when a test failed.
 */
import {createServer, type Server} from 'node:http'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {parseDocument} from 'yaml'

import {DEFAULT_PORTS, EXAMPLE_UPSTREAM} from '../../src/config/defaults.js'
import type {PortsConfig} from '../../src/config/model.js'
import {isRecordAlive, readPidRecords} from '../../src/runtime/pidfile.js'
import {getFreePort} from '../harness/ports.js'
import {runIam} from '../helpers/cli.js'
import {freeProjectPorts, PORT_NAMES} from '../harness/stack.js'

export {freeProjectPorts as freePorts, PORT_NAMES} from '../harness/stack.js'

/** Kills whatever a project's pid files name (SIGKILL to the process group). */
export async function killProject(dir: string): Promise<void> {
  for (const record of await readPidRecords(join(dir, '.iam', 'run'))) {
    if (!(await isRecordAlive(record))) continue
    for (const target of [-record.pid, record.pid]) {
      try {
        process.kill(target, 'SIGKILL')
      } catch {
        // gone
      }
    }
  }
}

export interface NativeFixtures {
  /**
   * `iam init --yes --runtime native` (every service: roles enabled → role-webhook, the example tenant route's anyOf
   * → batch-auth), every default port in iam.yaml rewritten to a free one (test files run in parallel), the example
   * upstream pointed at `upstreamPort`, then `edit` applied to the iam.yaml text.
   */
  makeProject(name: string, upstreamPort: number, edit?: (yaml: string) => string, initArgs?: string[]): Promise<{dir: string; ports: PortsConfig}>
  /** A local upstream the gateway forwards to; answers with what it saw. */
  startUpstream(): Promise<number>
  cleanup(): Promise<void>
}

export function nativeFixtures(): NativeFixtures {
  const parents: string[] = []
  const stacks: string[] = []
  const servers: Server[] = []
  return {
    async makeProject(name, upstreamPort, edit = (yaml) => yaml, initArgs = []) {
      const parent = await mkdtemp(join(tmpdir(), `iam-native-${name}-`))
      parents.push(parent)
      const dir = join(parent, name)
      stacks.push(dir)
      const init = await runIam(['init', dir, '--yes', '--runtime', 'native', ...initArgs])
      if (init.exitCode !== 0) throw new Error(`iam init failed (exit ${init.exitCode}): ${init.stderr}${init.stdout}`)
      const ports = await freeProjectPorts()
      // Only the ports: section is edited, as a user on a machine with the default ports taken would: every address
      // (route matches, issuer, Kratos' URL, the catcher's SMTP URL) must follow from it.
      const doc = parseDocument(await readFile(join(dir, 'iam.yaml'), 'utf8'))
      for (const key of PORT_NAMES) doc.setIn(['ports', key], ports[key])
      // The test's own upstream stands in for the example app (a test that wants the app sets exampleApp: true).
      doc.set('exampleApp', false)
      let text = doc.toString({lineWidth: 0, flowCollectionPadding: false}).replaceAll(EXAMPLE_UPSTREAM, `http://127.0.0.1:${upstreamPort}`)
      for (const key of PORT_NAMES) {
        if (new RegExp(`[:/]${DEFAULT_PORTS[key]}\\b`).test(text)) throw new Error(`iam init wrote the default port of ${key} outside ports:`)
      }
      await writeFile(join(dir, 'iam.yaml'), edit(text))
      return {dir, ports}
    },
    async startUpstream() {
      const port = await getFreePort()
      const server = createServer((req, res) => {
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({url: req.url, authorization: req.headers.authorization ?? null}))
      })
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
      servers.push(server)
      return port
    },
    async cleanup() {
      for (const dir of stacks) await killProject(dir)
      for (const dir of parents) await rm(dir, {recursive: true, force: true})
      for (const s of servers) s.close()
    },
  }
}
