/**
 * The Workers the benchmark measures, as a list: how each is built and bound, and the
 * request a client sends it. Each runs alone in its own workerd (workerd.ts) against the
 * same Looker simulator, and every measurement walks this list, so a new variant to
 * compare is one more entry.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { V4WorkerOptions } from 'miniflare';
import { gatewayAgentToken, gatewayBearerToken, gatewaySessionCookie } from './sign-in.ts';

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

/** What a client sends a measured Worker, the same every time. */
export interface ClientRequest {
  method: 'GET' | 'POST';
  /** Path and query. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** A 200 whose body matches this is a failure all the same (see load.ts). */
  failsIf?: RegExp;
}

/** A measured request, as the report names it and as the gateway's request log names its route. */
export interface RequestKind {
  /** "GET /api/4.0/user": Workers measured on different requests are compared in tables of their own. */
  what: string;
  /** The `route` of the gateway's request log lines for it, whose KV operations are counted. */
  route: string;
}

export interface MeasuredWorker {
  /** Its key in results.json, and in the ratios the report draws. */
  id: string;
  /** Its name in the report. */
  label: string;
  /** The Worker as Miniflare runs it, once it is to listen at `origin`. */
  define(setup: RunSetup, origin: string): V4WorkerOptions;
  /** What it is measured on. */
  request: RequestKind;
  /** The request a client sends it, once it listens at `origin` (signing in first, if it must). */
  client(origin: string): Promise<ClientRequest>;
  /** Its log is the gateway's request log, read back for KV operations per request (of `request.route`). */
  countsKv: boolean;
  /** Also measured while streaming a large download and upload. */
  streamed: boolean;
  /** Also run under callgrind with --instructions, for its instructions per request. */
  underCallgrind: boolean;
}

/** The ids the targets and the report compare; `direct` is the simulator itself, called with a token. */
export const GATEWAY = 'gateway';
export const GATEWAY_BEARER = 'gatewayBearer';
export const GATEWAY_MODELS = 'gatewayModels';
export const GATEWAY_MCP = 'gatewayMcp';
export const BARE = 'bare';
export const BARE_LOG = 'bareLog';
export const DIRECT = 'direct';

/**
 * The ratios the report shows, the yardstick first (its range of rounds is shown too):
 * requests/s in the main table. A comparison of two different requests (an MCP tool call
 * against the same Looker call through /api/*) gets a table of its own, with the workerd
 * CPU the one adds over the other.
 */
export const COMPARISONS = [
  { of: GATEWAY, to: BARE },
  { of: GATEWAY, to: BARE_LOG },
  { of: GATEWAY, to: DIRECT },
  { of: GATEWAY_BEARER, to: BARE },
  { of: GATEWAY_MCP, to: GATEWAY_MODELS },
] as const;

/** The request every Worker but the MCP pair is measured on (and `direct` too). */
export const USER: RequestKind = { what: 'GET /api/4.0/user', route: '/api/*' };
const userRequest = (headers: Record<string, string>): ClientRequest => ({ method: 'GET', path: '/api/4.0/user', headers });

/**
 * The Looker call the MCP tool get_models makes (src/mcp/tools/models.ts), query and all,
 * so that through /api/* the gateway forwards the same call to the same Looker.
 */
export const LOOKML_MODELS_PATH = '/api/4.0/lookml_models?exclude_empty=false&exclude_hidden=false&include_internal=true';
export const LOOKML_MODELS: RequestKind = { what: 'GET /api/4.0/lookml_models', route: '/api/*' };

/**
 * get_models as an MCP client calls it in steady state: one JSON-RPC POST to the stateless
 * Streamable HTTP server, no session and no initialize before it (a 2025-era client has
 * initialized once; each call is its own POST with the protocol version it agreed on).
 */
export const MCP_GET_MODELS: RequestKind = { what: 'POST /mcp tools/call get_models', route: '/mcp' };
export const MCP_PROTOCOL_VERSION = '2025-11-25';
export function mcpToolCall(accessToken: string): ClientRequest {
  return {
    method: 'POST',
    path: '/mcp',
    headers: {
      authorization: `Bearer ${accessToken}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MCP_PROTOCOL_VERSION,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_models', arguments: {} } }),
    // A tool's failure (isError) or a JSON-RPC error comes back as a 200: not a success.
    failsIf: MCP_FAILURE,
  };
}

/**
 * A JSON-RPC error, or a tool result marked as an error, in an MCP answer (JSON or one
 * SSE event). The tool's own output is JSON inside a string, its quotes escaped, so it
 * cannot match.
 */
export const MCP_FAILURE = /"isError"\s*:\s*true|"error"\s*:\s*\{/;

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
    request: USER,
    client: async () => userRequest({}),
    countsKv: false,
    // Only the floor itself is compared with the gateway beyond requests/s.
    streamed: !log,
    underCallgrind: !log,
  };
}

/** The gateway as deployed (its bundle, KV, the ledger Durable Object), reached by a browser, a script or an agent. */
function gateway(id: string, label: string, request: RequestKind, client: MeasuredWorker['client'], measuredAlso: boolean): MeasuredWorker {
  return {
    id,
    label,
    request,
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
    client,
    countsKv: true,
    streamed: measuredAlso,
    underCallgrind: measuredAlso,
  };
}

export const MEASURED_WORKERS: readonly MeasuredWorker[] = [
  bare(BARE, 'bare', false),
  bare(BARE_LOG, 'bare + log', true),
  // A browser's session: the cookie the gateway set after signing in through the simulator.
  gateway(GATEWAY, 'gateway', USER, async (origin) => userRequest({ cookie: await gatewaySessionCookie(origin) }), true),
  // A script: the bearer token the SDK login hands a credential (requests/s and KV per request).
  gateway(GATEWAY_BEARER, 'gateway (bearer)', USER, async (origin) => userRequest({ authorization: `Bearer ${await gatewayBearerToken(origin)}` }), false),
  // The MCP pair, each on a gateway of its own, as the same Looker user (the simulator's one):
  // a script's GET of the models through /api/*, and an agent's get_models tool call at /mcp
  // with the access token the gateway's OAuth flow issued it. Not under callgrind: an MCP call
  // costs two to three times the workerd CPU of a proxied one, and valgrind runs it some 50×
  // slower, which would add many minutes to an --instructions run.
  gateway(GATEWAY_MODELS, 'API lookml_models', LOOKML_MODELS, async (origin) => ({ method: 'GET', path: LOOKML_MODELS_PATH, headers: { authorization: `Bearer ${await gatewayBearerToken(origin)}` } }), false),
  gateway(GATEWAY_MCP, 'MCP get_models', MCP_GET_MODELS, async (origin) => mcpToolCall(await gatewayAgentToken(origin)), false),
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
