import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

// Unit and integration tests run inside the Workers runtime (workerd), with the
// gateway's KV binding from wrangler.toml. Each test builds its own app with
// createApp({ fetch: simulator.fetch, now }) — no global mocks.
export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: './wrangler.toml' } })],
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    exclude: ['test/e2e/**', 'test/node/**'],
    // Every test keeps its storage apart (test/helpers.ts gives each one its own KV key
    // prefix and Durable Object names), so files can share a runtime: one workerd per
    // worker for all the files it runs, instead of a new one (~1.5 s) per file, and two
    // workers side by side.
    isolate: false,
    maxWorkers: 2,
    // npm test runs these beside the Node tests (scripts/test.mjs), so a test that makes a
    // thousand requests may get half the CPU it would alone: a timeout is a safety net
    // here, never a measure of speed.
    testTimeout: 30_000,
    // CI also writes a JSON report, summarised in one closing line by .ci/run.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: 'test-results/unit.json' },
  },
});
