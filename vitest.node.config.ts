import { defineConfig } from 'vitest/config';

// Tests that run in Node rather than workerd: unit tests of Node-side code (test/node:
// the CLI, the benchmark's verdicts) and the end-to-end tests (test/e2e), which drive
// `npm run dev`'s script (wrangler dev + the Looker simulator) and Debian's Chromium. One
// such gateway, started by the global setup, serves every file (the SDK test starts one
// more of its own, with short token lifetimes).
export default defineConfig({
  test: {
    include: ['test/node/**/*.test.ts', 'test/e2e/**/*.e2e.test.ts'],
    environment: 'node',
    globalSetup: ['test/e2e/dev-gateway.setup.ts'],
    // Most of these files wait (on the gateway, Chromium, the SDK's token lifetimes), not
    // compute: run three at once even on two cores (the default would be one).
    maxWorkers: 3,
    // No file leaves state behind that another needs gone (each has its own directories,
    // credentials and browser contexts): workers run file after file without a fresh start.
    isolate: false,
    testTimeout: 180_000,
    hookTimeout: 180_000,
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: 'test-results/node.json' },
  },
});
