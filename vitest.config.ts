import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time: most of a cluster test's time is spent waiting on its daemons,
    // and .ci/run stays under 30 minutes on a 2-core machine. Tests wait for events, never for a
    // fixed time, so a loaded machine slows them without failing them.
    maxWorkers: 2,
    minWorkers: 1,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
