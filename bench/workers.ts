/**
 * The Workers the benchmark measures, as a list: how each is built and bound, and what a
 * client sends with each request. Each runs alone in its own workerd (workerd.ts) against
 * the same Looker simulator, and every measurement walks this list, so a new variant to
 * compare is one more entry.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { V4WorkerOptions } from 'miniflare';
import { gatewayBearerToken, gatewaySessionCookie } from './sign-in.ts';

/** What every Worker is built against in one run. */
export interface RunSetup {
  /** The Looker simulator's origin. */
  simulator: string;
  clientId: string;
  /** A bearer token from the simulator, for Workers that hold one themselves. */
  token: string;
  compatibilityDate: string;
  /** The gateway as `wrangler deploy --dry-run` bundled it. */
  gatewayBundle: string;
}

export interface MeasuredWorker {
  /** Its key in results.json, and in the ratios the report draws. */
  id: string;
  /** Its name in the report. */
  label: string;
  /** The Worker as Miniflare runs it, once it is to listen at `origin`. */
  define(setup: RunSetup, origin: string): V4WorkerOptions;
  /** The headers a client sends with each request, once it listens at `origin` (signing in first, if it must). */
  clientHeaders(origin: string): Promise<Record<string, string>>;
  /** Its log is the gateway's request log, read back for KV operations per request. */
  countsKv: boolean;
  /** Also measured while streaming a large download and upload. */
  streamed: boolean;
  /** Also run under callgrind with --instructions, for its instructions per request. */
  underCallgrind: boolean;
}

/** The ids the targets and the report compare; `direct` is the simulator itself, called with a token. */
export const GATEWAY = 'gateway';
export const GATEWAY_BEARER = 'gatewayBearer';
export const BARE = 'bare';
export const BARE_LOG = 'bareLog';
export const DIRECT = 'direct';

/** The requests/s ratios the report shows, the yardstick first (its range of rounds is shown too). */
export const COMPARISONS = [
  { of: GATEWAY, to: BARE },
  { of: GATEWAY, to: BARE_LOG },
  { of: GATEWAY, to: DIRECT },
  { of: GATEWAY_BEARER, to: BARE },
] as const;

/**
 * The platform floor: a pass-through Worker that holds the token itself, no sign-in, no
 * policy. The "bare + log" variant adds one request log line like the gateway's, to show
 * what a log line per request costs on this runtime by itself.
 */
const BARE_WORKER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const upstream = await fetch(env.UPSTREAM + url.pathname + url.search, {
      method: request.method,
      headers: { authorization: 'Bearer ' + env.TOKEN, accept: request.headers.get('accept') ?? '*/*' },
      body: request.body,
      redirect: 'manual',
    });
    if (env.LOG === '1') {
      console.log(JSON.stringify({ level: 'info', event: 'request', requestId: crypto.randomUUID(), method: request.method, route: '/api/*', status: upstream.status, durationMs: 0 }));
    }
    return new Response(upstream.body, upstream);
  },
};`;

function bare(id: string, label: string, log: boolean): MeasuredWorker {
  return {
    id,
    label,
    define: (setup) => ({
      name: id,
      modules: true,
      script: BARE_WORKER,
      compatibilityDate: setup.compatibilityDate,
      bindings: { UPSTREAM: setup.simulator, TOKEN: setup.token, LOG: log ? '1' : '0' },
    }),
    clientHeaders: async () => ({}),
    countsKv: false,
    // Only the floor itself is compared with the gateway beyond requests/s.
    streamed: !log,
    underCallgrind: !log,
  };
}

/** The gateway as deployed (its bundle, KV, the ledger Durable Object), reached by a browser or a script. */
function gateway(id: string, label: string, clientHeaders: MeasuredWorker['clientHeaders'], measuredAlso: boolean): MeasuredWorker {
  return {
    id,
    label,
    define: (setup, origin) => ({
      name: id,
      // index.js and, beside it, the command line the gateway serves (a text module wrangler bundles).
      modulesRoot: dirname(setup.gatewayBundle),
      modules: [
        { type: 'ESModule', path: setup.gatewayBundle },
        ...readdirSync(dirname(setup.gatewayBundle))
          .filter((file) => file.endsWith('looker-oauth-gateway.mjs'))
          .map((file) => ({ type: 'Text' as const, path: join(dirname(setup.gatewayBundle), file) })),
      ],
      compatibilityDate: setup.compatibilityDate,
      kvNamespaces: ['SESSIONS'],
      durableObjects: { ACCOUNTS: { className: 'AccountObject', useSQLite: true }, DEVICE_FLOWS: { className: 'DeviceFlowObject', useSQLite: true } },
      bindings: {
        LOOKER_URL: setup.simulator,
        LOOKER_CLIENT_ID: setup.clientId,
        SESSION_SECRET: randomBytes(32).toString('base64'),
        GATEWAY_URL: origin,
      },
    }),
    clientHeaders,
    countsKv: true,
    streamed: measuredAlso,
    underCallgrind: measuredAlso,
  };
}

export const MEASURED_WORKERS: readonly MeasuredWorker[] = [
  bare(BARE, 'bare', false),
  bare(BARE_LOG, 'bare + log', true),
  // A browser's session: the cookie the gateway set after signing in through the simulator.
  gateway(GATEWAY, 'gateway', async (origin) => ({ cookie: await gatewaySessionCookie(origin) }), true),
  // A script: the bearer token the SDK login hands a credential (requests/s and KV per request).
  gateway(GATEWAY_BEARER, 'gateway (bearer)', async (origin) => ({ authorization: `Bearer ${await gatewayBearerToken(origin)}` }), false),
];

/** Bundles the gateway as a deploy would (`wrangler deploy --dry-run`); returns the bundle's path and size. */
export function buildGateway(root: string, outDir: string): { path: string; bytes: number } {
  const build = spawnSync(process.execPath, [join(root, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', outDir, '--env='], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  });
  if (build.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${build.stdout}\n${build.stderr}`);
  // wrangler names the bundle after wrangler.toml's `main` (src/platform/cloudflare/worker.ts → worker.js).
  const main = /^main\s*=\s*"([^"]+)"/m.exec(readFileSync(join(root, 'wrangler.toml'), 'utf8'))?.[1];
  if (main === undefined) throw new Error('wrangler.toml has no main');
  const path = join(outDir, `${basename(main).replace(/\.[cm]?[jt]sx?$/, '')}.js`);
  return { path, bytes: readFileSync(path).length };
}

/** The compatibility date the gateway deploys with, for every measured Worker alike. */
export function compatibilityDate(root: string): string {
  const date = /compatibility_date\s*=\s*"([^"]+)"/.exec(readFileSync(join(root, 'wrangler.toml'), 'utf8'))?.[1];
  if (date === undefined) throw new Error('wrangler.toml has no compatibility_date');
  return date;
}
