#!/usr/bin/env node
// npm run dev [-- --runtime workers|deno --port 8787 --sim-port 8788 --auto-approve --simulator
//                 --env-file PATH --persist-to DIR]
//
// Runs the gateway with `wrangler dev` (or, with --runtime deno, `deno serve` of
// src/platform/deno/server.ts with a local Deno KV file) at http://localhost:8787. When no LOOKER_URL is
// configured (environment or .dev.vars), it also starts the bundled Looker simulator and
// points the gateway at it, so sign-in works with nothing else to set up.
//
// Settings come from .dev.vars (created on the first run, with a fresh SESSION_SECRET),
// or from --env-file PATH instead (then .dev.vars is neither read nor created: the tests
// use this). Extra arguments after `--` go to wrangler (for Deno, `--var NAME:value` ones
// become variables; nothing else is taken).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CACHED_ONLY, denoBinary } from './lib/deno-bin.mjs';
import { ensureDevVars, parseDevVars } from './lib/dev-vars.mjs';
import { requireModernNode } from './lib/node-version.mjs';

requireModernNode();

const USAGE = `Usage: npm run dev -- [--runtime workers|deno] [--port 8787] [--sim-port 8788] [--simulator]
                      [--auto-approve] [--sim-access-token-ttl SECONDS] [--env-file PATH]
                      [--persist-to DIR] [-- wrangler dev options]

Runs the gateway at http://localhost:<port>: with wrangler dev (--runtime workers, the default),
or with deno serve and a local Deno KV file (--runtime deno). Without LOOKER_URL (in .dev.vars
or the environment), or with --simulator, it also runs the bundled Looker simulator on
<sim-port>. The simulator keeps its tokens in memory: restarting npm run dev signs everyone
out (sessions and script credentials end at their next call to Looker). To keep them
across restarts, run the simulator on its own (npm run sim -- --port 8788 --client-id
gateway-dev --redirect-uri http://localhost:8787/callback) and set LOOKER_URL to it.
  --auto-approve            the simulator skips its consent page
  --sim-access-token-ttl S  the simulator's access tokens live S seconds (to watch refreshes)
  --env-file PATH           settings from PATH instead of .dev.vars (which is then not created)
  --persist-to DIR          where local state lives (default .wrangler/state; Deno's KV file is
                            DIR/deno/kv.sqlite3)`;

let parsed;
try {
  parsed = parseArgs({
    options: {
      port: { type: 'string', default: process.env.PORT ?? '8787' },
      'sim-port': { type: 'string', default: process.env.SIM_PORT ?? '8788' },
      'auto-approve': { type: 'boolean', default: false },
      // Use the simulator even when a real Looker is configured (the browser tests do).
      simulator: { type: 'boolean', default: false },
      // Simulated Looker access tokens live this long (seconds); short values exercise refresh.
      'sim-access-token-ttl': { type: 'string' },
      'env-file': { type: 'string' },
      runtime: { type: 'string', default: 'workers' },
      'persist-to': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
  });
} catch (error) {
  console.error(`${error instanceof Error ? error.message : error}\n\n${USAGE}`);
  process.exit(2);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const port = Number(values.port);
const simPort = Number(values['sim-port']);
for (const [flag, value] of [['--port', port], ['--sim-port', simPort]]) {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    console.error(`${flag} must be a port number between 1 and 65535.`);
    process.exit(2);
  }
}

const runtime = values.runtime;
if (runtime !== 'workers' && runtime !== 'deno') {
  console.error(`--runtime must be workers or deno, not ${runtime}.`);
  process.exit(2);
}
const deno = runtime === 'deno' ? denoBinary() : null;
if (runtime === 'deno' && deno === null) {
  console.error(`--runtime deno: no Deno for ${process.platform}-${process.arch} in node_modules. Run npm install (it brings Deno as the deno devDependency).`);
  process.exit(1);
}

let vars;
if (values['env-file'] !== undefined) {
  if (!existsSync(values['env-file'])) {
    console.error(`--env-file ${values['env-file']}: no such file.`);
    process.exit(2);
  }
  vars = parseDevVars(readFileSync(values['env-file'], 'utf8'));
} else {
  const devVars = ensureDevVars();
  if (devVars.created) console.log('Created .dev.vars with a fresh SESSION_SECRET (edit it to use a real Looker).');
  vars = devVars.vars;
}
const setting = (name) => process.env[name] || vars[name] || undefined;
const useSimulator = values.simulator || setting('LOOKER_URL') === undefined;

// Say which port is taken and how to pick others, before wrangler or the simulator fail on it.
for (const [what, number, flag] of [['the gateway', port, '--port'], ...(useSimulator ? [['the Looker simulator', simPort, '--sim-port']] : [])]) {
  if (!(await portIsFree(number))) {
    console.error(
      `Port ${number} (${what}) is already in use — is another \`npm run dev\` running?\n` +
        `Stop it, or pick other ports: npm run dev -- --port ${port + 10} --sim-port ${simPort + 10}` +
        (flag === '--port' ? '' : ` (the simulator's port is set with ${flag})`),
    );
    process.exit(1);
  }
}

const wranglerArgs = ['dev', '--port', String(port), ...positionals];
if (values['env-file'] !== undefined) wranglerArgs.push('--env-file', values['env-file']);
if (values['persist-to'] !== undefined) wranglerArgs.push('--persist-to', values['persist-to']);
/**
 * For Deno, what wrangler's own options after `--` say: --var NAME:value (a variable) and
 * --persist-to DIR (where local state lives); the others mean nothing to deno serve.
 */
const denoVars = { ...vars };
let denoPersistTo = values['persist-to'];
const ignoredForDeno = [];
for (let i = 0; i < positionals.length; i++) {
  const arg = positionals[i];
  if (arg === '--var' && positionals[i + 1] !== undefined) {
    const [name, ...rest] = positionals[++i].split(':');
    denoVars[name] = rest.join(':');
  } else if (arg === '--persist-to' && positionals[i + 1] !== undefined) {
    denoPersistTo ??= positionals[++i];
  } else if (arg.startsWith('--persist-to=')) {
    denoPersistTo ??= arg.slice('--persist-to='.length);
  } else {
    ignoredForDeno.push(arg);
  }
}
let simulator;
if (useSimulator) {
  const { startSimulator } = await import('../sim/server.ts');
  const clientId = setting('LOOKER_CLIENT_ID') ?? 'gateway-dev';
  const gatewayOrigins = setting('GATEWAY_URL') ? [setting('GATEWAY_URL')] : [`http://localhost:${port}`, `http://127.0.0.1:${port}`];
  const ttl = values['sim-access-token-ttl'] === undefined ? undefined : Number(values['sim-access-token-ttl']);
  if (ttl !== undefined && !(Number.isFinite(ttl) && ttl > 0)) {
    console.error('--sim-access-token-ttl must be a positive number of seconds.');
    process.exit(2);
  }
  simulator = await startSimulator({
    port: simPort,
    clientId,
    redirectUris: gatewayOrigins.map((origin) => `${origin.replace(/\/+$/, '')}/callback`),
    autoApprove: values['auto-approve'],
    ...(ttl === undefined ? {} : { accessTokenTtlSeconds: ttl }),
  });
  console.log(
    values.simulator
      ? `Using the Looker simulator at ${simulator.url} (--simulator).`
      : `No LOOKER_URL configured: using the Looker simulator at ${simulator.url} (sign in as the demo user).`,
  );
  wranglerArgs.push('--var', `LOOKER_URL:${simulator.url}`);
  wranglerArgs.push('--var', `LOOKER_API_URL:${simulator.url}`);
  if (setting('LOOKER_CLIENT_ID') === undefined) wranglerArgs.push('--var', `LOOKER_CLIENT_ID:${clientId}`);
  Object.assign(denoVars, { LOOKER_URL: simulator.url, LOOKER_API_URL: simulator.url }, setting('LOOKER_CLIENT_ID') === undefined ? { LOOKER_CLIENT_ID: clientId } : {});
}

const child = runtime === 'deno' ? startDeno() : startWrangler();

function startWrangler() {
  const require = createRequire(import.meta.url);
  const wranglerBin = join(dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js');
  return spawn(process.execPath, [wranglerBin, ...wranglerArgs], {
    stdio: 'inherit',
    // Wrangler's local observability store records every request's full URL (Looker's code and
    // state on /callback among them), whatever wrangler.toml says: off, as the platform's own
    // invocation logs are. The gateway's structured log lines are printed here all the same.
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', X_LOCAL_OBSERVABILITY: 'false' },
  });
}

/** deno serve of the Deno entry: its variables in the environment, its KV in a local file. */
function startDeno() {
  const stateDir = join(denoPersistTo ?? join('.wrangler', 'state'), 'deno');
  mkdirSync(stateDir, { recursive: true });
  if (ignoredForDeno.length > 0) console.warn(`--runtime deno: ignoring ${ignoredForDeno.join(' ')} (of wrangler's options, only --var and --persist-to are taken).`);
  console.log(`Gateway on Deno at http://localhost:${port} (Deno KV: ${join(stateDir, 'kv.sqlite3')})`);
  return spawn(
    deno,
    ['serve', '--quiet', CACHED_ONLY, '--no-prompt', '--allow-net', '--allow-env', '--allow-read', '--allow-write', '--host', '127.0.0.1', '--port', String(port), 'src/platform/deno/server.ts'],
    {
      stdio: 'inherit',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, ...denoVars, DENO_KV_PATH: resolve(stateDir, 'kv.sqlite3'), DENO_NO_UPDATE_CHECK: '1' },
    },
  );
}

let stopping = false;
const stop = async (code) => {
  if (stopping) return;
  stopping = true;
  // SIGINT, as Ctrl-C would: wrangler then stops its esbuild cleanly (on SIGTERM esbuild dumps a deadlock trace).
  if (child.exitCode === null) child.kill('SIGINT');
  if (simulator !== undefined) await simulator.close().catch(() => {});
  process.exit(code);
};
child.on('exit', (code) => stop(code ?? 0));
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

/** Whether nothing listens on the port (on any address a dev server would take). */
function portIsFree(number) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port: number, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)));
  });
}
