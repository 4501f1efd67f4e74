import { describe, expect, it } from 'vitest';
import { createS256CodeChallenge, generateCodeVerifier } from '../src/looker/oauth.ts';
import { createLookerSimulator, type SimulatorOptions, type TokenFault } from '../sim/simulator.ts';

const REDIRECT = 'https://gw.test/callback';

function authorizeUrl(overrides: Record<string, string | null> = {}, verifier = 'v'.repeat(43)) {
  const url = new URL('https://looker.test/auth');
  const params: Record<string, string | null> = {
    response_type: 'code',
    client_id: 'app',
    redirect_uri: REDIRECT,
    scope: 'cors_api',
    state: 'st',
    code_challenge: createS256CodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...overrides,
  };
  for (const [k, v] of Object.entries(params)) if (v !== null) url.searchParams.set(k, v);
  return url.href;
}

async function getCode(sim: ReturnType<typeof createLookerSimulator>, verifier: string) {
  const res = await sim.fetch(authorizeUrl({}, verifier));
  return new URL(res.headers.get('location')!).searchParams.get('code')!;
}

function tokenRequest(sim: ReturnType<typeof createLookerSimulator>, body: Record<string, string>, json = false, headers: Record<string, string> = {}) {
  return sim.fetch('https://looker.test/api/token', {
    method: 'POST',
    headers: { 'content-type': json ? 'application/json;charset=UTF-8' : 'application/x-www-form-urlencoded', ...headers },
    body: json ? JSON.stringify(body) : new URLSearchParams(body).toString(),
  });
}

type Simulator = ReturnType<typeof createLookerSimulator>;
interface Tokens {
  access_token: string;
  refresh_token: string | null;
}

const exchangeCode = (sim: Simulator, code: string, verifier: string) =>
  tokenRequest(sim, { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: 'app', redirect_uri: REDIRECT });

/** /auth (auto-approved) then the code exchange: the token endpoint's answer. */
async function signIn(sim: Simulator): Promise<Tokens> {
  const verifier = generateCodeVerifier();
  const res = await exchangeCode(sim, await getCode(sim, verifier), verifier);
  expect(res.status).toBe(200);
  return (await res.json()) as Tokens;
}

const refreshWith = (sim: Simulator, refreshToken: string) =>
  tokenRequest(sim, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'app', redirect_uri: REDIRECT });

const asBearer = (token: string) => ({ authorization: `Bearer ${token}` });

const whoAmI = async (sim: Simulator, token: string) =>
  ((await (await sim.fetch('https://looker.test/api/4.0/user', { headers: asBearer(token) })).json()) as { id: string }).id;

/** An API-key session (the default admin key unless told otherwise). */
async function apiLogin(sim: Simulator, clientId = 'sim-admin-id', clientSecret = 'sim-admin-secret'): Promise<string> {
  const res = await sim.fetch('https://looker.test/api/4.0/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: clientId, client_secret: clientSecret }).toString(),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

const DANA = { id: '42', display_name: 'Dana Demo', email: 'dana.demo@example.com' };
const ROBIN = { id: '7', display_name: 'Robin Roe', email: 'robin.roe@example.com' };

describe('Looker simulator', () => {
  const make = (extra = {}) => createLookerSimulator({ clientId: 'app', redirectUris: [REDIRECT], autoApprove: true, ...extra });

  it('/auth refuses an unknown client or redirect_uri without redirecting', async () => {
    const sim = make();
    for (const bad of [{ client_id: 'other' } as Record<string, string>, { redirect_uri: 'https://evil.example/callback' }, { redirect_uri: `${REDIRECT}/` }]) {
      const res = await sim.fetch(authorizeUrl(bad));
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
    }
  });

  it('/auth without PKCE S256 redirects back with invalid_request', async () => {
    const sim = make();
    const res = await sim.fetch(authorizeUrl({ code_challenge_method: 'plain' }));
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
  });

  it('accepts JSON and form token requests; checks PKCE; codes are single-use', async () => {
    const sim = make();
    for (const json of [false, true]) {
      const verifier = generateCodeVerifier();
      const code = await getCode(sim, verifier);
      const base = { grant_type: 'authorization_code', code, client_id: 'app', redirect_uri: REDIRECT };
      const wrong = await tokenRequest(sim, { ...base, code_verifier: generateCodeVerifier() }, json);
      expect(wrong.status).toBe(400);
      // A failed attempt burns the code, as a careful server does.
      const code2 = await getCode(sim, verifier);
      const ok = await tokenRequest(sim, { ...base, code: code2, code_verifier: verifier }, json);
      expect(ok.status).toBe(200);
      const body = (await ok.json()) as Record<string, unknown>;
      expect(body.token_type).toBe('Bearer');
      expect(body.expires_in).toBe(3600);
      expect(typeof body.refresh_token).toBe('string');
      const again = await tokenRequest(sim, { ...base, code: code2, code_verifier: verifier }, json);
      expect(again.status).toBe(400);
    }
  });

  it('refuses Basic authentication, like Looker', async () => {
    const sim = make();
    const verifier = generateCodeVerifier();
    const code = await getCode(sim, verifier);
    const res = await tokenRequest(
      sim,
      { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: 'app', redirect_uri: REDIRECT },
      false,
      { authorization: 'Basic YXBwOg==' },
    );
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('Failed Basic Authentication');
  });

  it('rotating refresh tokens are single-use', async () => {
    const sim = make({ refreshTokenMode: 'rotate' });
    const verifier = generateCodeVerifier();
    const code = await getCode(sim, verifier);
    const first = (await (await tokenRequest(sim, { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: 'app', redirect_uri: REDIRECT })).json()) as { refresh_token: string };
    const refresh = (t: string) => tokenRequest(sim, { grant_type: 'refresh_token', refresh_token: t, client_id: 'app', redirect_uri: REDIRECT });
    const second = await refresh(first.refresh_token);
    expect(second.status).toBe(200);
    expect((await refresh(first.refresh_token)).status).toBe(400);
  });

  it('API: 401 without a token, the user with one, versions without', async () => {
    const sim = make();
    const unauth = await sim.fetch('https://looker.test/api/4.0/user');
    expect(unauth.status).toBe(401);
    expect(await unauth.json()).toMatchObject({ message: 'Requires authentication.' });
    const versions = await sim.fetch('https://looker.test/api/4.0/versions');
    expect(versions.status).toBe(200);
    expect(await versions.json()).toMatchObject({ api_server_url: 'https://looker.test', web_server_url: 'https://looker.test' });
  });

  it('streams a large download with a content-length', async () => {
    const sim = make();
    const verifier = generateCodeVerifier();
    const code = await getCode(sim, verifier);
    const { access_token } = (await (await tokenRequest(sim, { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: 'app', redirect_uri: REDIRECT })).json()) as { access_token: string };
    const res = await sim.fetch('https://looker.test/api/4.0/download?bytes=1000000', { headers: { authorization: `Bearer ${access_token}` } });
    expect(res.headers.get('content-length')).toBe('1000000');
    expect((await res.arrayBuffer()).byteLength).toBe(1_000_000);
  });
});

describe('Looker simulator: token-endpoint faults', () => {
  const make = () => createLookerSimulator({ clientId: 'app', redirectUris: [REDIRECT], autoApprove: true });

  const cases: { fault: TokenFault; status: number; contentType: RegExp; body: (text: string) => void; retryAfter?: string }[] = [
    { fault: 'forbidden-html', status: 403, contentType: /^text\/html/, body: (t) => expect(t).toMatch(/^<!doctype html>.*403 Forbidden/s) },
    {
      fault: 'rate-limited',
      status: 429,
      contentType: /^application\/json/,
      retryAfter: '7',
      body: (t) => expect(JSON.parse(t)).toMatchObject({ message: expect.any(String), documentation_url: expect.any(String) }),
    },
    { fault: 'server-error', status: 500, contentType: /^application\/json/, body: (t) => expect(JSON.parse(t)).toEqual({ error: 'server_error' }) },
    {
      fault: 'bad-request-text',
      status: 400,
      contentType: /^text\/plain/,
      body: (t) => {
        expect(t).not.toBe('');
        expect(() => JSON.parse(t)).toThrow();
      },
    },
    { fault: 'invalid-grant', status: 400, contentType: /^application\/json/, body: (t) => expect(JSON.parse(t)).toEqual({ error: 'invalid_grant' }) },
  ];

  for (const { fault, status, contentType, body, retryAfter } of cases) {
    it(`${fault}: ${status} to code exchanges and refreshes alike, and nothing is spent`, async () => {
      const sim = make();
      const { refresh_token } = await signIn(sim);
      const verifier = generateCodeVerifier();
      const code = await getCode(sim, verifier);
      const exchange = () => exchangeCode(sim, code, verifier);

      sim.faults.token = fault;
      for (const res of [await exchange(), await refreshWith(sim, refresh_token!)]) {
        expect(res.status).toBe(status);
        expect(res.headers.get('content-type')).toMatch(contentType);
        expect(res.headers.get('retry-after')).toBe(retryAfter ?? null);
        body(await res.text());
      }
      expect(sim.stats.tokenRequests).toMatchObject({ authorization_code: 2, refresh_token: 1 });

      // Switched back between requests: the code and the refresh token still work.
      sim.faults.token = 'ok';
      expect((await exchange()).status).toBe(200);
      expect((await refreshWith(sim, refresh_token!)).status).toBe(200);
    });
  }
});

describe('Looker simulator: several people', () => {
  const make = (extra: SimulatorOptions = {}) =>
    createLookerSimulator({ clientId: 'app', redirectUris: [REDIRECT], autoApprove: true, users: [DANA, ROBIN], ...extra });

  it('without options.users there is one user, Dana Demo (id "42")', async () => {
    const sim = createLookerSimulator({ clientId: 'app', redirectUris: [REDIRECT], autoApprove: true });
    const { access_token } = await signIn(sim);
    const res = await sim.fetch('https://looker.test/api/4.0/user', { headers: asBearer(access_token) });
    expect(await res.json()).toMatchObject(DANA);
    expect(() => sim.signInAs('7')).toThrow(/7/);
  });

  it('signInAs chooses whom the consent page shows and whom the tokens are for', async () => {
    const sim = make({ autoApprove: false });
    const consentFor = async () => (await sim.fetch(authorizeUrl())).text();
    expect(await consentFor()).toContain('Dana Demo');
    sim.signInAs('7');
    const page = await consentFor();
    expect(page).toContain('Robin Roe');
    expect(page).toContain('robin.roe@example.com');
    expect(page).not.toContain('Dana Demo');
  });

  it('/api/4.0/user answers for the token’s user, also after a refresh', async () => {
    const sim = make();
    const dana = await signIn(sim);
    sim.signInAs('7');
    const robin = await signIn(sim);
    expect(await whoAmI(sim, dana.access_token)).toBe('42');
    expect(await whoAmI(sim, robin.access_token)).toBe('7');
    // A refresh token stays with its user whoever is signed in now.
    sim.signInAs('42');
    const refreshed = (await (await refreshWith(sim, robin.refresh_token!)).json()) as Tokens;
    expect(await whoAmI(sim, refreshed.access_token)).toBe('7');
    const fields = await sim.fetch('https://looker.test/api/4.0/user?fields=id,display_name', { headers: asBearer(robin.access_token) });
    expect(await fields.json()).toEqual({ id: '7', display_name: 'Robin Roe' });
  });

  it('a code is for the user signed in when it was issued, not when it is exchanged', async () => {
    const sim = make();
    const verifier = generateCodeVerifier();
    const code = await getCode(sim, verifier);
    sim.signInAs('7');
    const res = await exchangeCode(sim, code, verifier);
    const { access_token } = (await res.json()) as Tokens;
    expect(await whoAmI(sim, access_token)).toBe('42');
  });

  it('counts live tokens per user; expired access tokens are not live', async () => {
    let now = Date.UTC(2026, 0, 1);
    const sim = make({ now: () => now, accessTokenTtlSeconds: 60 });
    await signIn(sim);
    await signIn(sim);
    sim.signInAs('7');
    await signIn(sim);
    expect([sim.liveAccessTokens(), sim.liveAccessTokens('42'), sim.liveAccessTokens('7'), sim.liveAccessTokens('nobody')]).toEqual([3, 2, 1, 0]);
    expect([sim.liveRefreshTokens(), sim.liveRefreshTokens('42'), sim.liveRefreshTokens('7')]).toEqual([3, 2, 1]);
    now += 60_000;
    expect(sim.liveAccessTokens()).toBe(0);
    expect(sim.liveRefreshTokens()).toBe(3);
  });

  it('revokeUser kills one user’s tokens and codes, nobody else’s', async () => {
    const sim = make();
    const dana = await signIn(sim);
    const verifier = generateCodeVerifier();
    const pendingCode = await getCode(sim, verifier);
    sim.signInAs('7');
    const robin = await signIn(sim);

    sim.revokeUser('42');
    expect([sim.liveAccessTokens('42'), sim.liveRefreshTokens('42')]).toEqual([0, 0]);
    expect([sim.liveAccessTokens('7'), sim.liveRefreshTokens('7')]).toEqual([1, 1]);
    expect((await sim.fetch('https://looker.test/api/4.0/user', { headers: asBearer(dana.access_token) })).status).toBe(401);
    expect((await refreshWith(sim, dana.refresh_token!)).status).toBe(400);
    const exchange = await exchangeCode(sim, pendingCode, verifier);
    expect(exchange.status).toBe(400);
    expect(await whoAmI(sim, robin.access_token)).toBe('7');
  });

  it('refuses an empty or ambiguous users table', () => {
    expect(() => createLookerSimulator({ users: [] })).toThrow();
    expect(() => createLookerSimulator({ users: [DANA, { ...ROBIN, id: DANA.id }] })).toThrow(/42/);
    expect(() => createLookerSimulator({ users: [DANA], apiKeys: [{ clientId: 'k', clientSecret: 's', admin: true, userId: '7' }] })).toThrow(/7/);
  });
});

describe('Looker simulator: grants and logout', () => {
  const make = (extra: SimulatorOptions = {}) => createLookerSimulator({ clientId: 'app', redirectUris: [REDIRECT], autoApprove: true, ...extra });
  const logout = (sim: Simulator, token: string, path = '/api/logout') =>
    sim.fetch(`https://looker.test${path}`, { method: 'DELETE', headers: asBearer(token) });

  for (const path of ['/api/logout', '/api/4.0/logout']) {
    it(`${path} kills the access token and, by default, leaves the refresh token alive`, async () => {
      const sim = make();
      const { access_token, refresh_token } = await signIn(sim);
      expect((await logout(sim, access_token, path)).status).toBe(204);
      expect(sim.hasAccessToken(access_token)).toBe(false);
      expect(sim.hasRefreshToken(refresh_token!)).toBe(true);
      expect((await refreshWith(sim, refresh_token!)).status).toBe(200);
      // Once gone, the token is unknown.
      expect((await logout(sim, access_token, path)).status).toBe(401);
    });
  }

  it('with logoutRevokesRefreshToken, logout also kills its grant’s current refresh token, and only that one', async () => {
    const sim = make({ logoutRevokesRefreshToken: true, refreshTokenMode: 'rotate' });
    const first = await signIn(sim);
    // The refresh rotates: the grant's refresh token is now the new one.
    const rotated = (await (await refreshWith(sim, first.refresh_token!)).json()) as Tokens;
    const other = await signIn(sim);

    expect((await logout(sim, first.access_token, '/api/4.0/logout')).status).toBe(204);
    expect(sim.hasRefreshToken(rotated.refresh_token!)).toBe(false);
    expect((await refreshWith(sim, rotated.refresh_token!)).status).toBe(400);
    // The grant's other access token lives on; the other grant is untouched.
    expect(sim.hasAccessToken(rotated.access_token)).toBe(true);
    expect(sim.hasRefreshToken(other.refresh_token!)).toBe(true);
    expect(sim.liveRefreshTokens()).toBe(1);
  });

  it('logoutRevokesRefreshToken can be switched between requests, with refresh tokens that never rotate', async () => {
    const sim = make({ refreshTokenMode: 'same' });
    const { access_token, refresh_token } = await signIn(sim);
    const again = (await (await refreshWith(sim, refresh_token!)).json()) as Tokens;
    expect(again.refresh_token).toBe(refresh_token);
    sim.settings.logoutRevokesRefreshToken = true;
    expect((await logout(sim, again.access_token)).status).toBe(204);
    expect(sim.hasRefreshToken(refresh_token!)).toBe(false);
    expect(sim.hasAccessToken(access_token)).toBe(true);
  });

  it('logout ends an API-key session too; without a known token it is 401', async () => {
    const sim = make();
    const session = await apiLogin(sim);
    expect(sim.apiSessionCount()).toBe(1);
    expect((await logout(sim, session, '/api/4.0/logout')).status).toBe(204);
    expect(sim.apiSessionCount()).toBe(0);
    expect((await sim.fetch('https://looker.test/api/logout', { method: 'DELETE' })).status).toBe(401);
    expect((await logout(sim, 'not-a-token')).status).toBe(401);
  });

  it('revokeAllTokens kills every OAuth token and pending code', async () => {
    const sim = make();
    const { access_token, refresh_token } = await signIn(sim);
    const verifier = generateCodeVerifier();
    const code = await getCode(sim, verifier);
    sim.revokeAllTokens();
    expect(sim.hasAccessToken(access_token)).toBe(false);
    expect(sim.hasRefreshToken(refresh_token!)).toBe(false);
    const exchange = await exchangeCode(sim, code, verifier);
    expect(exchange.status).toBe(400);
  });
});

describe('Looker simulator: admin revocation endpoints', () => {
  const make = () => createLookerSimulator({ clientId: 'app', redirectUris: [REDIRECT], autoApprove: true, users: [DANA, ROBIN] });
  const adminDelete = (sim: Simulator, path: string, token: string) =>
    sim.fetch(`https://looker.test/api/4.0/oauth_client_apps/${path}`, { method: 'DELETE', headers: asBearer(token) });

  it('DELETE oauth_client_apps/{guid}/users/{user_id} revokes that user only', async () => {
    const sim = make();
    await signIn(sim);
    sim.signInAs('7');
    await signIn(sim);
    const admin = await apiLogin(sim);
    expect((await adminDelete(sim, 'app/users/42', admin)).status).toBe(204);
    expect([sim.liveAccessTokens('42'), sim.liveRefreshTokens('42'), sim.liveAccessTokens('7'), sim.liveRefreshTokens('7')]).toEqual([0, 0, 1, 1]);
    // Another app's users are not this app's: nothing to revoke, and no error, as Looker answers.
    expect((await adminDelete(sim, 'other-app/users/7', admin)).status).toBe(204);
    expect(sim.liveAccessTokens('7')).toBe(1);
  });

  it('DELETE oauth_client_apps/{guid}/tokens revokes every user’s tokens; 404 for an unknown app', async () => {
    const sim = make();
    await signIn(sim);
    sim.signInAs('7');
    await signIn(sim);
    const admin = await apiLogin(sim);
    expect((await adminDelete(sim, 'other-app/tokens', admin)).status).toBe(404);
    expect(sim.liveRefreshTokens()).toBe(2);
    expect((await adminDelete(sim, 'app/tokens', admin)).status).toBe(204);
    expect([sim.liveAccessTokens(), sim.liveRefreshTokens()]).toEqual([0, 0]);
  });

  it('a user’s OAuth token may not revoke: 403, nothing revoked', async () => {
    const sim = make();
    const { access_token } = await signIn(sim);
    for (const path of ['app/users/42', 'app/tokens']) expect((await adminDelete(sim, path, access_token)).status).toBe(403);
    expect(sim.liveRefreshTokens()).toBe(1);
  });
});

describe('Looker simulator: queries (a JSON POST)', () => {
  const make = () => createLookerSimulator({ clientId: 'app', redirectUris: [REDIRECT], autoApprove: true });
  const createQuery = (sim: Simulator, token: string, body: string) =>
    sim.fetch('https://looker.test/api/4.0/queries', { method: 'POST', headers: { ...asBearer(token), 'content-type': 'application/json' }, body });

  it('creates queries with new string ids and reads them back', async () => {
    const sim = make();
    const { access_token } = await signIn(sim);
    const spec = { model: 'thelook', view: 'orders', fields: ['orders.count'], filters: { 'orders.status': 'complete' }, limit: '10' };
    const first = await createQuery(sim, access_token, JSON.stringify(spec));
    expect(first.status).toBe(200);
    const created = (await first.json()) as Record<string, unknown>;
    expect(created).toMatchObject({ ...spec, id: expect.any(String) });
    const second = (await (await createQuery(sim, access_token, JSON.stringify({ model: 'thelook', view: 'users' }))).json()) as { id: string };
    expect(second.id).not.toBe(created.id);

    const read = await sim.fetch(`https://looker.test/api/4.0/queries/${created.id as string}`, { headers: asBearer(access_token) });
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual(created);
    expect((await sim.fetch('https://looker.test/api/4.0/queries/999', { headers: asBearer(access_token) })).status).toBe(404);
  });

  it('422 with Looker’s errors[] unless model and view are strings; 400 for a body that is not JSON', async () => {
    const sim = make();
    const { access_token } = await signIn(sim);
    const invalid = await createQuery(sim, access_token, JSON.stringify({ model: 3, fields: ['x'] }));
    expect(invalid.status).toBe(422);
    const body = (await invalid.json()) as { message: string; errors: { field: string; code: string }[] };
    expect(body.message).toBe('Validation Failed');
    expect(body.errors.map((e) => e.field)).toEqual(['model', 'view']);
    for (const notAnObject of ['[]', 'null', '"thelook"']) expect((await createQuery(sim, access_token, notAnObject)).status).toBe(422);
    expect((await createQuery(sim, access_token, '{"model":')).status).toBe(400);
    // Nothing was created by the failures.
    expect((await sim.fetch('https://looker.test/api/4.0/queries/1', { headers: asBearer(access_token) })).status).toBe(404);
  });

  it('requires authentication', async () => {
    const sim = make();
    const res = await sim.fetch('https://looker.test/api/4.0/queries', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":"m","view":"v"}',
    });
    expect(res.status).toBe(401);
  });
});

describe('Looker simulator: sudo (POST /api/4.0/login/{user_id})', () => {
  const make = () =>
    createLookerSimulator({
      clientId: 'app',
      redirectUris: [REDIRECT],
      autoApprove: true,
      users: [DANA, ROBIN],
      apiKeys: [
        { clientId: 'admin-id', clientSecret: 'admin-secret', admin: true },
        { clientId: 'user-id', clientSecret: 'user-secret', admin: false, userId: '7' },
      ],
    });
  const sudo = (sim: Simulator, userId: string, headers: Record<string, string> = {}) =>
    sim.fetch(`https://looker.test/api/4.0/login/${userId}`, { method: 'POST', headers });

  it('an admin API session gets a token acting as that user', async () => {
    const sim = make();
    const admin = await apiLogin(sim, 'admin-id', 'admin-secret');
    const res = await sudo(sim, '7', asBearer(admin));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; token_type: string; refresh_token: unknown };
    expect(body).toMatchObject({ token_type: 'Bearer', refresh_token: null });
    expect(await whoAmI(sim, body.access_token)).toBe('7');
    expect(sim.liveAccessTokens('7')).toBe(1);
    expect(sim.stats.authRequests).toEqual({ login: 1, logout: 0, sudo: 1 });
  });

  it('404 for anything else: no token, a user’s OAuth token, a non-admin key, an unknown user', async () => {
    const sim = make();
    const { access_token } = await signIn(sim);
    const nonAdmin = await apiLogin(sim, 'user-id', 'user-secret');
    const admin = await apiLogin(sim, 'admin-id', 'admin-secret');
    const attempts = [sudo(sim, '7'), sudo(sim, '7', asBearer(access_token)), sudo(sim, '42', asBearer(nonAdmin)), sudo(sim, 'nobody', asBearer(admin))];
    for (const res of await Promise.all(attempts)) expect(res.status).toBe(404);
    expect(sim.liveAccessTokens('7')).toBe(0);
    expect(sim.stats.authRequests.sudo).toBe(4);
  });

  it('an API-key session answers /api/4.0/user as its key’s user (the first user by default)', async () => {
    const sim = make();
    expect(await whoAmI(sim, await apiLogin(sim, 'user-id', 'user-secret'))).toBe('7');
    expect(await whoAmI(sim, await apiLogin(sim, 'admin-id', 'admin-secret'))).toBe('42');
  });
});

describe('Looker simulator: stats per auth path', () => {
  it('counts every request to login, logout and sudo, whatever the method or answer', async () => {
    const sim = createLookerSimulator({ clientId: 'app', redirectUris: [REDIRECT], autoApprove: true });
    const session = await apiLogin(sim);
    await sim.fetch('https://looker.test/api/4.0/login', { method: 'POST' });
    await sim.fetch('https://looker.test/api/4.0/login/42', { method: 'GET' });
    await sim.fetch('https://looker.test/api/4.0/logout', { method: 'DELETE', headers: asBearer(session) });
    await sim.fetch('https://looker.test/api/logout', { method: 'GET' });
    await sim.fetch('https://looker.test/api/4.0/user', { headers: asBearer(session) });
    expect(sim.stats.authRequests).toEqual({ login: 2, logout: 2, sudo: 1 });
    expect(sim.stats.apiLogins).toBe(2);
    expect(sim.stats.logouts).toBe(1);
  });
});
