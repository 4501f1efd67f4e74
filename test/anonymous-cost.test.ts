/**
 * Anonymous traffic costs no storage: a pending sign-in lives in its sealed cookie (no KV
 * write per GET /login: the Free plan's 1,000 writes a day cannot be burnt by a loop),
 * and forged or unknown session cookies and bearer tokens are refused by their MAC before
 * any KV read or Durable Object call.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createHarness, isolatedKv, type TestKv } from './helpers.ts';

function countingKv(): TestKv & { counts: { reads: number; writes: number } } {
  const kv = isolatedKv((env as unknown as { SESSIONS: KVNamespace }).SESSIONS);
  const counts = { reads: 0, writes: 0 };
  return {
    ...kv,
    counts,
    get: (key) => (counts.reads++, kv.get(key)),
    put: (key, value, options) => (counts.writes++, kv.put(key, value, options)),
    delete: (key) => (counts.writes++, kv.delete(key)),
  };
}

function randomBase64url(bytes: number): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(bytes))))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}

describe('anonymous traffic costs no storage', () => {
  it('1,000 anonymous GET /login → 0 KV writes, 0 ledger calls', async () => {
    const kv = countingKv();
    let ledgerCalls = 0;
    const h = createHarness({ kv, wrapLedger: (ledger) => (ledgerCalls++, ledger) });
    await h.request('/healthz'); // the configuration is read once per isolate (it names the device ledger)
    await h.request('/login', { withCookies: false });
    ledgerCalls = 0;
    for (let i = 0; i < 1000; i++) {
      const res = await h.request('/login', { withCookies: false });
      expect(res.status).toBe(302);
    }
    expect(kv.counts).toEqual({ reads: 0, writes: 0 });
    expect(ledgerCalls).toBe(0);
  });

  it('1,000 random session cookies and bearer tokens → 0 KV reads, 0 ledger calls, all refused', async () => {
    const kv = countingKv();
    let ledgerCalls = 0;
    const h = createHarness({ kv, wrapLedger: (ledger) => (ledgerCalls++, ledger) });
    await h.request('/login', { withCookies: false });
    ledgerCalls = 0;
    for (let i = 0; i < 500; i++) {
      // Well formed: the right length and alphabet, only the MAC is wrong.
      const cookie = randomBase64url(44);
      expect(cookie).toHaveLength(59);
      expect((await h.request('/api/4.0/user', { headers: { cookie: `__Host-lgw_session=${cookie}` } })).status).toBe(401);
      const token = `lgwt_${randomBase64url(60)}`;
      expect((await h.request('/api/4.0/user', { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    }
    expect(kv.counts).toEqual({ reads: 0, writes: 0 });
    expect(ledgerCalls).toBe(0);
    expect(h.upstream).toEqual([]);
  });

  it('made-up consent cookies → 410, 0 ledger calls (old-style person-key cookies too)', async () => {
    let ledgerCalls = 0;
    const h = createHarness({ wrapLedger: (ledger) => (ledgerCalls++, ledger) });
    await h.request('/healthz');
    ledgerCalls = 0;
    const personKey = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
    for (let i = 0; i < 50; i++) {
      const id = randomBase64url(16);
      for (const value of [`${randomBase64url(60)}`, `${personKey}.AAAA`, `${randomBase64url(22)}.${randomBase64url(32)}`]) {
        const res = await h.request(`/cli/consent/${id}`, { headers: { cookie: `__Host-lgw_consent_${id}=${value}` } });
        expect(res.status).toBe(410);
        const answered = await h.request(`/cli/consent/${id}`, {
          method: 'POST',
          headers: { cookie: `__Host-lgw_consent_${id}=${value}`, origin: 'https://gateway.test', 'content-type': 'application/x-www-form-urlencoded' },
          body: 'decision=allow',
        });
        expect(answered.status).toBe(410);
      }
    }
    expect(ledgerCalls).toBe(0);
  });

  it('random client credentials at the SDK login → 404 without a KV read', async () => {
    const kv = countingKv();
    const h = createHarness({ kv });
    for (let i = 0; i < 100; i++) {
      const res = await h.request('/api/4.0/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: `lgwc_${randomBase64url(28)}`, client_secret: `lgws_${randomBase64url(44)}` }).toString(),
      });
      expect(res.status).toBe(404);
    }
    expect(kv.counts.reads).toBe(0);
  });
});
