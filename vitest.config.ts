import {defineConfig} from 'vitest/config'

// One test command (`npm test`) runs everything. Integration tests start the real Ory binaries and fail loudly
// when they are missing (see test/harness); they are never skipped.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
})
