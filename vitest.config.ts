import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    // Least privilege over the whole suite: see test/support/iam-ledger.ts.
    globalSetup: ['test/support/iam-ledger.ts'],
    setupFiles: ['test/support/iam-ledger-flush.ts'],
    // On a Node older than 22 (this machine's 20) the SDK warns at every client; not under test.
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // Every state save fsyncs; on tmpfs a full `up` in a test takes a quarter of the time.
      ...(existsSync('/dev/shm') ? { TMPDIR: '/dev/shm' } : {}),
    },
  },
});
