/**
 * `iam up`'s orchestration called as a function (no CLI process): a typed result for a real native stack, events
 * on the way, and a second call that finds it running. The command adds only flags, printing and --attach.
 */
import {afterAll, describe, expect, it} from 'vitest'

import type {RuntimeEvent} from '../../src/runtime/types.js'
import {up} from '../../src/stack/up.js'
import {nativeFixtures} from '../runtime/helpers.js'

const fixtures = nativeFixtures()
afterAll(() => fixtures.cleanup(), 60_000)

describe('up() without a process (real native stack)', () => {
  it('renders, starts every planned service health-waited, and returns the typed result; a second call starts nothing', async () => {
    const {dir, ports} = await fixtures.makeProject('up-fn', await fixtures.startUpstream())
    const events: RuntimeEvent[] = []
    const notices: string[] = []
    let ended = 0
    const {result, runtime} = await up(dir, {
      runtime: 'native',
      progress: {begin: async () => (e) => events.push(e), end: async () => void ended++},
      notice: (_level, message) => notices.push(message),
    })
    try {
      expect(result).toMatchObject({runtime: 'native', alreadyRunning: false, secretsFile: expect.stringMatching(/\.env$/)})
      expect(result.started).toEqual(['kratos', 'keto', 'batch-auth', 'role-webhook', 'mail', 'ui', 'oathkeeper'])
      expect(result.status.healthy).toBe(true)
      expect(result.rendered.length).toBeGreaterThan(0)
      expect(result.endpoints.find((e) => e.env === 'OATHKEEPER_PROXY_URL')?.url).toBe(`http://127.0.0.1:${ports.oathkeeperProxy}`)
      expect(events.filter((e) => e.type === 'service' && e.state === 'ready').map((e) => (e as {service: string}).service).sort()).toEqual([...result.started].sort())
      expect(ended).toBe(1)
      expect(notices.some((n) => n.startsWith('runtime: native'))).toBe(true)

      const again = await up(dir, {runtime: 'native'})
      expect(again.result).toMatchObject({alreadyRunning: true, started: [], rendered: []})
    } finally {
      await runtime.stop()
    }
  }, 180_000)
})
