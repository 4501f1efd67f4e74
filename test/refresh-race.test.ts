/**
 * Two gateway instances (two isolates: separate memory, one KV namespace, one Durable
 * Object namespace) against a Looker that rotates refresh tokens and accepts each only
 * once. A refresh in one must never log the user out in the other.
 */
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { createHarness, dumpKv, isolatedKv } from './helpers.ts';

function twoInstances(coordinator: 'local' | 'durable-object') {
  const kv = isolatedKv((env as unknown as { SESSIONS: KVNamespace }).SESSIONS);
  const a = createHarness({ kv, coordinator, sim: { refreshTokenMode: 'rotate' } });
  const b = createHarness({ kv, coordinator, shared: { simulator: a.sim, clock: a.clock } });
  return { a, b, kv };
}

describe('refresh across isolates, rotating single-use refresh tokens', () => {
  it('with the Durable Object coordinator: concurrent refreshes in two instances spend the token once', async () => {
    const { a, b } = twoInstances('durable-object');
    await a.signIn();
    b.jar.set('__Host-lgw_session', a.jar.get('__Host-lgw_session')!);
    a.clock.advance(3600);

    const results = await Promise.all([
      ...Array.from({ length: 5 }, () => a.request('/api/4.0/user')),
      ...Array.from({ length: 5 }, () => b.request('/api/4.0/user')),
    ]);
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(a.sim.stats.tokenRequests.refresh_token).toBe(1);

    // Both instances keep working, now and after the next expiry.
    expect((await b.request('/api/4.0/user')).status).toBe(200);
    a.clock.advance(3600);
    expect((await b.request('/api/4.0/user')).status).toBe(200);
    expect((await a.request('/api/4.0/user')).status).toBe(200);
    expect(a.sim.stats.tokenRequests.refresh_token).toBe(2);
    expect(a.logs.concat(b.logs).some((l) => l.includes('session_ended'))).toBe(false);
  });

  it('an instance holding a stale KV copy (old refresh token) reuses the result instead of spending a dead token', async () => {
    const { a, b, kv } = twoInstances('durable-object');
    await a.signIn();
    b.jar.set('__Host-lgw_session', a.jar.get('__Host-lgw_session')!);
    const [key, stale] = [...(await dumpKv(kv))].find(([k]) => k.startsWith('session:'))!;
    a.clock.advance(3600);
    expect((await a.request('/api/4.0/user')).status).toBe(200);
    // B still sees the pre-refresh value (KV reads can be up to a minute stale elsewhere).
    await kv.put(key, stale, { expirationTtl: 3600 });
    const res = await b.request('/api/4.0/user');
    expect(res.status).toBe(200);
    expect(a.sim.stats.tokenRequests.refresh_token).toBe(1);
  });

  it('in-memory coordination alone spends the token twice; the loser survives only by finding the winner\'s write in KV', async () => {
    const { a, b } = twoInstances('local');
    await a.signIn();
    b.jar.set('__Host-lgw_session', a.jar.get('__Host-lgw_session')!);
    a.clock.advance(3600);
    const results = await Promise.all([a.request('/api/4.0/user'), b.request('/api/4.0/user')]);
    expect(a.sim.stats.tokenRequests.refresh_token).toBe(2);
    // Local KV is consistent, so the loser finds the winner's tokens after a short wait and
    // survives here; across locations a read up to a minute stale would end the session,
    // which is why the deployed Worker coordinates through the Durable Object.
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    expect(a.logs.concat(b.logs).some((l) => l.includes('"outcome":"adopted"'))).toBe(true);
  });
});
