#!/usr/bin/env node
// Cold-start cost of `iam --version` (and `iam --help`, which loads oclif) as a ratio to a bare `node -e 0`,
// measured interleaved in the same run so machine load affects both sides alike.
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

const runs = Number(process.env.RUNS ?? 20)
const iam = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const subjects = {
  'node -e 0': ['-e', '0'],
  'iam --version': [iam, '--version'],
  'iam --version --json': [iam, '--version', '--json'],
  'iam --help': [iam, '--help'],
}

const samples = Object.fromEntries(Object.keys(subjects).map((k) => [k, []]))
for (let i = 0; i < runs + 2; i++) {
  for (const [name, args] of Object.entries(subjects)) {
    const t0 = process.hrtime.bigint()
    const r = spawnSync(process.execPath, args, {stdio: 'ignore'})
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}`)
    if (i >= 2) samples[name].push(ms) // first two rounds warm the file cache
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const base = median(samples['node -e 0'])
console.log(`runs per command: ${runs} (interleaved)`)
for (const [name, xs] of Object.entries(samples)) {
  const m = median(xs)
  console.log(`${name.padEnd(22)} median ${m.toFixed(1).padStart(7)} ms   ratio to node -e 0: ${(m / base).toFixed(2)}`)
}
