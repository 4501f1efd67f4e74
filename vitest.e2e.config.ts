import { defineConfig } from 'vitest/config';

// The end-to-end test runs in Node: it starts `npm run dev`'s script (wrangler dev +
// the Looker simulator) and drives Debian's Chromium through the sign-in.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 180_000,
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: 'test-results/e2e.json' },
  },
});
