import { describe, expect, it } from 'vitest';
import { createHarness, dumpKv, isolatedKv, SESSION_SECRET } from './helpers.ts';
import { env } from 'cloudflare:workers';

const signedOut = async (res: Response) => {
  expect(res.status).toBe(200);
  expect(await res.text()).toContain('Sign in with Looker');
};

describe('session cookies that are not a live session mean "signed out", never 500', () => {
  const values = [
    '',
    'garbage',
    'A'.repeat(43),
    'A'.repeat(42) + '!',
    '%E0%A4%A',
    'x'.repeat(10_000),
    '"quoted"',
  ];
  for (const value of values) {
    it(`cookie ${JSON.stringify(value.slice(0, 20))}`, async () => {
      const h = createHarness();
      await h.signIn();
      const res = await h.request('/', { headers: { cookie: `__Host-lgw_session=${value}` } });
      await signedOut(res);
    });
  }

  it('a tampered session token (one character changed)', async () => {
    const h = createHarness();
    await h.signIn();
    const token = h.jar.get('__Host-lgw_session')!;
    const flipped = token.slice(0, 10) + (token[10] === 'A' ? 'B' : 'A') + token.slice(11);
    const res = await h.request('/', { headers: { cookie: `__Host-lgw_session=${flipped}` } });
    await signedOut(res);
    // And the stale cookie is cleared.
    expect(res.headers.getSetCookie().some((c) => c.startsWith('__Host-lgw_session=') && /max-age=0/i.test(c))).toBe(true);
  });

  it('a cookie without the __Host- prefix is ignored', async () => {
    const h = createHarness();
    await h.signIn();
    const token = h.jar.get('__Host-lgw_session')!;
    await signedOut(await h.request('/', { headers: { cookie: `lgw_session=${token}` } }));
  });

  it('an expired session (past the refresh-token lifetime)', async () => {
    const h = createHarness();
    await h.signIn();
    h.clock.advance(31 * 24 * 3600);
    await signedOut(await h.request('/'));
  });
});

describe('sealed KV values', () => {
  it('cannot be opened with another SESSION_SECRET', async () => {
    const kv = isolatedKv((env as unknown as { SESSIONS: KVNamespace }).SESSIONS);
    const a = createHarness({ kv });
    await a.signIn();
    const token = a.jar.get('__Host-lgw_session')!;
    expect((await a.request('/')).status).toBe(200);
    const b = createHarness({ kv, vars: { SESSION_SECRET: SESSION_SECRET.replace('test', 'other') } });
    await signedOut(await b.request('/', { headers: { cookie: `__Host-lgw_session=${token}` } }));
  });

  it('a value copied to another session key does not open there', async () => {
    const h = createHarness();
    await h.signIn();
    const victim = h.jar.get('__Host-lgw_session')!;
    h.jar.clear();
    await h.signIn();
    const attacker = h.jar.get('__Host-lgw_session')!;
    const entries = [...(await dumpKv(h.kv))].filter(([k]) => k.startsWith('session:'));
    expect(entries).toHaveLength(2);
    // Put the victim's sealed value under the attacker's key (someone with KV write access).
    const [[k1, v1], [k2, v2]] = entries as [[string, string], [string, string]];
    await h.kv.put(k1, v2, { expirationTtl: 3600 });
    await h.kv.put(k2, v1, { expirationTtl: 3600 });
    // Another isolate, which has to read KV.
    const cold = createHarness(h.share());
    await signedOut(await cold.request('/', { headers: { cookie: `__Host-lgw_session=${attacker}` } }));
    await signedOut(await cold.request('/', { headers: { cookie: `__Host-lgw_session=${victim}` } }));
  });

  it('a corrupted value reads as signed out', async () => {
    const h = createHarness();
    await h.signIn();
    const cookie = h.jar.get('__Host-lgw_session')!;
    const [key, value] = [...(await dumpKv(h.kv))][0]!;
    for (const bad of ['', 'v2.', 'v1.' + value.slice(3), value.slice(0, -4) + 'AAAA', 'v2.!!!!']) {
      await h.kv.put(key, bad, { expirationTtl: 3600 });
      const cold = createHarness(h.share());
      await signedOut(await cold.request('/', { headers: { cookie: `__Host-lgw_session=${cookie}` } }));
    }
  });

  it('TTLs: nothing stored for a sign-in in progress; the session record lives as long as the session', async () => {
    const h = createHarness();
    await h.request('/login');
    expect((await dumpKv(h.kv)).size).toBe(0);
    h.jar.clear();
    await h.signIn();
    const sessionKey = [...(await dumpKv(h.kv)).keys()].find((k) => k.startsWith('session:'))!;
    expect(h.kv.ttls.get(sessionKey)).toBe(30 * 24 * 3600);
  });
});

describe("the isolate's session memory", () => {
  it('serves a busy session without KV reads; KV losing the record does not sign anyone out (the ledger decides)', async () => {
    const h = createHarness();
    await h.signIn();
    await h.request('/');
    const [key] = [...(await dumpKv(h.kv)).keys()].filter((k) => k.startsWith('session:'));
    await h.kv.delete(key!);
    h.logs.length = 0;
    expect(await (await h.request('/')).text()).toContain('Dana Demo');
    h.clock.advance(31);
    expect(await (await h.request('/')).text()).toContain('Dana Demo');
    expect(h.requestLogs().map((l) => l.kvReads)).toEqual([0, 0]);
  });

  it('a sign-out through another isolate takes effect here within 5 seconds, even if Looker did not revoke', async () => {
    const h = createHarness();
    await h.signIn();
    const other = createHarness(h.share());
    for (const [name, value] of h.jar) other.jar.set(name, value);
    expect(await (await h.request('/')).text()).toContain('Dana Demo');
    h.sim.faults.logout = 'down'; // so only the ledger can tell this isolate
    expect((await other.request('/logout', { method: 'POST', headers: { origin: 'https://gateway.test' } })).status).toBe(303);
    // This isolate checked the ledger a moment ago: it may still serve the session for up to 5 s…
    h.clock.advance(4);
    expect(await (await h.request('/')).text()).toContain('Dana Demo');
    // …and not a moment longer.
    h.clock.advance(1);
    expect(await (await h.request('/')).text()).toContain('Sign in with Looker');
  });

  it('a sign-out in this isolate takes effect at once', async () => {
    const h = createHarness();
    await h.signIn();
    const cookie = h.jar.get('__Host-lgw_session')!;
    await h.request('/logout', { method: 'POST', headers: { origin: 'https://gateway.test' } });
    const res = await h.request('/', { headers: { cookie: `__Host-lgw_session=${cookie}` } });
    expect(await res.text()).toContain('Sign in with Looker');
  });
});

describe('token refresh', () => {
  it('refreshes an access token that has under a minute left, and keeps the session', async () => {
    const h = createHarness({ sim: { accessTokenTtlSeconds: 3600, refreshTokenMode: 'rotate' } });
    await h.signIn();
    h.clock.advance(3600 - 30);
    const res = await h.request('/');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Dana Demo');
    expect(h.sim.stats.tokenRequests.refresh_token).toBe(1);
    const sent = h.sim.stats.lastTokenRequest!;
    expect(Object.keys(sent.params).sort()).toEqual(['client_id', 'grant_type', 'redirect_uri', 'refresh_token']);
    expect(sent.params.redirect_uri).toBe('https://gateway.test/callback');
    expect(sent.hadAuthorization).toBe(false);
    // Steady state again: no further refresh.
    await h.request('/');
    expect(h.sim.stats.tokenRequests.refresh_token).toBe(1);
    expect(h.logs.some((l) => l.includes('"event":"token_refresh"') && l.includes('"outcome":"refreshed"') && /"grantId":"[^"]+"/.test(l))).toBe(true);
  });

  it('does not refresh while more than a minute is left', async () => {
    const h = createHarness();
    await h.signIn();
    h.clock.advance(3600 - 120);
    await h.request('/');
    expect(h.sim.stats.tokenRequests.refresh_token).toBe(0);
  });

  it('keeps the old refresh token when Looker returns none', async () => {
    const h = createHarness({ sim: { refreshTokenMode: 'null' } });
    await h.signIn();
    for (let i = 0; i < 3; i++) {
      h.clock.advance(3600);
      const res = await h.request('/');
      expect(await res.text()).toContain('Dana Demo');
    }
    expect(h.sim.stats.tokenRequests.refresh_token).toBe(3);
  });

  it('uses the rotated refresh token each time when Looker rotates', async () => {
    const h = createHarness({ sim: { refreshTokenMode: 'rotate' } });
    await h.signIn();
    const used = new Set<string>();
    for (let i = 0; i < 3; i++) {
      h.clock.advance(3600);
      expect(await (await h.request('/')).text()).toContain('Dana Demo');
      const presented = h.sim.stats.lastTokenRequest!.params.refresh_token!;
      expect(used.has(presented)).toBe(false);
      used.add(presented);
    }
  });

  it('ends the session cleanly when the refresh token is refused (invalid_grant)', async () => {
    const h = createHarness();
    await h.signIn();
    h.sim.revokeAllTokens();
    h.clock.advance(3600);
    const res = await h.request('/');
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain('session has ended');
    expect(body).toContain('Sign in with Looker');
    expect(res.headers.getSetCookie().some((c) => c.startsWith('__Host-lgw_session=') && /max-age=0/i.test(c))).toBe(true);
    expect([...(await dumpKv(h.kv)).keys()].filter((k) => k.startsWith('session:'))).toEqual([]);
  });

  it('a token revoked by an admin before it expires: renew once, then carry on', async () => {
    const h = createHarness({ sim: { refreshTokenMode: 'null' } });
    await h.signIn();
    await h.request('/');
    h.sim.revokeAccessToken(h.lastAccessToken());
    const res = await h.request('/');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Dana Demo');
    expect(h.sim.stats.tokenRequests.refresh_token).toBe(1);
  });

  it('everything revoked before expiry: the session ends on the next page view', async () => {
    const h = createHarness();
    await h.signIn();
    h.sim.revokeAllTokens();
    const res = await h.request('/');
    expect(await res.text()).toContain('session has ended');
    expect([...(await dumpKv(h.kv)).keys()].filter((k) => k.startsWith('session:'))).toEqual([]);
  });

  it('Looker down during a refresh: the still-valid access token keeps working', async () => {
    const h = createHarness();
    await h.signIn();
    h.clock.advance(3600 - 30);
    h.sim.faults.token = 'down';
    const res = await h.request('/');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Dana Demo');
    expect(h.logs.some((l) => l.includes('"outcome":"failed"'))).toBe(true);
  });

  it('Looker down after the access token expired: 502, and the session survives for later', async () => {
    const h = createHarness();
    await h.signIn();
    h.clock.advance(3700);
    h.sim.faults.token = 'down';
    expect((await h.request('/')).status).toBe(502);
    h.sim.faults.token = 'ok';
    expect(await (await h.request('/')).text()).toContain('Dana Demo');
  });
});
