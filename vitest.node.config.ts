import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The files that take longest (mostly waiting: the SDK's token lifetimes, device polls,
 * Chromium, the operator tools' processes), in that order, ahead of the rest, so that they
 * do not start last and keep the run waiting at its end. Without this, a fresh clone (no
 * durations recorded yet) would go by file size, and the end-to-end command-line files are
 * a few lines each.
 */
const LONGEST_FIRST = ['sdk-node.e2e', 'cli-loopback.e2e', 'cli-device.e2e', 'operator-tools.e2e', 'mcp.e2e', 'browser.e2e', 'deno-cli.e2e', 'cli-login', 'cli-commands'];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const known = LONGEST_FIRST.findIndex((name) => spec.moduleId.endsWith(`/${name}.test.ts`));
      return known < 0 ? LONGEST_FIRST.length : known;
    };
    const sorted = await super.sort(files);
    return sorted
      .map((spec, index) => ({ spec, index }))
      .sort((a, b) => rank(a.spec) - rank(b.spec) || a.index - b.index)
      .map(({ spec }) => spec);
  }
}

// Tests that run in Node rather than workerd: unit tests of Node-side code (test/node:
// the CLI, the benchmark's verdicts) and the end-to-end tests (test/e2e), which drive
// `npm run dev`'s script (wrangler dev + the Looker simulator) and Debian's Chromium. One
// such gateway, started by the global setup, serves every file (the SDK test has one
// more of its own, with short token lifetimes), and one on Deno (`--runtime deno`) serves
// the deno*.e2e files.
export default defineConfig({
  test: {
    include: ['test/node/**/*.test.ts', 'test/e2e/**/*.e2e.test.ts'],
    environment: 'node',
    globalSetup: ['test/e2e/dev-gateway.setup.ts'],
    // Most of these files wait (on the gateway, Chromium, the SDK's token lifetimes), not
    // compute: two at once (the default on two cores would be one; a third worker loaded
    // every module once more and saved no time beside the other phases).
    maxWorkers: 2,
    // No file leaves state behind that another needs gone (each has its own directories,
    // credentials and browser contexts): workers run file after file without a fresh start.
    isolate: false,
    sequence: { sequencer: LongestFirst },
    testTimeout: 180_000,
    hookTimeout: 180_000,
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: 'test-results/node.json' },
  },
});
