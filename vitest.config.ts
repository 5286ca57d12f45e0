import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // Starts livekit-server / livekit-sip when they are not running, stops only what it started.
    globalSetup: ['test/global-setup.ts'],
    // Integration and e2e suites share one Postgres, Redis and LiveKit server; running files
    // one at a time keeps them from fighting over queues and ports on a 2-core machine.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
