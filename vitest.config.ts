import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Installs the pinned emulator and cfn-lint into .venv/ once, before any worker starts.
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    // Most files wait on their own emulator (a separate Python process), so two workers keep both cores
    // busy; Vitest's default on 2 cores is one.
    maxWorkers: 2,
    // The tests' own SDK clients: the Node 20 notice is not a test result. Commands the tests start get a
    // clean environment (test/support/cli.ts), so the CLI's own silencing is still what they check.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
