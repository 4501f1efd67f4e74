/**
 * Test harness: a gateway wired to an in-process Looker simulator, a movable clock,
 * captured logs, and a tiny cookie jar so tests read like a browser session.
 */
import { env } from 'cloudflare:workers';
import { createApp } from '../src/app.ts';
import type { Bindings } from '../src/context.ts';
import type { KeyValueStore } from '../src/callers/records.ts';
import type { Ledger } from '../src/grants/ledger.ts';
import { createLookerSimulator, type LookerSimulator, type SimulatorOptions } from '../sim/simulator.ts';

export const GATEWAY = 'https://gateway.test';
export const LOOKER = 'https://looker.test';
export const LOOKER_API = 'https://looker.test:19999';
export const CLIENT_ID = 'gateway-test-client';
/** Random (openssl rand -base64 32 style, url-safe) behind a readable prefix another test swaps out. */
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
