import { describe, expect, it } from 'vitest';
import { createHarness, GATEWAY, LOOKER, CLIENT_ID, dumpKv, setCookies } from './helpers.ts';

describe('sign-in flow', () => {
  it('signs in with PKCE and shows the Looker user', async () => {
    const h = createHarness();
    const login = await h.request('/login');
    expect(login.status).toBe(302);
    const auth = new URL(login.headers.get('location')!);
    expect(auth.origin + auth.pathname).toBe(`${LOOKER}/auth`);
    expect(auth.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(auth.searchParams.get('redirect_uri')).toBe(`${GATEWAY}/callback`);

    const callback = await h.request(new URL(await h.authorize(login)).pathname + new URL(await h.authorize(login)).search);
    expect(callback.status).toBeGreaterThan(0);
  });
});
