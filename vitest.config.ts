import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', 'appliances/build/**'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // End-to-end suites share libvirtd and the host; run files one at a time, tests inside in order.
    fileParallelism: false,
  },
});
