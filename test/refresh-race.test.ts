/**
 * Two gateway instances (two isolates: separate memory, one KV namespace, one set of
 * Durable Objects) against a Looker that rotates refresh tokens and accepts each only
 * once. A refresh in one must never log the user out in the other.
 */
import { describe, expect, it, vi } from 'vitest';
import { createHarness } from './helpers.ts';

async function twoInstances() {
  const a = createHarness({ sim: { refreshTokenMode: 'rotate' } });
  const b = createHarness(a.share());
  await a.signIn();
  b.jar.set('__Host-lgw_session', a.jar.get('__Host-lgw_session')!);
  return { a, b };
}

describe('refresh across isolates, rotating single-use refresh tokens', () => {
  it('concurrent refreshes in two instances spend the token once', async () => {
    const { a, b } = await twoInstances();
    a.clock.advance(3600);

    const results = await Promise.all([
      ...Array.from({ length: 5 }, () => a.request('/api/4.0/user')),
      ...Array.from({ length: 5 }, () => b.request('/api/4.0/user')),
    ]);
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(a.sim.stats.tokenRequests.refresh_token).toBe(1);
    expect(a.logs.concat(b.logs).some((l) => l.includes('"outcome":"adopted"'))).toBe(true);

    // Both instances keep working, now and after the next expiry.
    expect((await b.request('/api/4.0/user')).status).toBe(200);
    a.clock.advance(3600);
    expect((await b.request('/api/4.0/user')).status).toBe(200);
    expect((await a.request('/api/4.0/user')).status).toBe(200);
    expect(a.sim.stats.tokenRequests.refresh_token).toBe(2);
    expect(a.logs.concat(b.logs).some((l) => l.includes('session_ended'))).toBe(false);
  });

  it('an instance that remembers the old grant adopts the refreshed one instead of spending a dead refresh token', async () => {
    const { a, b } = await twoInstances();
    expect((await b.request('/api/4.0/user')).status).toBe(200); // B now remembers version 1
    a.clock.advance(3600);
    expect((await a.request('/api/4.0/user')).status).toBe(200); // A refreshes: version 2, the old refresh token is dead
    const res = await b.request('/api/4.0/user');
    expect(res.status).toBe(200);
    expect(a.sim.stats.tokenRequests.refresh_token).toBe(1);
    // B used the new access token, which it could only have from the ledger.
    expect(b.lastAccessToken()).toBe(a.lastAccessToken());
  });

  it('many refreshes in a row, alternating instances: one Looker refresh each time, never a sign-out', async () => {
    const { a, b } = await twoInstances();
    for (let round = 1; round <= 4; round++) {
      a.clock.advance(3600);
      const [ra, rb] = await Promise.all([a.request('/api/4.0/user'), b.request('/api/4.0/user')]);
      expect([ra.status, rb.status]).toEqual([200, 200]);
      expect(a.sim.stats.tokenRequests.refresh_token).toBe(round);
    }
    expect(a.logs.concat(b.logs).some((l) => l.includes('session_ended'))).toBe(false);
  });

  it('while another instance refreshes, a request whose access token is still good is served with it at once, not kept waiting for the lease', async () => {
    const { a, b } = await twoInstances();
    expect((await b.request('/api/4.0/user')).status).toBe(200);
    const before = b.lastAccessToken();
    a.clock.advance(3600 - 30); // 30 s left: inside the refresh margin, still good
    a.sim.faults.token = 'hang'; // A's refresh never gets an answer (a refresher that died holding the lease looks the same)
    const stuck = a.request('/api/4.0/user');
    await vi.waitFor(() => expect(a.sim.stats.tokenRequests.refresh_token).toBe(1), { timeout: 1_500, interval: 5 });
    let aAnswered = false;
    void stuck.then(() => (aAnswered = true));
    const res = await b.request('/api/4.0/user');
    expect(res.status).toBe(200);
    // B did not wait for A's lease: A is still waiting on Looker (2 s here; a dead refresher's lease lasts 60 s).
    expect(aAnswered).toBe(false);
    expect(b.lastAccessToken()).toBe(before);
    expect(a.sim.stats.tokenRequests.refresh_token).toBe(1);
    a.sim.faults.token = 'ok';
    expect((await stuck).status).toBe(200); // A gives up on Looker and serves with the token it has
  });
});
