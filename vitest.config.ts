import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Learning tests train real models; give them room on a 2-core machine.
    testTimeout: 300_000,
    hookTimeout: 120_000,
    // One worker per core; tfjs backends are process-global, so files run isolated in forks.
    pool: 'forks',
    maxWorkers: 2,
  },
});
