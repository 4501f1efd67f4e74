/**
 * The whole gateway on Deno KV, two instances sharing one database (as two processes
 * share Deno Deploy's KV or a KV Connect server), against the in-process Looker simulator
 * rotating single-use refresh tokens: concurrent refreshes in both spend the token once,
 * and a sign-out in one while the other's refresh is in flight stays a sign-out in both.
 * (test/refresh-race.test.ts and test/sign-out-races.test.ts, on Deno.)
 */
import { createApp, type GatewayApp, plainHttpAnswer } from '../../src/app.ts';
import { denoRuntime } from '../../src/platform/deno/runtime.ts';
import { createLookerSimulator, type LookerSimulator } from '../../sim/simulator.ts';
import { equal, ok } from '../contract/contract.ts';

const GATEWAY = 'https://gateway.test';
const CLIENT_ID = 'gateway-test-client';
const SECRET = 'deno-3VXgtFsgnjaNVYR5iEUUBbZRA5IROvzxBcjtdTh3URM';

interface Instance {
  request(path: string, init?: RequestInit): Promise<Response>;
  logs: string[];
}

/** Two gateway instances (separate memory) over one Deno KV database, one simulator, one clock. */
async function twoInstances(beforeLooker?: (request: Request) => Promise<void> | void, signIn = true) {
  const kv = await Deno.openKv(':memory:');
  const clock = { ms: Date.UTC(2026, 10, 28, 12), advance(s: number) { this.ms += s * 1000; } };
  const sim: LookerSimulator = createLookerSimulator({ clientId: CLIENT_ID, redirectUris: [`${GATEWAY}/callback`], autoApprove: true, refreshTokenMode: 'rotate', now: () => clock.ms });
  const env = { LOOKER_URL: 'https://looker.test', LOOKER_API_URL: 'https://looker.test:19999', LOOKER_CLIENT_ID: CLIENT_ID, SESSION_SECRET: SECRET, GATEWAY_URL: GATEWAY };
  const instance = (): Instance => {
    const logs: string[] = [];
    const app: GatewayApp = createApp({
      // The client's address from a header, as behind a trusted proxy: the tests say where each request comes from.
      runtime: denoRuntime(kv, { defer: () => {}, trustedProxyHeader: 'x-client-address' }),
      fetch: async (input, init) => {
        await beforeLooker?.(new Request(input, init));
        return sim.fetch(input, init);
      },
      now: () => clock.ms,
      sleep: () => Promise.resolve(),
      logSink: (line) => logs.push(line),
      lookerTimeoutMs: 2_000,
    });
    return { logs, request: (path, init) => app.fetch(new Request(new URL(path, GATEWAY), init), env) };
  };
  const a = instance();
  const b = instance();
  if (!signIn) return { kv, clock, sim, a, b, withSession: (init: RequestInit = {}) => init };
  // Sign in through A: /login → the simulator (auto-approve) → /callback, carrying the sign-in cookie.
  const login = await a.request('/login');
  const loginCookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
  const back = new URL((await sim.fetch(login.headers.get('location')!)).headers.get('location')!);
  const callback = await a.request(back.pathname + back.search, { headers: { cookie: loginCookie } });
  const session = callback.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('__Host-lgw_session='));
  if (session === undefined) throw new Error(`no session cookie (callback ${callback.status})`);
  const withSession = (init: RequestInit = {}): RequestInit => ({ ...init, headers: { ...(init.headers as Record<string, string>), cookie: session } });
  return { kv, clock, sim, a, b, withSession };
}

Deno.test('two instances on one Deno KV: concurrent refreshes spend a rotating refresh token once, and both keep working', async () => {
  const { kv, clock, sim, a, b, withSession } = await twoInstances();
  try {
    equal((await b.request('/api/4.0/user', withSession())).status, 200, 'B knows the session');
    clock.advance(3600);
    const answers = await Promise.all([...Array.from({ length: 5 }, () => a.request('/api/4.0/user', withSession())), ...Array.from({ length: 5 }, () => b.request('/api/4.0/user', withSession()))]);
    equal(answers.map((r) => r.status), Array(10).fill(200), 'every request answered');
    equal(sim.stats.tokenRequests.refresh_token, 1, 'one refresh');
    ok([...a.logs, ...b.logs].some((l) => l.includes('"outcome":"adopted"')), 'the others adopted it');
    for (let round = 2; round <= 3; round++) {
      clock.advance(3600);
      const [ra, rb] = await Promise.all([a.request('/api/4.0/user', withSession()), b.request('/api/4.0/user', withSession())]);
      equal([ra.status, rb.status], [200, 200], `round ${round}`);
      equal(sim.stats.tokenRequests.refresh_token, round, `one refresh in round ${round}`);
    }
    ok(![...a.logs, ...b.logs].some((l) => l.includes('session_ended')), 'never signed out');
  } finally {
    kv.close();
  }
});

Deno.test('two instances on one Deno KV: a sign-out in one while the other refreshes stays a sign-out; the new tokens are revoked', async () => {
  let hold: (() => void) | undefined;
  let reached: (() => void) | undefined;
  const reachedRefresh = new Promise<void>((resolve) => (reached = resolve));
  const released = new Promise<void>((resolve) => (hold = resolve));
  let holding = false;
  const { kv, clock, sim, a, b, withSession } = await twoInstances(async (request) => {
    if (holding && request.url.endsWith('/api/token')) {
      reached!();
      await released;
    }
  });
  try {
    equal((await b.request('/api/4.0/user', withSession())).status, 200, 'B knows the session');
    clock.advance(3600);
    holding = true;
    const inFlight = b.request('/api/4.0/user', withSession());
    await reachedRefresh;
    holding = false;
    equal((await a.request('/logout', withSession({ method: 'POST', headers: { origin: GATEWAY } }))).status, 303, 'signed out in A');
    hold!();
    equal((await inFlight).status, 401, "B's request in flight ends unauthorised");
    equal(sim.stats.tokenRequests.refresh_token, 1, 'Looker refreshed once');
    equal(sim.liveAccessTokens(), 0, 'and every token it issued is revoked');
    for (const instance of [a, b]) equal((await instance.request('/api/4.0/user', withSession())).status, 401, 'refused in both');
    clock.advance(24 * 3600);
    for (const instance of [a, b]) equal((await instance.request('/api/4.0/user', withSession())).status, 401, 'and a day later');
  } finally {
    kv.close();
  }
});

Deno.test('two instances on one Deno KV: 200 device sign-ins at once from one /64, half through each, store exactly 10', async () => {
  const { kv, a, b } = await twoInstances(undefined, false);
  try {
    const start = (instance: Instance, i: number) =>
      instance.request('/cli/device/code', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-client-address': `2001:db8:1:1:0:0:${i.toString(16)}:1` },
        body: 'name=probe',
      });
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => start(i % 2 === 0 ? a : b, i)));
    const statuses = answers.map((r) => r.status);
    equal(statuses.filter((s) => s === 200).length, 10, 'started');
    equal(statuses.filter((s) => s === 429).length, 190, 'refused');
    equal((await start(a, 999)).status, 429, 'still refused');
    const other = await a.request('/cli/device/code', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-client-address': '198.51.100.9' },
      body: 'name=probe',
    });
    equal(other.status, 200, 'another network is not affected');
  } finally {
    kv.close();
  }
});

Deno.test('deno serve builds the URL from the Host header as sent: one that makes no URL is a 400, not a 500 with a stack trace in the log', () => {
  for (const host of ['evil.example:99999', 'a b', '[::1', 'x:abc']) {
    const answer = plainHttpAnswer('GET', `http://${host}/api/4.0/user`);
    equal(answer?.status, 400, host);
  }
  equal(plainHttpAnswer('GET', 'http://localhost:8787/'), undefined, 'development on this machine is still served');
});
