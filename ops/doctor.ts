/**
 * `npm run doctor`: checks a configuration against the real Looker and prints a
 * checklist, with a fix for every ✗. Exit status 1 when anything is ✗. Locally without
 * LOOKER_URL (npm run dev then runs the bundled simulator) there is no Looker to check:
 * it says so and checks the rest.
 */
import { isLoopbackHost, parseVariables } from '../src/config.ts';
import { ACCOUNTS_BINDING, DEVICE_FLOWS_BINDING } from '../src/platform/cloudflare/bindings.ts';
import { trustedProxyHeaderProblem } from '../src/platform/deno/proxy-header.ts';
import { getVersions, type LookerVersions } from '../src/looker/api.ts';
import { LookerProtocolError, LookerRejectedError, LookerTimeoutError, LookerUnavailableError } from '../src/looker/errors.ts';
import { type Fetch, fetchWithDeadline } from '../src/looker/http.ts';
import { parseArgs } from './args.ts';
import { AdminToolError, LookerAdminSession } from './looker-admin.ts';
import type { ToolInput } from './register.ts';

/** What the doctor needs to know of wrangler.toml for the target environment. */
export interface WranglerFacts {
  /** undefined: the top-level (local development) configuration. */
  environment: string | undefined;
  kvNamespaceId: string | undefined;
  /** Names of the Durable Object bindings of the target environment. */
  durableObjects: string[];
  /** The variable names each [vars] table of wrangler.toml sets, every environment's included. */
  varTables: { table: string; environment: string | undefined; names: string[] }[];
  /** A problem reading wrangler.toml at all. */
  problem?: string;
}

/** What the doctor needs to know of this machine for the gateway on Deno (gathered by scripts/doctor.mjs). */
export interface DenoFacts {
  /** `deno --version`'s first line, from the Deno npm install brought; undefined when there is none. */
  version: string | undefined;
  /** DENO_KV_PATH, when it names a file: what is wrong with writing there, if anything. */
  kvFileProblem?: string;
}

export const DOCTOR_USAGE = `Usage: npm run doctor -- [--env production] [--runtime workers|deno]

Checks the configuration (.dev.vars and the environment; with --env, that environment's
[vars] in wrangler.toml and the environment) against the real Looker. Set
LOOKER_ADMIN_CLIENT_ID and LOOKER_ADMIN_CLIENT_SECRET to also check the OAuth app.
With --runtime deno, checks the gateway on Deno instead of wrangler.toml: the variables
as the server's environment has them (and .dev.vars), Deno itself, DENO_KV_PATH and
TRUSTED_PROXY_HEADER.`;

const PLACEHOLDER_KV_ID = /^0+$/;
/** Variables that are secrets: set with `wrangler secret put`, never in wrangler.toml (committed, and shown in the dashboard). */
const SECRET_VARIABLES = ['SESSION_SECRET', 'LOOKER_ADMIN_CLIENT_SECRET'];
const TIMEOUT_MS = 10_000;
/** Where npm run dev serves the Looker simulator by default (only ever judged as a URL, never contacted). */
const SIMULATOR_URL = 'http://localhost:8788';

type Mark = '✓' | '✗' | '–';

export async function doctor(input: ToolInput & { wrangler: WranglerFacts; deno?: DenoFacts }): Promise<number> {
  const { vars, fetch, print, wrangler } = input;
  const args = parseArgs(input.argv, { flags: ['help'], values: ['env', 'runtime'] });
  if (args.flags.has('help')) {
    print(DOCTOR_USAGE);
    return 0;
  }
  const runtime = args.values.get('runtime') ?? 'workers';
  if (runtime !== 'workers' && runtime !== 'deno') args.errors.push(`--runtime must be workers or deno, not ${runtime}`);
  if (runtime === 'deno' && args.values.has('env')) args.errors.push('--env names a wrangler.toml environment: on Deno, the variables are the environment the server runs with');
  if (args.errors.length > 0) {
    for (const e of args.errors) print(`✗ ${e}`);
    return 2;
  }
  const onDeno = runtime === 'deno';
  let failures = 0;
  const report = (mark: Mark, what: string, fix?: string) => {
    if (mark === '✗') failures++;
    print(`${mark} ${what}`);
    if (fix !== undefined) print(`    fix: ${fix}`);
  };
  const production = wrangler.environment !== undefined;
  // Locally without LOOKER_URL, npm run dev runs the bundled Looker simulator: there is no
  // Looker to check, and nothing is wrong. The rest (the other variables, wrangler.toml)
  // is still checked.
  const simulatorOnly = !production && (vars.LOOKER_URL ?? '').trim() === '';

  // 1. The variables themselves. A deployed SESSION_SECRET is a Worker secret nobody can
  // read back: unless it is exported here, it is taken as present and not judged (a
  // random stand-in, so that only the other variables are). Bindings are checked in 4.
  const secretHidden = production && vars.SESSION_SECRET === undefined;
  // npm run dev writes a SESSION_SECRET into .dev.vars on its first run.
  const secretNotYetMade = simulatorOnly && (vars.SESSION_SECRET ?? '').trim() === '';
  const judged = { ...vars };
  if (secretHidden || secretNotYetMade) judged.SESSION_SECRET = randomStandIn();
  // What npm run dev gives the gateway when it runs the simulator.
  if (simulatorOnly) Object.assign(judged, { LOOKER_URL: SIMULATOR_URL, LOOKER_API_URL: SIMULATOR_URL, LOOKER_CLIENT_ID: vars.LOOKER_CLIENT_ID?.trim() || 'gateway-dev' });
  const result = parseVariables(judged);
  if (simulatorOnly) {
    report('–', 'no Looker configured (LOOKER_URL is unset): npm run dev uses the bundled Looker simulator, which needs nothing more');
    print('    to check a real Looker: set LOOKER_URL and LOOKER_CLIENT_ID in .dev.vars, then run npm run doctor again');
  }
  if (secretHidden) report('–', 'SESSION_SECRET is a Worker secret and cannot be read here (export it to check its strength)');
  if (secretNotYetMade) report('–', 'SESSION_SECRET not set yet: npm run dev creates .dev.vars with a fresh one on its first run');
  const problems = result.ok ? [] : result.problems;
  for (const p of problems) report('✗', `${p.variable} ${p.problem}`, onDeno ? denoFixFor(p.variable) : fixFor(p.variable, wrangler.environment));
  if (result.ok && simulatorOnly) report('✓', `configuration variables are valid for the simulator${secretNotYetMade ? '' : ' (SESSION_SECRET included)'}`);
  else if (result.ok) report('✓', `configuration variables are valid (LOOKER_URL, LOOKER_API_URL, LOOKER_CLIENT_ID, SESSION_SECRET${result.config.gatewayOrigin ? ', GATEWAY_URL' : ''})`);

  const lookerUrl = result.ok && !simulatorOnly ? result.config.lookerUrl : undefined;
  const lookerApiUrl = result.ok && !simulatorOnly ? result.config.lookerApiUrl : undefined;
  const gatewayOrigin = result.ok ? result.config.gatewayOrigin : undefined;

  // 2. Looker reachable, and the URLs consistent with what Looker says of itself.
  if (simulatorOnly) {
    report('–', 'Looker not contacted: none is configured');
  } else if (lookerApiUrl !== undefined && lookerUrl !== undefined) {
    const versions = await readVersions(fetch, lookerApiUrl);
    if ('error' in versions) {
      report('✗', `LOOKER_API_URL ${lookerApiUrl}: ${versions.error}`, 'set LOOKER_API_URL (it defaults to LOOKER_URL) to the Looker API URL: often the UI host, sometimes port 19999, e.g. https://acme.looker.com:19999');
    } else {
      report('✓', `Looker ${versions.release ?? ''} answers at ${lookerApiUrl}`.replace('  ', ' '));
      if (versions.apiServerUrl !== undefined && !sameBase(versions.apiServerUrl, lookerApiUrl)) {
        report('✗', `LOOKER_API_URL is ${lookerApiUrl}, but Looker says its API is at ${versions.apiServerUrl}`, `LOOKER_API_URL=${trimSlash(versions.apiServerUrl)}`);
      } else if (versions.apiServerUrl !== undefined) {
        report('✓', 'LOOKER_API_URL matches the api_server_url Looker reports');
      }
      if (versions.webServerUrl !== undefined && !sameBase(versions.webServerUrl, lookerUrl)) {
        report('✗', `LOOKER_URL is ${lookerUrl}, but Looker says its web UI is at ${versions.webServerUrl}`, `LOOKER_URL=${trimSlash(versions.webServerUrl)}`);
      } else if (versions.webServerUrl !== undefined) {
        report('✓', 'LOOKER_URL matches the web_server_url Looker reports');
      }
    }
    if (!sameBase(lookerUrl, lookerApiUrl)) {
      const reachable = await reach(fetch, lookerUrl);
      if (reachable === true) report('✓', `LOOKER_URL ${lookerUrl} is reachable`);
      else report('✗', `LOOKER_URL ${lookerUrl}: ${reachable}`, 'set LOOKER_URL to the Looker UI URL people sign in at');
    }
  } else {
    report('–', 'Looker not contacted: fix the variables above first');
  }

  // 3. The OAuth app registration (needs an admin's API key).
  const adminId = vars.LOOKER_ADMIN_CLIENT_ID;
  const adminSecret = vars.LOOKER_ADMIN_CLIENT_SECRET;
  if (simulatorOnly) {
    report('–', 'OAuth app not checked: the simulator registers its own');
  } else if (lookerApiUrl === undefined || !result.ok) {
    report('–', 'OAuth app not checked: fix the variables above first');
  } else if (!adminId || !adminSecret) {
    report('–', 'OAuth app not checked: set LOOKER_ADMIN_CLIENT_ID and LOOKER_ADMIN_CLIENT_SECRET (an admin API key) to check it');
  } else {
    await checkApp(fetch, lookerApiUrl, adminId, adminSecret, result.config.lookerClientId, gatewayOrigin, report);
  }
  if (gatewayOrigin === undefined) {
    if ((vars.GATEWAY_URL ?? '').trim() !== '') {
      // Set but invalid: reported with the variables above.
    } else if (production) report('✗', 'GATEWAY_URL is not set for this environment', 'set GATEWAY_URL under [env.production.vars] in wrangler.toml (e.g. https://looker-gw.example.com)');
    else report('–', `GATEWAY_URL not set: the redirect_uri follows each request (http://localhost:8787/callback under npm run dev${onDeno ? ' -- --runtime deno; deployed, set it to the public https origin' : ''})`);
  } else if ((production || onDeno) && new URL(gatewayOrigin).protocol !== 'https:' && !isLoopbackHost(new URL(gatewayOrigin).hostname)) {
    report('✗', `GATEWAY_URL ${gatewayOrigin} is not https`, onDeno ? 'serve the gateway over https (a TLS-terminating reverse proxy in front of deno serve, or Deno Deploy)' : 'serve the gateway over https (a Workers route or custom domain)');
  }

  // 4. The runtime: Deno and its KV, or wrangler.toml for the target environment.
  if (onDeno) checkDeno(input.deno, vars, report);
  else checkWrangler(wrangler, report);

  if (failures > 0) print(`\n${failures} check${failures === 1 ? '' : 's'} failed.`);
  else if (simulatorOnly) print(`\nNo check failed. Ready for npm run dev${onDeno ? ' -- --runtime deno' : ''} with the bundled Looker simulator; no real Looker was checked.`);
  else print('\nAll checks passed.');
  return failures === 0 ? 0 : 1;
}

type Report = (mark: Mark, what: string, fix?: string) => void;

function checkDeno(deno: DenoFacts | undefined, vars: Record<string, string | undefined>, report: Report): void {
  if (deno?.version !== undefined) report('✓', `${deno.version} (from npm install)`);
  else report('✗', 'no Deno in node_modules', 'npm install (it brings Deno as the deno devDependency)');

  const kvPath = (vars.DENO_KV_PATH ?? '').trim();
  if (kvPath === '') {
    report('–', 'DENO_KV_PATH not set: right on Deno Deploy (the database assigned to the app) and under npm run dev -- --runtime deno (a file in .wrangler/state/deno); self-hosted, set it: without it the server answers every request with a configuration error');
  } else if (kvPath === ':memory:') {
    report('✗', 'DENO_KV_PATH is :memory:: nothing survives a restart, and every restart signs everyone out', 'set DENO_KV_PATH to a file the service may write, e.g. /var/lib/looker-gw/kv.sqlite3');
  } else if (/^https?:\/\//i.test(kvPath)) {
    let origin: string;
    try {
      origin = new URL(kvPath).origin;
    } catch {
      report('✗', 'DENO_KV_PATH looks like a KV Connect URL but is not a valid one', 'set DENO_KV_PATH to the denokv server\'s URL, e.g. https://kv.internal.example.com');
      return;
    }
    if ((vars.DENO_KV_ACCESS_TOKEN ?? '').trim() === '') report('✗', `DENO_KV_PATH is a KV Connect server (${origin}), but DENO_KV_ACCESS_TOKEN is not set`, 'set DENO_KV_ACCESS_TOKEN to the denokv server\'s access token');
    else report('✓', `DENO_KV_PATH is a KV Connect server (${origin}), with an access token (not contacted)`);
  } else if (deno?.kvFileProblem !== undefined) {
    report('✗', `DENO_KV_PATH ${kvPath}: ${deno.kvFileProblem}`, 'create its directory and let the service\'s user write there');
  } else {
    report('✓', `DENO_KV_PATH ${kvPath} can be written here (one process per file: several need Deno Deploy or a KV Connect server)`);
  }

  const header = (vars.TRUSTED_PROXY_HEADER ?? '').trim();
  const headerProblem = trustedProxyHeaderProblem(header);
  if (headerProblem !== undefined) report('✗', `TRUSTED_PROXY_HEADER ${headerProblem}`);
  else if (header === '') report('–', "TRUSTED_PROXY_HEADER not set: the client is the connection's address (right on Deno Deploy, and with no reverse proxy in front)");
  else report('✓', `TRUSTED_PROXY_HEADER: the client's address is read from ${header.toLowerCase()} (only if nothing can reach the gateway except through that proxy)`);
}

function checkWrangler(wrangler: WranglerFacts, report: Report): void {
  const production = wrangler.environment !== undefined;

  const target = wrangler.environment === undefined ? 'local development' : `[env.${wrangler.environment}]`;
  if (wrangler.problem !== undefined) {
    report('✗', `wrangler.toml: ${wrangler.problem}`, 'fix wrangler.toml (npm exec wrangler -- deploy --dry-run shows the details)');
  } else if (wrangler.kvNamespaceId === undefined) {
    report('✗', `wrangler.toml ${target} has no KV namespace bound as SESSIONS`, 'add [[kv_namespaces]] binding = "SESSIONS" with the id from: npm exec wrangler -- kv namespace create SESSIONS');
  } else if (production && (PLACEHOLDER_KV_ID.test(wrangler.kvNamespaceId) || !/^[0-9a-f]{32}$/.test(wrangler.kvNamespaceId))) {
    report('✗', `wrangler.toml ${target} binds SESSIONS to a placeholder id`, `npm exec wrangler -- kv namespace create SESSIONS --env ${wrangler.environment}, then put the printed id in ${target}`);
  } else {
    report('✓', `wrangler.toml ${target} binds the SESSIONS KV namespace${production ? '' : ' (local KV under npm run dev)'}`);
  }
  if (wrangler.problem === undefined) {
    for (const binding of [ACCOUNTS_BINDING, DEVICE_FLOWS_BINDING]) {
      if (wrangler.durableObjects.includes(binding)) report('✓', `wrangler.toml ${target} binds the ${binding} Durable Object`);
      else report('✗', `wrangler.toml ${target} has no ${binding} Durable Object binding`, `copy the [[durable_objects.bindings]] block named ${binding} into this environment`);
    }

    // A Worker cannot tell a [vars] value from a secret at run time: this is the one place that can.
    let secretsInToml = 0;
    for (const { table, environment, names } of wrangler.varTables) {
      for (const name of names.filter((n) => SECRET_VARIABLES.includes(n))) {
        secretsInToml++;
        report(
          '✗',
          `${name} is set in wrangler.toml ${table}: a secret there is committed with the code and shown in the dashboard`,
          `remove it from wrangler.toml, then: npm exec wrangler -- secret put ${name}${environment === undefined ? '' : ` --env ${environment}`}`,
        );
      }
    }
    if (secretsInToml === 0) report('✓', 'wrangler.toml sets no secret in [vars]');
  }
}

async function checkApp(
  fetch: Fetch,
  apiUrl: string,
  adminId: string,
  adminSecret: string,
  clientGuid: string,
  gatewayOrigin: string | undefined,
  report: Report,
) {
  let session: LookerAdminSession;
  try {
    session = await LookerAdminSession.login(fetch, apiUrl, adminId, adminSecret);
  } catch (error) {
    report('✗', error instanceof Error ? error.message : 'admin login failed', 'use an admin API key in LOOKER_ADMIN_CLIENT_ID / LOOKER_ADMIN_CLIENT_SECRET');
    return;
  }
  try {
    const app = await session.getApp(clientGuid);
    if (app === null) {
      report('✗', `no OAuth client app "${clientGuid}" is registered in Looker`, 'npm run register');
      return;
    }
    report('✓', `OAuth client app "${clientGuid}" is registered`);
    if (app.enabled) report('✓', 'the OAuth client app is enabled');
    else report('✗', 'the OAuth client app is disabled in Looker', 'npm run register -- --apply (or enable it in Looker: Admin → OAuth client apps)');
    if (gatewayOrigin !== undefined) {
      const expected = `${gatewayOrigin}/callback`;
      if (app.redirect_uri === expected) report('✓', `its redirect_uri is ${expected}`);
      else report('✗', `its redirect_uri is ${app.redirect_uri}, but GATEWAY_URL/callback is ${expected}`, 'npm run register -- --apply');
    }
  } catch (error) {
    if (!(error instanceof AdminToolError)) throw error;
    report('✗', error.message);
  } finally {
    await session.logout();
  }
}

async function readVersions(fetch: Fetch, lookerApiUrl: string): Promise<LookerVersions | { error: string }> {
  try {
    return await getVersions({ fetch, lookerApiUrl, timeoutMs: TIMEOUT_MS });
  } catch (error) {
    if (error instanceof LookerRejectedError && error.status === 404) {
      return { error: 'answers, but has no Looker API 4.0 here (404 on /api/4.0/versions)' };
    }
    if ((error instanceof LookerRejectedError || error instanceof LookerUnavailableError) && error.status !== undefined) {
      return { error: `answered ${error.status} to /api/4.0/versions` };
    }
    if (error instanceof LookerProtocolError) return { error: 'answered /api/4.0/versions with something that is not JSON (not a Looker API?)' };
    if (error instanceof LookerTimeoutError) return { error: `not reachable (no answer within ${TIMEOUT_MS / 1000} s)` };
    return { error: 'not reachable (no answer)' };
  }
}

async function reach(fetch: Fetch, url: string): Promise<true | string> {
  try {
    const res = await fetchWithDeadline(fetch, `${url}/`, {}, TIMEOUT_MS, 'Reaching LOOKER_URL');
    await res.body?.cancel();
    return true;
  } catch {
    return 'not reachable (no answer)';
  }
}

/** A random 256-bit hex string, judged like any other (never printed). */
function randomStandIn(): string {
  return [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function sameBase(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.origin === y.origin && trimSlash(x.pathname) === trimSlash(y.pathname);
  } catch {
    return false;
  }
}

/** The fix for a variable the gateway on Deno reads from its environment. */
function denoFixFor(variable: string): string {
  if (variable === 'SESSION_SECRET') return 'openssl rand -base64 32, then set SESSION_SECRET in the service\'s environment file (mode 0600), or as a secret in the Deno Deploy app\'s settings';
  return `set ${variable} in the environment the server runs with (.dev.vars under npm run dev -- --runtime deno)`;
}

function fixFor(variable: string, environment: string | undefined): string {
  switch (variable) {
    case 'SESSION_SECRET':
      return environment === undefined
        ? 'openssl rand -base64 32, then put it in .dev.vars (or: npm exec wrangler -- secret put SESSION_SECRET)'
        : `openssl rand -base64 32 | npm exec wrangler -- secret put SESSION_SECRET --env ${environment}`;
    case 'LOOKER_URL':
      return 'set LOOKER_URL to the Looker UI URL, e.g. https://acme.cloud.looker.com';
    case 'LOOKER_CLIENT_ID':
      return 'set LOOKER_CLIENT_ID to the client_guid of the OAuth app (npm run register creates it)';
    default:
      return `correct ${variable} in .dev.vars or wrangler.toml [vars]`;
  }
}
