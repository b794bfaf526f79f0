/**
 * The layering ARCHITECTURE.md describes, enforced: every import of every file under src/ (static and dynamic) is
 * read and checked against the rules below. A rule broken names the file and the import.
 */
import {readFileSync, readdirSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SRC = join(ROOT, 'src')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return /\.tsx?$/.test(entry.name) ? [path] : []
  })
}

interface Import {
  /** The file, relative to the repository. */
  file: string
  /** As written. */
  specifier: string
  /** For a relative import: the target, relative to src/ (e.g. `runtime/native.ts`). */
  target?: string
}

/** Every `import … from`, `export … from` and `import(…)` of a file, type-only ones included. */
export function importsOf(path: string, text = readFileSync(path, 'utf8')): Import[] {
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\s[^'"]*?\sfrom\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!)
  return specifiers.map((specifier) => {
    const file = relative(ROOT, path)
    if (!specifier.startsWith('.')) return {file, specifier}
    const target = relative(SRC, resolve(dirname(path), specifier)).replace(/\.js$/, '.ts')
    return {file, specifier, target}
  })
}

const ALL = sourceFiles(SRC).flatMap((path) => importsOf(path))
const under = (folder: string) => (i: Import): boolean => i.file.startsWith(`src/${folder}/`)
const show = (list: Import[]): string[] => list.map((i) => `${i.file} imports ${i.specifier}`)

/** Modules whose import means I/O: a pure renderer must not reach for them. */
const IO_MODULES = /^(node:)?(fs|fs\/promises|child_process|net|http|https|dgram|dns|os)$|^(execa|undici)$/

describe('architecture: the direction of imports', () => {
  it('reads the imports it checks (the check itself works)', () => {
    expect(ALL.length).toBeGreaterThan(300)
    const text = "import {x} from '../c/d.js'\nimport type {T} from 'node:fs'\nconst m = await import('./e.js')\nexport {y} from 'z'"
    expect(importsOf(join(SRC, 'a/b.ts'), text)).toEqual([
      {file: 'src/a/b.ts', specifier: '../c/d.js', target: 'c/d.ts'},
      {file: 'src/a/b.ts', specifier: 'node:fs'},
      {file: 'src/a/b.ts', specifier: 'z'},
      {file: 'src/a/b.ts', specifier: './e.js', target: 'a/e.ts'},
    ])
  })

  it('src/servers/** (the embedded servers) never imports the CLI: commands/ or cli/', () => {
    expect(show(ALL.filter(under('servers')).filter((i) => /^(commands|cli)\//.test(i.target ?? '')))).toEqual([])
  })

  it('src/templates/** (pure renderers) does no I/O and does not import the runtime', () => {
    const bad = ALL.filter(under('templates')).filter((i) => IO_MODULES.test(i.specifier) || /^runtime\//.test(i.target ?? ''))
    expect(show(bad)).toEqual([])
  })

  it('@oclif/core is imported only in src/cli/** and src/commands/**', () => {
    expect(show(ALL.filter((i) => i.specifier.startsWith('@oclif/')).filter((i) => !under('cli')(i) && !under('commands')(i)))).toEqual([])
  })

  it('nothing imports a command: commands/ are leaves that oclif loads', () => {
    expect(show(ALL.filter((i) => /^commands\//.test(i.target ?? '') && !under('commands')(i)))).toEqual([])
  })

  it('src/plan/** (the service plan) is pure: no I/O, no runtime', () => {
    const bad = ALL.filter(under('plan')).filter((i) => IO_MODULES.test(i.specifier) || (/^runtime\//.test(i.target ?? '') && !/^runtime\/types\.ts$/.test(i.target ?? '')))
    expect(show(bad)).toEqual([])
  })
})
