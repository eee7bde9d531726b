import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Installs the pinned emulator and cfn-lint into .venv/ once, before any worker starts.
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    // The tests' own SDK clients: the Node 20 notice is not a test result. Commands the tests start get a
    // clean environment (test/support/cli.ts), so the CLI's own silencing is still what they check.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
