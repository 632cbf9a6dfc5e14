import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'web/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: a few files at a time; servers in tests bind port 0.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
