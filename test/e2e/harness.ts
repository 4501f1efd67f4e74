/**
 * What the end-to-end tests share: the gateway as `npm run dev` runs it (scripts/dev.mjs:
 * wrangler dev + the Looker simulator) on free ports — one instance for the whole run,
 * started by test/e2e/dev-gateway.setup.ts, or one of a test file's own when it needs other
 * settings — its structured log lines, Debian's Chromium driven by playwright-core, the
 * person's answers on the consent pages, polling, and quiet for @looker/sdk-node's debug
 * noise.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserServer, type Locator, type Page } from 'playwright-core';
import { inject } from 'vitest';
import { denoBinary } from '../../scripts/lib/deno-bin.mjs';

/** What the global setup tells every test file about the shared gateway. */
export interface SharedGatewayInfo {
  url: string;
  simUrl: string;
  /** Where dev.mjs, wrangler and the Worker write their output. */
  logFile: string;
  /** Where wrangler keeps the gateway's local state (KV, Durable Objects, the platform's local logs). */
  stateDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    devGateway: SharedGatewayInfo;
    /** Null without Deno (the deno devDependency's binary): its tests are then skipped. */
    denoDevGateway: SharedGatewayInfo | null;
    /** The run's Chromium (its playwright endpoint); null without Chromium. */
    chromiumEndpoint: string | null;
  }
}

/**
 * The shared gateway's settings. The device flow's poll interval is 1 s (the default is
 * 5), so that a device sign-in does not wait out 5 s before its credential is collected
 * (the command line follows whatever interval the gateway names). Gateway tokens live 15 s
 * and the simulator's Looker access tokens 70 s, so that within the SDK test the SDK logs in
 * again (it treats a token as expired 10 s early: after ~5 s) and the gateway refreshes
 * Looker's token behind it (when under 60 s remain: after ~10 s). Every other test sees
 * those refreshes too, as a long-lived deployment would.
 */
export const SHARED_GATEWAY_TOKEN_TTL_SECONDS = 15;
export const SHARED_SIM_ACCESS_TOKEN_TTL_SECONDS = 70;
export const SHARED_GATEWAY_VARS: Record<string, string> = {
  DEVICE_POLL_INTERVAL_SECONDS: '1',
  GATEWAY_TOKEN_TTL_SECONDS: String(SHARED_GATEWAY_TOKEN_TTL_SECONDS),
};
export const SHARED_GATEWAY_OPTIONS: DevOptions = { simAccessTokenTtl: SHARED_SIM_ACCESS_TOKEN_TTL_SECONDS, vars: SHARED_GATEWAY_VARS };

/**
 * The gateway on Deno (`npm run dev -- --runtime deno`), started by the global setup beside
 * the Workers ones, with the shared gateway's variables and one ALLOWED_ORIGINS entry (the
 * policy tables' browser app, test/policy-cases.ts).
 */
export const DENO_ALLOWED_ORIGIN = 'https://app.example';
export const DENO_GATEWAY_OPTIONS: DevOptions = { runtime: 'deno', vars: { DEVICE_POLL_INTERVAL_SECONDS: '1', ALLOWED_ORIGINS: DENO_ALLOWED_ORIGIN } };

export const haveDeno = denoBinary() !== null;
if (!haveDeno && process.env.CI) throw new Error('No Deno in node_modules: CI must have it (npm install brings the deno devDependency).');

export const ROOT = resolve(import.meta.dirname, '../..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) {
  throw new Error(`Chromium not found at ${CHROMIUM}; CI must install it (apt-get install -y chromium).`);
}

/** Says once per test file why its browser tests are skipped (CI never gets here: see above). */
export function warnIfNoChromium(what: string): void {
  if (!haveChromium) console.warn(`Skipping ${what}: no Chromium at ${CHROMIUM} (apt-get install chromium).`);
}

/**
 * A screenshot of the page into test-results/, when E2E_SCREENSHOTS is set (to look at the
 * pages a run went through); otherwise nothing: each costs about 0.4 CPU-seconds, and they
 * assert nothing.
 */
export async function screenshot(page: Page, name: string, options: { mask?: Locator[] } = {}): Promise<void> {
  if (!process.env.E2E_SCREENSHOTS) return;
  mkdirSync(join(ROOT, 'test-results'), { recursive: true });
  await page.screenshot({ ...options, path: join(ROOT, 'test-results', `${name}.png`) });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function waitFor(url: string, child: ChildProcess, output: () => string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`npm run dev exited early (${child.exitCode}):\n${output()}`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Gateway did not start within ${timeoutMs} ms:\n${output()}`);
}

/** One of the gateway's structured log lines (src/log.ts): `{ level, event, ...fields }`. */
export interface LogLine {
  level: string;
  event: string;
  [field: string]: unknown;
}

export interface DevGateway {
  /** The gateway's origin, e.g. http://localhost:PORT. */
  url: string;
  /** The Looker simulator's origin. */
  simUrl: string;
  /** Where wrangler keeps this gateway's local state (KV, Durable Objects, the platform's local logs). */
  stateDir: string;
  logFile: string;
  /** Everything dev.mjs, wrangler and the Worker printed so far (of every test file, for the shared one). */
  output(): string;
  /** The gateway's log lines so far with this event name (and these field values). */
  events(event: string, fields?: Record<string, unknown>): LogLine[];
  stop(): Promise<void>;
}

export interface DevOptions {
  /** The simulator's access token lifetime (`--sim-access-token-ttl`). */
  simAccessTokenTtl?: number;
  /** Worker variables, as wrangler's `--var NAME:value`. */
  vars?: Record<string, string>;
  /** Which runtime npm run dev runs the gateway on (`--runtime`; default workers). */
  runtime?: 'workers' | 'deno';
}

/**
 * Starts scripts/dev.mjs with the simulator on free ports, settings from a file of its own
 * (so no .dev.vars is created), its output in a file (which test files in other worker
 * processes read).
 */
export async function startDevGateway(options: DevOptions = {}): Promise<DevGateway> {
  const port = await freePort();
  const simPort = await freePort();
  const state = mkdtempSync(join(tmpdir(), 'lgw-e2e-'));
  const logs = mkdtempSync(join(tmpdir(), 'lgw-e2e-log-'));
  const logFile = join(logs, 'dev.log');
  const envFile = join(state, 'test.vars');
  writeFileSync(envFile, `SESSION_SECRET=${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  const args = ['scripts/dev.mjs', '--simulator', '--env-file', envFile, '--port', String(port), '--sim-port', String(simPort)];
  if (options.simAccessTokenTtl !== undefined) args.push('--sim-access-token-ttl', String(options.simAccessTokenTtl));
  if (options.runtime !== undefined) args.push('--runtime', options.runtime);
  // Its own inspector port too: two wrangler devs starting at the same moment would both take the default one.
  args.push('--', '--persist-to', state, '--inspector-port', String(await freePort()));
  for (const [name, value] of Object.entries(options.vars ?? {})) args.push('--var', `${name}:${value}`);

  const out = openSync(logFile, 'a', 0o600);
  const dev = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, CI: 'true' }, stdio: ['ignore', out, out] });
  closeSync(out);
  const gateway: DevGateway = {
    ...gatewayReading({ url: `http://localhost:${port}`, simUrl: `http://localhost:${simPort}`, logFile, stateDir: state }),
    async stop() {
      if (dev.exitCode === null && dev.signalCode === null) {
        const exited = new Promise((r) => dev.once('exit', r));
        dev.kill('SIGTERM');
        await exited;
      }
      // wrangler may still be shutting down inside it: best effort.
      for (const dir of [state, logs]) {
        try {
          rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
        } catch {
          // left in the temp directory
        }
      }
    },
  };
  try {
    await waitFor(`${gateway.url}/`, dev, () => gateway.output());
  } catch (error) {
    await gateway.stop();
    throw error;
  }
  return gateway;
}

/** A gateway whose output is in a file. */
function gatewayReading(info: SharedGatewayInfo): Omit<DevGateway, 'stop'> {
  const output = () => (existsSync(info.logFile) ? readFileSync(info.logFile, 'utf8') : '');
  return {
    ...info,
    output,
    events: (event, fields = {}) =>
      logLines(output()).filter((line) => line.event === event && Object.entries(fields).every(([k, v]) => line[k] === v)),
  };
}

/**
 * The gateway every end-to-end file shares (started once by dev-gateway.setup.ts, with
 * {@link SHARED_GATEWAY_OPTIONS}). Other files use it at the same time: filter its log by
 * what this file created (a client id, a credential name), never count all of it.
 */
export function sharedDevGateway(): DevGateway {
  return { ...gatewayReading(inject('devGateway')), stop: async () => {} };
}

/**
 * The gateway on Deno ({@link DENO_GATEWAY_OPTIONS}), started by dev-gateway.setup.ts beside
 * the Workers ones and shared by the files that test it (skipped without Deno: {@link haveDeno}).
 */
export function denoGateway(): DevGateway {
  const info = inject('denoDevGateway');
  if (info === null) throw new Error('The global setup started no gateway on Deno (no Deno in node_modules).');
  return { ...gatewayReading(info), stop: async () => {} };
}

/** The Worker's JSON log lines among whatever else wrangler prints. */
export function logLines(output: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const text of output.split('\n')) {
    const start = text.indexOf('{"level":');
    if (start < 0) continue;
    try {
      const parsed: unknown = JSON.parse(text.slice(start));
      if (typeof parsed === 'object' && parsed !== null && 'event' in parsed && 'level' in parsed) lines.push(parsed as LogLine);
    } catch {
      // a line that merely contains the text
    }
  }
  return lines;
}

/**
 * Gateway-issued secrets in some text: client secrets (lgws_), gateway access tokens
 * (lgwt_), one-time codes (lgwo_) and device codes (lgwd_). Client ids (lgwc_) are public.
 */
export function issuedSecretsIn(text: string): string[] {
  return text.match(/lgw[stod]_[A-Za-z0-9_-]{20,}/g) ?? [];
}

/**
 * How Chromium is started: headless, and as light as it goes on a two-core machine (one
 * renderer process where Chromium would start several: the pages under test are the
 * gateway's and the simulator's, never hostile to each other).
 */
const CHROMIUM_LAUNCH = {
  executablePath: CHROMIUM,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--renderer-process-limit=1',
    '--disable-site-isolation-trials',
    '--disable-features=site-per-process,IsolateOrigins',
  ],
};

/**
 * Starts the run's one Chromium (test/e2e/dev-gateway.setup.ts); files connect to it with
 * {@link launchChromium} and each works in browser contexts of its own. One launch for the
 * run instead of one per file saves about a CPU-second each.
 */
export function startChromiumServer(): Promise<BrowserServer> {
  return chromium.launchServer(CHROMIUM_LAUNCH);
}

/**
 * The run's Chromium, for this file: a connection whose close() ends this file's contexts
 * and leaves the browser to the others. Outside a run with the global setup (a script of
 * one's own), a Chromium of its own.
 */
export function launchChromium(): Promise<Browser> {
  const endpoint = inject('chromiumEndpoint');
  return endpoint == null ? chromium.launch(CHROMIUM_LAUNCH) : chromium.connect(endpoint);
}

/** On the simulator's consent page ("Allow access?" at Looker), the person clicks Allow or Deny. */
export async function answerAtLooker(page: Page, gateway: DevGateway, decision: 'Allow' | 'Deny' = 'Allow'): Promise<void> {
  await page.waitForURL((url) => url.origin === gateway.simUrl && url.pathname === '/auth');
  await page.getByRole('button', { name: decision }).click();
}

/** On the gateway's own consent page ("Allow <name> … to use the Looker API as <you>?"), the person answers. */
export async function answerAtGateway(page: Page, gateway: DevGateway, decision: 'Allow' | 'Deny' = 'Allow'): Promise<void> {
  await page.waitForURL((url) => url.origin === gateway.url && url.pathname.startsWith('/cli/consent/'));
  await page.getByRole('button', { name: decision }).click();
}

/** The first value `probe` gives other than undefined, polling; fails naming `what` after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * @looker/sdk-rtl 21.6's transport logs "AbortSignal.timeout is not defined" with
 * console.debug on every request that has no cancel signal (an `else` on the wrong `if`):
 * noise, not news. Drop that one message and nothing else.
 */
export function quietSdkDebugNoise(): () => void {
  const original = console.debug;
  console.debug = (...args: unknown[]) => {
    if (args.length === 1 && typeof args[0] === 'string' && args[0].startsWith('AbortSignal.timeout is not defined')) return;
    original(...args);
  };
  return () => {
    console.debug = original;
  };
}
