/**
 * Faults never sign anyone out. Only an OAuth `invalid_grant` from Looker's token
 * endpoint ends a grant; every other answer (a WAF's 403 page, 429, 500, a timeout, a
 * 400 that is not JSON, Looker unreachable) gives the caller 502/503 JSON — with
 * Retry-After where Looker said — and the session survives for the next try. After a
 * rotating refresh, the new tokens are never lost.
 */
import { describe, expect, it } from 'vitest';
import type { SimulatorFaults } from '../sim/switches.ts';
import { createHarness, dumpKv, ledgerWith } from './helpers.ts';

const faults: [SimulatorFaults['token'] | 'unreachable', number, string | null][] = [
  ['forbidden-html', 502, null],
  ['rate-limited', 503, '7'],
  ['server-error', 503, null],
  ['bad-request-text', 502, null],
  ['down', 503, null],
  ['html-200', 502, null],
  ['hang', 503, null],
  ['unreachable', 503, null],
];

async function expiredSession(sim: Parameters<typeof createHarness>[0] = {}) {
  const h = createHarness({ lookerTimeoutMs: 200, ...sim });
  await h.signIn();
  expect((await h.request('/api/4.0/user')).status).toBe(200);
  h.clock.advance(3600); // the access token has expired: the next call must refresh
  return h;
}

describe('a token-endpoint fault while the access token has expired', () => {
  for (const [fault, status, retryAfter] of faults) {
    it(`${fault} → ${status} JSON${retryAfter === null ? '' : ` with Retry-After: ${retryAfter}`}; the session survives`, async () => {
      const h = await expiredSession();
      if (fault === 'unreachable') h.sim.faults.unreachable = true;
      else h.sim.faults.token = fault;
      const res = await h.request('/api/4.0/user');
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('retry-after')).toBe(retryAfter);
      const body = (await res.json()) as { message: string };
      expect(body.message).toMatch(/session is intact/);
      expect(JSON.stringify(body)).not.toMatch(/<html|stack|at \w+ \(/i);
      // The cookie is not cleared, and neither KV nor the ledger lost the session.
      expect(res.headers.getSetCookie().some((c) => c.startsWith('__Host-lgw_session='))).toBe(false);
      expect([...(await dumpKv(h.kv)).keys()].filter((k) => k.startsWith('session:'))).toHaveLength(1);
      expect(h.logs.some((l) => l.includes('session_ended') || l.includes('grant_ended'))).toBe(false);

      h.sim.faults.unreachable = false;
      h.sim.faults.token = 'ok';
      expect((await h.request('/api/4.0/user')).status).toBe(200);
    });
  }

  it('the home page says Looker is unavailable (502) and keeps the session', async () => {
    const h = await expiredSession();
    h.sim.faults.token = 'forbidden-html';
    const res = await h.request('/');
    expect(res.status).toBe(502);
    expect(await res.text()).toContain('cannot be shown right now');
    h.sim.faults.token = 'ok';
    expect(await (await h.request('/')).text()).toContain('Dana Demo');
  });

  it('only invalid_grant ends the session: 401, cookie cleared, KV record gone', async () => {
    const h = await expiredSession();
    h.sim.faults.token = 'invalid-grant';
    const res = await h.request('/api/4.0/user');
    expect(res.status).toBe(401);
    expect(res.headers.getSetCookie().some((c) => c.startsWith('__Host-lgw_session=') && /max-age=0/i.test(c))).toBe(true);
    expect([...(await dumpKv(h.kv)).keys()].filter((k) => k.startsWith('session:'))).toEqual([]);
    h.sim.faults.token = 'ok';
    expect((await h.request('/api/4.0/user')).status).toBe(401);
  });

  it('with a Looker-style error body a refused refresh is a fault, not an ending (the grant might live)', async () => {
    const h = await expiredSession({ sim: { tokenErrorShape: 'looker' } });
    h.sim.revokeAllTokens();
    const res = await h.request('/api/4.0/user');
    expect(res.status).toBe(502);
    expect([...(await dumpKv(h.kv)).keys()].filter((k) => k.startsWith('session:'))).toHaveLength(1);
  });
});

describe('a fault while the access token is still valid', () => {
  for (const fault of ['forbidden-html', 'rate-limited', 'server-error', 'hang'] as const) {
    it(`${fault}: the still-valid token keeps working`, async () => {
      const h = createHarness({ lookerTimeoutMs: 200 });
      await h.signIn();
      h.clock.advance(3600 - 30); // under the refresh margin, not yet expired
      h.sim.faults.token = fault;
      expect((await h.request('/api/4.0/user')).status).toBe(200);
      expect(h.logs.some((l) => l.includes('"event":"token_refresh"') && l.includes('"outcome":"failed"'))).toBe(true);
    });
  }
});

describe('the new tokens of a rotating refresh are never lost', () => {
  it('storing the refreshed grant fails once: it is stored on the retry, and nobody is signed out', async () => {
    let failures = 1;
    let completions = 0;
    const h = createHarness({
      sim: { refreshTokenMode: 'rotate' },
      wrapLedger: (ledger) =>
        ledgerWith(ledger, {
          completeRefresh: (original, ...args) => {
            completions++;
            if (failures-- > 0) return Promise.reject(new Error('Durable Object reset'));
            return original(...args);
          },
        }),
    });
    await h.signIn();
    h.clock.advance(3600);
    expect((await h.request('/api/4.0/user')).status).toBe(200);
    expect(completions).toBe(2);
    expect(h.sim.stats.tokenRequests.refresh_token).toBe(1);
    // Another isolate gets the refreshed grant from the ledger (the old refresh token is dead).
    const other = createHarness(h.share());
    for (const [name, value] of h.jar) other.jar.set(name, value);
    expect((await other.request('/api/4.0/user')).status).toBe(200);
    h.clock.advance(3600);
    expect((await other.request('/api/4.0/user')).status).toBe(200);
    expect(h.sim.stats.tokenRequests.refresh_token).toBe(2);
  });

  it('storing keeps failing: this request is served with the new tokens, which are stored once the ledger answers again', async () => {
    let down = true;
    const h = createHarness({
      sim: { refreshTokenMode: 'rotate' },
      wrapLedger: (ledger) =>
        ledgerWith(ledger, { completeRefresh: (original, ...args) => (down ? Promise.reject(new Error('Durable Object overloaded')) : original(...args)) }),
    });
    await h.signIn();
    h.clock.advance(3600);
    expect((await h.request('/api/4.0/user')).status).toBe(200);
    expect(h.logs.some((l) => l.includes('could not store the refreshed grant yet'))).toBe(true);
    down = false;
    h.clock.advance(10); // past the isolate's trust in its memory: it asks the ledger, storing first
    expect((await h.request('/api/4.0/user')).status).toBe(200);
    // Another isolate gets the rotated grant from the ledger; nobody spent the dead refresh token.
    const other = createHarness(h.share());
    for (const [name, value] of h.jar) other.jar.set(name, value);
    expect((await other.request('/api/4.0/user')).status).toBe(200);
    expect(h.sim.stats.tokenRequests.refresh_token).toBe(1);
    expect(h.logs.concat(other.logs).some((l) => l.includes('session_ended') || l.includes('"outcome":"ended"'))).toBe(false);
  });

  it('a store that landed but whose answer was lost is not taken for a conflict (the retry is recognised)', async () => {
    let lost = 1;
    const h = createHarness({
      sim: { refreshTokenMode: 'rotate', logoutRevokesRefreshToken: true },
      wrapLedger: (ledger) =>
        ledgerWith(ledger, {
          completeRefresh: async (original, ...args) => {
            const outcome = await original(...args);
            if (lost-- > 0) throw new Error('network connection lost after the call');
            return outcome;
          },
        }),
    });
    await h.signIn();
    h.clock.advance(3600);
    expect((await h.request('/api/4.0/user')).status).toBe(200);
    h.clock.advance(10);
    expect((await h.request('/api/4.0/user')).status).toBe(200);
    expect(h.sim.stats.tokenRequests.refresh_token).toBe(1);
  });

  it('concurrent refreshes store exactly one new version: only the caller that spent the refresh token writes', async () => {
    const stored: number[] = [];
    const h = createHarness({
      sim: { refreshTokenMode: 'rotate' },
      wrapLedger: (ledger) =>
        ledgerWith(ledger, {
          completeRefresh: async (original, ...args) => {
            const outcome = await original(...args);
            stored.push(args[2].version);
            return outcome;
          },
        }),
    });
    await h.signIn();
    const other = createHarness({ ...h.share(), wrapLedger: (ledger) => ledgerWith(ledger, { completeRefresh: async (original, ...args) => {
      const outcome = await original(...args);
      stored.push(args[2].version);
      return outcome;
    } }) });
    for (const [name, value] of h.jar) other.jar.set(name, value);
    h.clock.advance(3600);
    const results = await Promise.all([...Array.from({ length: 4 }, () => h.request('/api/4.0/user')), ...Array.from({ length: 4 }, () => other.request('/api/4.0/user'))]);
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(stored).toEqual([2]);
  });
});

describe("the isolate's memory never outlives the session", () => {
  it('a session that expires within the 5 seconds the isolate trusts its memory is refused at once', async () => {
    const h = createHarness();
    await h.signIn();
    // Keep the access token fresh so only the session's own expiry matters.
    const signedInAt = h.clock.ms;
    h.clock.ms = signedInAt + 30 * 24 * 3600 * 1000 - 2000; // 2 s before the session ends
    h.sim.faults.token = 'ok';
    expect((await h.request('/api/4.0/user')).status).toBe(200); // confirmed with the ledger just now
    h.clock.advance(3); // 1 s past the end, still within the isolate's 5 s of trust
    expect((await h.request('/api/4.0/user')).status).toBe(401);
  });
});
