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
    // prefix and Durable Object names), so files can share a runtime: one workerd for all
    // the files, instead of a new one (~1.5 s) per file. One worker, not two: npm test runs
    // these beside the Node tests and Deno's on two busy cores, where a second workerd
    // (loading every module again) costs more CPU than it saves time (~10 CPU-s a run).
    isolate: false,
    maxWorkers: 1,
    // npm test runs these beside the Node tests (scripts/test.mjs), so a test that makes a
    // thousand requests may get half the CPU it would alone: a timeout is a safety net
    // here, never a measure of speed.
    testTimeout: 30_000,
    // CI also writes a JSON report, summarised in one closing line by .ci/run.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: 'test-results/unit.json' },
  },
});
