import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // End-to-end files spawn bridges and servers: two cores, so at most two files at once.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
