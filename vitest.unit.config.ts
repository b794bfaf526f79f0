import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {defineConfig, mergeConfig} from 'vitest/config'

import base from './vitest.config.js'

/**
 * `npm run test:unit`: the fast inner loop — every test file that starts no real server and no process.
 * Which files those are is read from their imports (the real-server harness, the native-runtime fixtures, the CLI
 * runner), so a new test lands in the right loop without a list to keep. `npm test` still runs everything.
 */
const SLOW = /from '[./]*(harness\/index|harness\/stack|harness\/process|runtime\/helpers|helpers\/cli|helpers\/source-archives)\.js'/

function testFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : testFiles(path)
    return e.name.endsWith('.test.ts') ? [path] : []
  })
}

/** A file is slow when it, or the `./helpers.ts` beside it that it imports, reaches for a real server or the CLI. */
function isSlow(path: string): boolean {
  const text = readFileSync(path, 'utf8')
  // `*.real.test.ts` run real binaries by name; the harness's own tests import it as ./index.js or ./process.js.
  if (path.endsWith('.real.test.ts') || SLOW.test(text) || /from '\.\/(index|process)\.js'/.test(text)) return true
  // Tests that start processes of their own (a server, `tar`, children to kill) belong to the full run too.
  if (/\b(spawn|execa|execFile|fork)\(/.test(text)) return true
  return /from '\.\/helpers\.js'/.test(text) && SLOW.test(readFileSync(join(path, '..', 'helpers.ts'), 'utf8'))
}

const slow = testFiles('test').filter(isSlow)

// Threads without per-file isolation: these files share no process state, and a fresh worker per file was most of
// the run's time (40 s → 23 s on 2 cores).
export default mergeConfig(base, defineConfig({test: {exclude: [...slow, 'node_modules/**'], pool: 'threads', isolate: false}}))
