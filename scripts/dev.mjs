#!/usr/bin/env node
// npm run dev [-- --port 8787 --sim-port 8788 --auto-approve]
//
// Runs the gateway with `wrangler dev` at http://localhost:8787. When no LOOKER_URL is
// configured (environment or .dev.vars), it also starts the bundled Looker simulator and
// points the gateway at it, so sign-in works with nothing else to set up.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureDevVars } from './lib/dev-vars.mjs';
import { requireModernNode } from './lib/node-version.mjs';

requireModernNode();

const { values, positionals } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '8787' },
    'sim-port': { type: 'string', default: process.env.SIM_PORT ?? '8788' },
    'auto-approve': { type: 'boolean', default: false },
    // Use the simulator even when a real Looker is configured (the browser test does).
    simulator: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
const port = Number(values.port);
const simPort = Number(values['sim-port']);

const { vars, created } = ensureDevVars();
if (created) console.log('Created .dev.vars with a fresh SESSION_SECRET (edit it to use a real Looker).');
const setting = (name) => process.env[name] || vars[name] || undefined;

const wranglerArgs = ['dev', '--port', String(port), ...positionals];
let simulator;
if (values.simulator || setting('LOOKER_URL') === undefined) {
  const { startSimulator } = await import('../sim/server.ts');
  const clientId = setting('LOOKER_CLIENT_ID') ?? 'gateway-dev';
  const gatewayOrigins = setting('GATEWAY_URL') ? [setting('GATEWAY_URL')] : [`http://localhost:${port}`, `http://127.0.0.1:${port}`];
  simulator = await startSimulator({
    port: simPort,
    clientId,
    redirectUris: gatewayOrigins.map((origin) => `${origin.replace(/\/+$/, '')}/callback`),
    autoApprove: values['auto-approve'],
  });
  console.log(
    values.simulator
      ? `Using the Looker simulator at ${simulator.url} (--simulator).`
      : `No LOOKER_URL configured: using the Looker simulator at ${simulator.url} (sign in as the demo user).`,
  );
  wranglerArgs.push('--var', `LOOKER_URL:${simulator.url}`);
  wranglerArgs.push('--var', `LOOKER_API_URL:${simulator.url}`);
  if (setting('LOOKER_CLIENT_ID') === undefined) wranglerArgs.push('--var', `LOOKER_CLIENT_ID:${clientId}`);
}

const require = createRequire(import.meta.url);
const wranglerBin = join(dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js');
const child = spawn(process.execPath, [wranglerBin, ...wranglerArgs], {
  stdio: 'inherit',
  env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
});

let stopping = false;
const stop = async (code) => {
  if (stopping) return;
  stopping = true;
  if (child.exitCode === null) child.kill('SIGTERM');
  if (simulator !== undefined) await simulator.close().catch(() => {});
  process.exit(code);
};
child.on('exit', (code) => stop(code ?? 0));
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
