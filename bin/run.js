#!/usr/bin/env node
// `iam --version` is answered before oclif loads: scripts call it often and it must start fast.
import {readFileSync} from 'node:fs'

const argv = process.argv.slice(2)
const isVersionFlag = (a) => a === '--version' || a === '-v'
if (argv.some(isVersionFlag) && argv.every((a) => isVersionFlag(a) || a === '--json')) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  const {ORY_SERVERS, ORY_VERSION} = await import('../dist/ory/servers.js')
  // The pinned versions only: asking each binary what it is takes `iam version`.
  const ory = {version: ORY_VERSION, servers: Object.fromEntries(ORY_SERVERS.map((s) => [s, {pinned: ORY_VERSION}]))}
  const info = {name: 'iam', version: pkg.version, node: process.version, platform: `${process.platform}-${process.arch}`, ory}
  process.stdout.write(argv.includes('--json') ? JSON.stringify(info) + '\n' : `iam/${info.version} ${info.platform} node-${info.node}\n`)
  process.exit(0)
}

const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
