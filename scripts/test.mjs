#!/usr/bin/env node
// npm test: the type-checks, the layering check, the two Vitest runs — in workerd
// (vitest.config.ts) and in Node (vitest.node.config.ts: the command line, the benchmark's
// logic, and the end-to-end tests against `npm run dev`'s gateway) — side by side, and the
// Deno phase (scripts/test-deno.mjs: deno check, then deno test of test/deno/) once the
// type-checks are done. Each
// one's output is printed as a block once it ends (interleaved live output would be
// unreadable), then the time of every phase. Exits non-zero if anything failed. Extra arguments go to
// both Vitest runs (e.g. `npm test -- --reporter=dot`).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { requireModernNode } from './lib/node-version.mjs';

requireModernNode();

const extra = process.argv.slice(2);
const started = performance.now();
/** @type {Array<{ name: string, seconds: number, ok: boolean }>} */
const phases = [];

/**
 * Runs a command of the project's own (npm run puts node_modules/.bin first on PATH), and
 * prints its output in one block when it ends.
 */
function run(name, command, args) {
  const begun = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const end = (ok) => {
      const seconds = (performance.now() - begun) / 1000;
      phases.push({ name, seconds, ok });
      process.stdout.write(`\n━━━ ${name} (${ok ? 'passed' : 'FAILED'}, ${seconds.toFixed(1)} s) ━━━\n${output}`);
      resolve(ok);
    };
    child.on('error', (error) => {
      output += `${error.message}\n`;
      end(false);
    });
    child.on('close', (code) => end(code === 0));
  });
}

// What `npm run typecheck` (its `&&`-joined tsc runs) and `npm run lint:deps` do, and both
// Vitest runs, all at once: on two cores the tests leave CPU idle while they wait (on the
// gateway, Chromium, token lifetimes), which the type-checks fill. A type error still fails
// the run. The type-checks are read from package.json so the two cannot drift apart.
const { scripts } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const typechecks = scripts.typecheck.split('&&').map((command) => command.trim().split(/\s+/));
console.log('Type-checks, the layering check, and the tests in workerd, in Node and in Deno, side by side (each one\'s output follows when it ends)…');
const results = (
  await Promise.all([
    // Deno's phase starts when the type-checks and the layering check end: it takes their
    // place on the CPU instead of adding to it (some Node tests have time windows, such as
    // an SDK token good for 5 s, that a busier machine can miss).
    Promise.all([
      // Named as a person would type them (`tsc …`, not the path of TypeScript's native compiler in node_modules).
      ...typechecks.map(([command, ...args]) => run(`typecheck: ${[command, ...args].join(' ').replace(/^node \S*\/bin\/tsc/, 'tsc')}`, command, args)),
      run('lint:deps', 'npm', ['run', '--silent', 'lint:deps']),
    ]).then(async (checks) => [...checks, await run('tests in Deno (deno check, deno test)', 'node', ['scripts/test-deno.mjs'])]),
    run('tests in workerd (vitest.config.ts)', 'vitest', ['run', ...extra]),
    run('tests in Node (vitest.node.config.ts)', 'vitest', ['run', '--config', 'vitest.node.config.ts', ...extra]),
  ])
).flat();
const ok = results.every(Boolean);

const total = (performance.now() - started) / 1000;
console.log('\nTime per phase (they overlap):');
for (const phase of phases) console.log(`  ${phase.ok ? '✓' : '✗'} ${phase.name.padEnd(46)} ${phase.seconds.toFixed(1).padStart(6)} s`);
console.log(`  ${'total'.padEnd(48)} ${total.toFixed(1).padStart(6)} s`);
process.exit(ok ? 0 : 1);
