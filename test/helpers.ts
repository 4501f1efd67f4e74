/**
 * Test harness: a gateway wired to an in-process Looker simulator, a movable clock,
 * captured logs, and a tiny cookie jar so tests read like a browser session.
 */
import { env } from 'cloudflare:workers';
import { createApp } from '../src/app.ts';
import type { Bindings } from '../src/context.ts';
import type { KeyValueStore } from '../src/callers/records.ts';
import type { DeviceFlowStore, DeviceLimits } from '../src/callers/device-store.ts';
import type { Ledger } from '../src/grants/ledger.ts';
import { cloudflareRuntime } from '../src/platform/cloudflare/runtime.ts';
import type { McpHandler } from '../src/site/mcp.tsx';
import { createLookerSimulator, type LookerSimulator, type SimulatorOptions } from '../sim/simulator.ts';

export const GATEWAY = 'https://gateway.test';
export const LOOKER = 'https://looker.test';
export const LOOKER_API = 'https://looker.test:19999';
export const CLIENT_ID = 'gateway-test-client';
/** The hint beside a 401 from /api/*: how a person with curl gets a token (written out, not taken from the code under test). */
export const AUTHENTICATION_HINT = `Send "Authorization: Bearer <token>" with a token from \`node lgw.mjs token\` (the command line: ${GATEWAY}/cli.mjs), or sign in at ${GATEWAY}/login.`;
/** Random (openssl rand -base64 32 style, url-safe) behind a readable prefix another test swaps out. */
/** Another gateway's secret (as strong as ours): what it sealed or signed must mean nothing here. */
export const OTHER_SESSION_SECRET = 'other-QJx8m2Vd0rYpT6wLsN4hKzC7eGbU1aFq9yRjXvP3tHo';
export const SESSION_SECRET = 'test-3VXgtFsgnjaNVYR5iEUUBbZRA5IROvzxBcjtdTh3URM';

export interface HarnessOptions {
  sim?: SimulatorOptions;
  /**
   * Share a simulator, its clock and the ledgers with another harness: two gateway
   * instances (two isolates), one Looker, one KV namespace (pass `kv` too), one set of
   * Durable Objects.
   */
  shared?: { simulator: LookerSimulator; clock: Clock; ledgerNamePrefix: string };
  vars?: Record<string, string | undefined>;
  kv?: TestKv;
  lookerTimeoutMs?: number;
  /** Runs before each request reaches Looker (e.g. to hold a token request until the test lets it go). */
  beforeLooker?: (request: Request) => Promise<void> | void;
  /** Wraps every ledger (Durable Object stub) the gateway uses: for injecting faults. */
  wrapLedger?: (ledger: Ledger) => Ledger;
  /** Wraps the device-flow store: for injecting faults. */
  wrapDeviceFlows?: (store: DeviceFlowStore) => DeviceFlowStore;
  deviceLimits?: DeviceLimits;
  /** The MCP server behind /mcp (without one, /mcp is not served). */
  mcp?: McpHandler;
  /** Answers for fetches to hosts other than Looker's (an agent's client metadata document); by URL. */
  elsewhere?: (request: Request) => Promise<Response> | Response;
  /** How long the gateway waits for a client metadata document. */
  clientDocumentTimeoutMs?: number;
}

export class Clock {
  ms = Date.UTC(2026, 10, 28, 12, 0, 0);
  now = () => this.ms;
  advance(seconds: number) {
    this.ms += seconds * 1000;
  }
}

/** Parsed Set-Cookie lines of a response, by name. */
export function setCookies(res: Response): Map<string, { value: string; attributes: string[]; raw: string }> {
  const out = new Map<string, { value: string; attributes: string[]; raw: string }>();
  for (const raw of res.headers.getSetCookie()) {
    const [pair, ...attributes] = raw.split(';').map((s) => s.trim());
    const eq = pair!.indexOf('=');
    out.set(pair!.slice(0, eq), { value: decodeURIComponent(pair!.slice(eq + 1)), attributes, raw });
  }
  return out;
}

/** The one sign-in (login) cookie a response sets: its full name, value and attributes. */
export function loginCookieOf(res: Response): { name: string; value: string; attributes: string[] } {
  const found = [...setCookies(res)].filter(([name, c]) => /^(__Host-)?lgw_login_/.test(name) && !c.attributes.some((a) => /^max-age=0$/i.test(a)));
  if (found.length !== 1) throw new Error(`expected one login cookie to be set, found ${found.length}`);
  const [name, cookie] = found[0]!;
  return { name, value: cookie.value, attributes: cookie.attributes };
}

export function createHarness(options: HarnessOptions = {}) {
  const clock = options.shared?.clock ?? new Clock();
  const sim =
    options.shared?.simulator ??
    createLookerSimulator({
      clientId: CLIENT_ID,
      redirectUris: [`${GATEWAY}/callback`],
      autoApprove: true,
      now: clock.now,
      ...options.sim,
    });
  // Each harness gets its own ledgers (Durable Objects are named per person; tests share the namespace).
  const ledgerNamePrefix = options.shared?.ledgerNamePrefix ?? `t-${crypto.randomUUID()}/`;
  const logs: string[] = [];
  const upstream: Request[] = [];
  /** Bodies of Looker's token-endpoint answers (to know every token that was issued). */
  const tokenResponses: Record<string, unknown>[] = [];
  const app = createApp({
    fetch: async (input, init) => {
      const request = new Request(input, init);
      if (!request.url.startsWith(LOOKER) && options.elsewhere !== undefined) return options.elsewhere(request);
      upstream.push(request);
      await options.beforeLooker?.(request);
      const response = await sim.fetch(input, init);
      if (request.url.endsWith('/api/token') && response.ok) {
        // A 200 that is not JSON (a fault under test) is not a token answer.
        const body: unknown = await response.clone().json().catch(() => null);
        if (body !== null && typeof body === 'object') tokenResponses.push(body as Record<string, unknown>);
      }
      return response;
    },
    now: clock.now,
    logSink: (line) => logs.push(line),
    lookerTimeoutMs: options.lookerTimeoutMs ?? 2_000,
    ledgerNamePrefix,
    ...(options.wrapLedger === undefined ? {} : { wrapLedger: options.wrapLedger }),
    ...(options.wrapDeviceFlows === undefined ? {} : { wrapDeviceFlows: options.wrapDeviceFlows }),
    ...(options.deviceLimits === undefined ? {} : { deviceLimits: options.deviceLimits }),
    ...(options.mcp === undefined ? {} : { mcp: options.mcp }),
    ...(options.clientDocumentTimeoutMs === undefined ? {} : { clientDocumentTimeoutMs: options.clientDocumentTimeoutMs }),
    // As in production (CF-Connecting-IP and request.cf: tests pass `cf` in the request's init), but
    // work after the answer is not handed to the test runner's waitUntil: tests await what they test.
    runtime: cloudflareRuntime({ defer: () => {} }),
    // Retries do not wait in tests; what they retry is under the test's control.
    sleep: () => Promise.resolve(),
  });
  const kv = options.kv ?? isolatedKv((env as unknown as { SESSIONS: KVNamespace }).SESSIONS);
  const bindings: Bindings = {
    SESSIONS: kv,
    LOOKER_URL: LOOKER,
    LOOKER_API_URL: LOOKER_API,
    LOOKER_CLIENT_ID: CLIENT_ID,
    SESSION_SECRET,
    GATEWAY_URL: GATEWAY,
    ACCOUNTS: (env as unknown as { ACCOUNTS: DurableObjectNamespace }).ACCOUNTS,
    DEVICE_FLOWS: (env as unknown as { DEVICE_FLOWS: DurableObjectNamespace }).DEVICE_FLOWS,
  };
  for (const [k, v] of Object.entries(options.vars ?? {})) {
    if (v === undefined) delete bindings[k];
    else bindings[k] = v;
  }

  /** Cookies the "browser" holds, by full name (e.g. __Host-lgw_session). */
  const jar = new Map<string, string>();

  async function request(path: string, init: RequestInit & { withCookies?: boolean } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (init.withCookies !== false && jar.size > 0 && !headers.has('cookie')) {
      headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    }
    const res = await app.fetch(new Request(new URL(path, GATEWAY).href, { ...init, headers }), bindings);
    for (const [name, c] of setCookies(res)) {
      if (c.attributes.some((a) => /^max-age=0$/i.test(a))) jar.delete(name);
      else jar.set(name, c.value);
    }
    return res;
  }

  /** Follows the 302 to the simulator's /auth and returns where Looker redirects back to. */
  async function authorize(loginRes: Response): Promise<string> {
    const location = loginRes.headers.get('location')!;
    const lookerRes = await sim.fetch(location);
    return lookerRes.headers.get('location')!;
  }

  /** /login → Looker: the /login answer, and where Looker sends this sign-in back to (not yet followed). */
  async function startSignIn(returnTo?: string): Promise<{ login: Response; back: URL; path: string }> {
    const login = await request(returnTo === undefined ? '/login' : `/login?return_to=${encodeURIComponent(returnTo)}`);
    const back = new URL(await authorize(login));
    return { login, back, path: back.pathname + back.search };
  }

  /** The whole sign-in: /login → Looker → /callback. Returns the callback response. */
  async function signIn(returnTo?: string): Promise<Response> {
    return request((await startSignIn(returnTo)).path);
  }

  /** The access token the gateway last sent to Looker (read off the Authorization header). */
  const lastAccessToken = (): string => {
    const auth = [...upstream].reverse().find((r) => r.headers.get('authorization')?.startsWith('Bearer '));
    if (auth === undefined) throw new Error('the gateway has not called Looker with a token yet');
    return auth.headers.get('authorization')!.slice('Bearer '.length);
  };

  /** The request log lines (one per request), parsed. */
  const requestLogs = () =>
    logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === 'request');

  /** What a second instance needs to share this one's Looker, clock, KV and ledgers. */
  const share = () => ({ kv, shared: { simulator: sim, clock, ledgerNamePrefix } });

  return { app, sim, clock, logs, requestLogs, lastAccessToken, upstream, tokenResponses, bindings, kv, jar, request, authorize, startSignIn, signIn, share, ledgerNamePrefix };
}

/**
 * The real KV binding, seen through a unique key prefix, so that tests running side by
 * side never see each other's entries. `dump()` lists what this view holds, unprefixed.
 */
export interface TestKv extends KeyValueStore {
  dump(): Promise<Map<string, string>>;
  /** The last expirationTtl written per key. */
  ttls: Map<string, number>;
  raw: KVNamespace;
  prefix: string;
}

export function isolatedKv(raw: KVNamespace): TestKv {
  const prefix = `t-${crypto.randomUUID()}/`;
  const ttls = new Map<string, number>();
  return {
    raw,
    prefix,
    ttls,
    get: (key) => raw.get(prefix + key),
    put: async (key, value, options) => {
      ttls.set(key, options.expirationTtl);
      await raw.put(prefix + key, value, options);
    },
    delete: (key) => raw.delete(prefix + key),
    async dump() {
      const out = new Map<string, string>();
      const list = await raw.list({ prefix });
      for (const key of list.keys) out.set(key.name.slice(prefix.length), (await raw.get(key.name)) ?? '');
      return out;
    },
  };
}

/** Every key and value the harness's KV view holds. */
export function dumpKv(kv: KeyValueStore): Promise<Map<string, string>> {
  return (kv as TestKv).dump();
}

/**
 * A ledger whose named methods are replaced (each gets the real method to call through);
 * everything else goes to the real Durable Object. For fault injection.
 */
export function ledgerWith(real: Ledger, overrides: { [K in keyof Ledger]?: (original: Ledger[K], ...args: Parameters<Ledger[K]>) => ReturnType<Ledger[K]> }): Ledger {
  // A Durable Object stub's methods are RPC proxies: call them as `stub[name](...)`, never through .apply/.bind.
  const call = (name: string | symbol) => (...args: unknown[]) => (real as unknown as Record<string | symbol, (...a: unknown[]) => unknown>)[name]!(...args);
  return new Proxy(real, {
    get(_target, property) {
      const override = (overrides as Record<string | symbol, unknown>)[property];
      if (typeof override === 'function') return (...args: unknown[]) => (override as (...a: unknown[]) => unknown)(call(property), ...args);
      return call(property);
    },
  });
}

/** A gate a test opens by hand: `wait()` blocks until `open()`; `reached` resolves when someone first waits. */
export function gate() {
  let open!: () => void;
  let arrived!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const reached = new Promise<void>((resolve) => (arrived = resolve));
  return {
    reached,
    open,
    wait: () => {
      arrived();
      return opened;
    },
  };
}

/** A gateway harness (what createHarness returns). */
export type Harness = ReturnType<typeof createHarness>;

/** A PKCE pair as the command line makes one: a 43-character verifier and its S256 challenge. */
export async function pkcePair(): Promise<{ verifier: string; challenge: string }> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  return { verifier, challenge: base64url(digest) };
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The credential JSON that POST /cli/token answers. */
export interface CliCredential {
  client_id: string;
  client_secret: string;
  /** "looker:read", or "looker:read looker:write". */
  scope: string;
  name: string;
  expires_at: string;
  user: { id: string; display_name: string; email: string | null };
}

/** What the command line holds while its loopback sign-in runs. */
export interface CliRequest {
  verifier: string;
  challenge: string;
  state: string;
  redirectUri: string;
  /** GET /cli/authorize with these parameters. */
  authorizePath: string;
}

/** The command line's side of a loopback sign-in: PKCE, state and a loopback redirect_uri on a random port. */
export async function cliRequest(options: { name?: string; host?: '127.0.0.1' | '[::1]'; port?: number; scope?: string } = {}): Promise<CliRequest> {
  const { verifier, challenge } = await pkcePair();
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const port = options.port ?? 49152 + Math.floor(Math.random() * 16000);
  const redirectUri = `http://${options.host ?? '127.0.0.1'}:${port}/callback`;
  const params = new URLSearchParams({
    response_type: 'code',
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
  });
  if (options.name !== undefined) params.set('name', options.name);
  if (options.scope !== undefined) params.set('scope', options.scope);
  return { verifier, challenge, state, redirectUri, authorizePath: `/cli/authorize?${params}` };
}

/**
 * The browser's part up to the consent page: GET /cli/authorize (or any request that
 * sends the browser to Looker) → Looker (the simulator approves) → /callback → the 303
 * to the consent page. Returns the consent page's path.
 */
export async function browserToConsent(h: Harness, start: Response): Promise<string> {
  if (start.status !== 302 && start.status !== 303) throw new Error(`expected a redirect to Looker, got ${start.status}`);
  const back = new URL(await h.authorize(start));
  const callback = await h.request(back.pathname + back.search);
  if (callback.status !== 303) throw new Error(`expected the callback to redirect to the consent page, got ${callback.status}`);
  const consentPath = callback.headers.get('location')!;
  if (!consentPath.startsWith('/cli/consent/')) throw new Error(`expected a consent page, got ${consentPath}`);
  return consentPath;
}

/** The person's answer on the consent page, as the page's form sends it (same origin). */
export function answerConsent(h: Harness, consentPath: string, decision: 'allow' | 'deny', headers: Record<string, string> = { origin: GATEWAY }): Promise<Response> {
  return h.request(consentPath, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ decision }).toString(),
  });
}

/** The command line trading its one-time code (no browser cookies: it is another program). */
export function redeemCode(h: Harness, fields: { code: string; code_verifier: string; redirect_uri: string }): Promise<Response> {
  return h.request('/cli/token', {
    method: 'POST',
    withCookies: false,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', ...fields }).toString(),
  });
}

/** Everything one loopback sign-in produced, for tests that look beyond the credential. */
export interface CliLogin {
  credential: CliCredential;
  request: CliRequest;
  consentPath: string;
  /** The one-time code the loopback received. */
  code: string;
}

/**
 * The whole loopback sign-in, as the command line and the person's browser run it:
 * /cli/authorize → Looker → /callback → the consent page → Allow → the 303 to the
 * loopback with `code` and `state` → POST /cli/token → the credential JSON.
 */
export async function cliLogin(h: Harness, options: { name?: string; host?: '127.0.0.1' | '[::1]'; port?: number; scope?: string } = {}): Promise<CliLogin> {
  const request = await cliRequest(options);
  const consentPath = await browserToConsent(h, await h.request(request.authorizePath));
  const page = await h.request(consentPath);
  if (page.status !== 200) throw new Error(`expected the consent page, got ${page.status}`);
  const allowed = await answerConsent(h, consentPath, 'allow');
  if (allowed.status !== 303) throw new Error(`expected Allow to redirect to the loopback, got ${allowed.status}`);
  const loopback = new URL(allowed.headers.get('location')!);
  if (`${loopback.origin}${loopback.pathname}` !== request.redirectUri) throw new Error(`Allow redirected to ${loopback.origin}${loopback.pathname}, not the loopback`);
  if (loopback.searchParams.get('state') !== request.state) throw new Error('the loopback got another state back');
  const code = loopback.searchParams.get('code');
  if (code === null) throw new Error('the loopback got no code');
  const token = await redeemCode(h, { code, code_verifier: request.verifier, redirect_uri: request.redirectUri });
  if (token.status !== 200) throw new Error(`POST /cli/token answered ${token.status}: ${await token.text()}`);
  return { credential: (await token.json()) as CliCredential, request, consentPath, code };
}

/** The SDKs' login (POST /api/4.0/login, form-encoded) with a gateway credential: the raw answer. */
export function sdkLoginResponse(h: Harness, clientId: string, clientSecret: string, path = '/api/4.0/login'): Promise<Response> {
  return h.request(path, {
    method: 'POST',
    withCookies: false,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: clientId, client_secret: clientSecret }).toString(),
  });
}

/** The SDKs' login with a gateway credential: the gateway access token. Throws unless it succeeds. */
export async function sdkLogin(h: Harness, clientId: string, clientSecret: string): Promise<string> {
  const res = await sdkLoginResponse(h, clientId, clientSecret);
  if (res.status !== 200) throw new Error(`the SDK login answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** A call as a script makes it: its bearer token, no cookies. */
export function bearerRequest(h: Harness, token: string, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
  return h.request(path, { ...init, headers, withCookies: false });
}
