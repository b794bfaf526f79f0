#!/usr/bin/env node
// `iam --version` is answered before oclif loads: scripts call it often and it must start fast.
import {readFileSync} from 'node:fs'

const argv = process.argv.slice(2)
const isVersionFlag = (a) => a === '--version' || a === '-v'
if (argv.some(isVersionFlag) && argv.every((a) => isVersionFlag(a) || a === '--json')) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  const {ORY_SPECS, ORY_IMAGE_VERSION} = await import('../dist/ory/servers.js')
  const ory = Object.fromEntries(Object.values(ORY_SPECS).map((s) => [s.name, s.version]))
  ory.images = ORY_IMAGE_VERSION
  const info = {name: 'iam', version: pkg.version, node: process.version, platform: `${process.platform}-${process.arch}`, ory}
  process.stdout.write(argv.includes('--json') ? JSON.stringify(info) + '\n' : `iam/${info.version} ${info.platform} node-${info.node}\n`)
  process.exit(0)
}

const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
