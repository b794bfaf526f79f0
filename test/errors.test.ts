import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'

import {ERROR_CODES} from '../src/error-codes.js'

describe('error codes', () => {
  it("the README's table lists exactly the codes of src/error-codes.ts, with the same meanings", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const section = readme.split('### Error codes')[1]?.split(/\n#{2,3} /)[0] ?? ''
    const rows = [...section.matchAll(/^\| `([A-Z0-9_]+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2]!.replaceAll('\\|', '|')])
    expect(rows).toEqual(Object.entries(ERROR_CODES))
  })

  it('codes are UPPER_SNAKE_CASE and listed in order', () => {
    const codes = Object.keys(ERROR_CODES)
    for (const code of codes) expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/)
    expect(codes).toEqual([...codes].sort())
  })
})
