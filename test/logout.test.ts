import { describe, expect, it } from 'vitest';
import { createHarness, dumpKv, GATEWAY } from './helpers.ts';

const sessionKeys = async (h: ReturnType<typeof createHarness>) =>
  [...(await dumpKv(h.kv)).keys()].filter((k) => k.startsWith('session:'));

describe('POST /logout', () => {
  const allowed: [string, Record<string, string>][] = [
    ['Origin: gateway', { origin: GATEWAY }],
    ['Origin: gateway + Sec-Fetch-Site: same-origin', { origin: GATEWAY, 'sec-fetch-site': 'same-origin' }],
    ['Origin: null + Sec-Fetch-Site: same-origin (no-referrer pages)', { origin: 'null', 'sec-fetch-site': 'same-origin' }],
    ['no Origin, Sec-Fetch-Site: same-origin', { 'sec-fetch-site': 'same-origin' }],
    ['neither header (a script, not a browser)', {}],
  ];
  for (const [name, headers] of allowed) {
    it(`signs out with ${name}`, async () => {
      const h = createHarness();
      await h.signIn();
      await h.request('/');
      const accessToken = h.lastAccessToken();
      expect(h.sim.hasAccessToken(accessToken)).toBe(true);

      const res = await h.request('/logout', { method: 'POST', headers });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/');
      const cleared = res.headers.getSetCookie().find((c) => c.startsWith('__Host-lgw_session='))!;
      expect(cleared).toMatch(/max-age=0/i);
      expect(cleared).toMatch(/secure/i);
      expect(cleared).toMatch(/path=\//i);
      expect(await sessionKeys(h)).toEqual([]);
      // Revoked at Looker with the bearer token.
      const revoke = h.upstream.find((r) => r.method === 'DELETE')!;
      expect(revoke.url).toBe('https://looker.test:19999/api/logout');
      expect(revoke.headers.get('authorization')).toBe(`Bearer ${accessToken}`);
      expect(h.sim.hasAccessToken(accessToken)).toBe(false);
      expect(await (await h.request('/')).text()).toContain('Sign in with Looker');
    });
  }

  const refused: [string, Record<string, string>][] = [
    ['another Origin', { origin: 'https://evil.example' }],
    ['a sibling subdomain', { origin: 'https://evil.gateway.test' }],
    ['the same host over http', { origin: 'http://gateway.test' }],
    ['Origin: null without Sec-Fetch-Site', { origin: 'null' }],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site' }],
    ['Origin: null + Sec-Fetch-Site: cross-site', { origin: 'null', 'sec-fetch-site': 'cross-site' }],
    ['another Origin + Sec-Fetch-Site: same-origin (lying)', { origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' }],
  ];
  for (const [name, headers] of refused) {
    it(`refuses ${name} with 403 and keeps the session`, async () => {
      const h = createHarness();
      await h.signIn();
      const res = await h.request('/logout', { method: 'POST', headers });
      expect(res.status).toBe(403);
      expect(res.headers.getSetCookie()).toEqual([]);
      expect(await sessionKeys(h)).toHaveLength(1);
      expect(h.upstream.some((r) => r.method === 'DELETE')).toBe(false);
      expect(h.logs.some((l) => l.includes('csrf_refused'))).toBe(true);
    });
  }

  it('still signs out when Looker fails to revoke (logged, not fatal)', async () => {
    const h = createHarness();
    await h.signIn();
    h.sim.faults.logout = 'down';
    const res = await h.request('/logout', { method: 'POST', headers: { origin: GATEWAY } });
    expect(res.status).toBe(303);
    expect(await sessionKeys(h)).toEqual([]);
    expect(h.logs.some((l) => l.includes('grant_ended') && l.includes('revoking at Looker'))).toBe(true);
  });

  it('still signs out when Looker is unreachable', async () => {
    const h = createHarness();
    await h.signIn();
    h.sim.faults.unreachable = true;
    const res = await h.request('/logout', { method: 'POST', headers: { origin: GATEWAY } });
    expect(res.status).toBe(303);
    expect(await sessionKeys(h)).toEqual([]);
  });

  it('signed out already: just clears the cookie', async () => {
    const h = createHarness();
    const res = await h.request('/logout', { method: 'POST', headers: { origin: GATEWAY } });
    expect(res.status).toBe(303);
    expect(h.upstream).toEqual([]);
  });

  it('GET /logout does not sign out', async () => {
    const h = createHarness();
    await h.signIn();
    const res = await h.request('/logout');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await sessionKeys(h)).toHaveLength(1);
  });
});
