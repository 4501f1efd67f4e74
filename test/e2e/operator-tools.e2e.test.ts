/**
 * The operator commands as an admin runs them: `npm run register` and `npm run doctor`
 * as processes, against the simulator over HTTP, with the admin key only in the
 * environment — and never echoed.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../sim/server.ts';

const ROOT = resolve(import.meta.dirname, '../..');
let sim: RunningSimulator;
let cwd: string;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, clientId: 'e2e-gateway', registerApp: false, apiKeys: [{ clientId: 'e2e-admin', clientSecret: 'e2e-admin-secret-value', admin: true }] });
  // A working directory without .dev.vars, so only the environment below counts.
  cwd = mkdtempSync(join(tmpdir(), 'lgw-ops-'));
  cpSync(join(ROOT, 'wrangler.toml'), join(cwd, 'wrangler.toml'));
  writeFileSync(join(cwd, 'package.json'), '{"type":"module"}');
});

afterAll(async () => {
  await sim?.close();
});

/** Runs a script as its own process (asynchronously: the simulator answers from this one). */
async function run(script: string, args: string[], extraEnv: Record<string, string> = {}) {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    WRANGLER_SEND_METRICS: 'false',
    LOOKER_URL: sim.url,
    LOOKER_CLIENT_ID: 'e2e-gateway',
    GATEWAY_URL: 'https://gw.example.com',
    SESSION_SECRET: 'BE5l20KwBE7L8X6X/khk4VRhUN0qtHwKBQJky7J4rJ4=',
    LOOKER_ADMIN_CLIENT_ID: 'e2e-admin',
    LOOKER_ADMIN_CLIENT_SECRET: 'e2e-admin-secret-value',
    ...extraEnv,
  };
  const child = spawn(process.execPath, [join(ROOT, 'scripts', script), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const code = await new Promise<number | null>((done) => child.on('exit', done));
  expect(output).not.toContain('e2e-admin-secret-value');
  return { code, output };
}

// Each process loads wrangler's config reader, some 2 CPU-seconds, so each runs only as
// often as it takes to prove the wiring of the command (its options and environment reach
// the checks, its exit code and output come back, the admin key is never echoed); what
// the checks judge is tested in-process in test/ops.test.ts. The doctor tests find the app
// the first test registered (one simulator for the file).
describe('operator commands', () => {
  it('register creates the app; with a wrong key it exits 1 with a clear message', async () => {
    const first = await run('register.mjs', []);
    expect(first.output).toContain('✓ Registered the OAuth client app "e2e-gateway".');
    expect(first.code).toBe(0);
    expect(sim.sim.apiSessionCount()).toBe(0);
    const wrong = await run('register.mjs', [], { LOOKER_ADMIN_CLIENT_SECRET: 'wrong' });
    expect(wrong.code).toBe(1);
    expect(wrong.output).toContain('Looker refused the admin API key (404)');
  });

  it('doctor passes for a correct configuration and fails, with fixes, for a wrong one (--env production: the placeholder KV id too)', async () => {
    const good = await run('doctor.mjs', []);
    expect(good.output).toContain('All checks passed.');
    expect(good.code).toBe(0);
    const bad = await run('doctor.mjs', ['--env', 'production'], { GATEWAY_URL: 'https://elsewhere.example.com', SESSION_SECRET: 'short' });
    expect(bad.code).toBe(1);
    expect(bad.output).toContain('✗ SESSION_SECRET is too weak');
    expect(bad.output).toContain('binds SESSIONS to a placeholder id');
    expect(bad.output).not.toContain('short\n');
  });

  it('doctor --runtime deno checks Deno from node_modules and where the KV file goes, not wrangler.toml', async () => {
    const kvFile = join(cwd, 'state', 'kv.sqlite3');
    const missing = await run('doctor.mjs', ['--runtime', 'deno'], { DENO_KV_PATH: kvFile, TRUSTED_PROXY_HEADER: 'x-forwarded-for' });
    expect(missing.output).toMatch(/✓ deno \d+\.\d+\.\d+/);
    expect(missing.output).toContain(`✗ DENO_KV_PATH ${kvFile}: its directory ${join(cwd, 'state')} does not exist`);
    expect(missing.output).not.toContain('wrangler.toml');
    expect(missing.code).toBe(1);
    mkdirSync(join(cwd, 'state'));
    const good = await run('doctor.mjs', ['--runtime', 'deno'], { DENO_KV_PATH: kvFile, TRUSTED_PROXY_HEADER: 'x-forwarded-for' });
    expect(good.output).toContain(`✓ DENO_KV_PATH ${kvFile} can be written here`);
    expect(good.output).toContain('All checks passed.');
    expect(good.code).toBe(0);
  });
});
