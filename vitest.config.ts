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
    env: {
      // Every Kratos the suite starts (harness, iam up, compose-free smoke) inherits this: the suite talks to
      // loopback only, and without internet Kratos' Have I Been Pwned lookup stalls each registration ~15 s.
      // iam.yaml's own switch (kratos.passwordBreachCheck) is tested in test/templates/kratos.test.ts.
      SELFSERVICE_METHODS_PASSWORD_CONFIG_HAVEIBEENPWNED_ENABLED: 'false',
    },
  },
})
