#!/usr/bin/env node
// npm run test:deno: the Deno half of `npm test`. Type-checks src/platform/deno (and the
// whole app through it) with Deno's own types, then runs test/deno/ under `deno test`:
// the ledger and device-flow contracts against Deno KV, a smoke test of the gateway
// on `deno serve` with the Looker simulator, and one of the benchmark's Deno entry
// (bench/deno-servers/). Without Deno (no @deno/<platform> package) it is skipped with a
// warning, except under CI=true, where that is a failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { CACHED_ONLY, denoBinary } from './lib/deno-bin.mjs';

const deno = denoBinary();
if (deno === null) {
  const message = `No Deno binary for ${process.platform}-${process.arch} in node_modules (the deno devDependency's platform package).`;
  if (process.env.CI) {
    console.error(`${message} CI must have it: npm install.`);
    process.exit(1);
  }
  console.warn(`${message} Skipping the Deno tests.`);
  process.exit(0);
}

const run = (args) => {
  const result = spawnSync(deno, args, { stdio: 'inherit', env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' } });
  if (result.status !== 0) process.exit(result.status ?? 1);
};
// bench/deno-servers/ too: the benchmark's Deno entries (the gateway with counted KV, the bare pass-through).
run(['check', '--quiet', CACHED_ONLY, 'src/platform/deno/server.ts', 'bench/deno-servers/gateway.ts', 'bench/deno-servers/bare.ts', 'test/deno/']);
// Under CI, also a JUnit report, turned into the counts .ci/run's closing line adds up.
const junit = 'test-results/deno.junit.xml';
if (process.env.CI) mkdirSync('test-results', { recursive: true });
const result = spawnSync(
  deno,
  // Already type-checked just above (the same graph): not again.
  ['test', '--quiet', '--no-check', CACHED_ONLY, '--no-prompt', '--allow-env', '--allow-read', '--allow-write', '--allow-net', '--allow-run', ...(process.env.CI ? [`--junit-path=${junit}`] : []), 'test/deno/'],
  { stdio: 'inherit', env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' } },
);
if (process.env.CI && existsSync(junit)) {
  const xml = readFileSync(junit, 'utf8');
  const cases = (xml.match(/<testcase\b/g) ?? []).length;
  const failures = (xml.match(/<failure\b/g) ?? []).length;
  const skipped = (xml.match(/<skipped\b/g) ?? []).length;
  writeFileSync('test-results/deno.json', JSON.stringify({ numPassedTests: cases - failures - skipped, numFailedTests: failures, numPendingTests: skipped }));
}
process.exit(result.status ?? 1);
