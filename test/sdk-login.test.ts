/**
 * The Looker SDKs' login and logout, answered by the gateway for script credentials,
 * exactly as the SDKs send them: @looker/sdk-node (POST /api/4.0/login with the encoded
 * form as a plain string body, which fetch labels text/plain; DELETE /api/4.0/logout) and
 * looker_sdk for Python (POST /api/4.0/login, form-encoded; DELETE /api/logout). What a
 * wrong credential gets is what Looker answers a wrong API key; Looker's own login, sudo
 * and logout are never reached.
 */
import { describe, expect, it } from 'vitest';
import { LIVENESS_TTL_MS } from '../src/grants/access.ts';
import { MAX_TOKENS_PER_GRANT } from '../src/grants/ledger.ts';
import { AUTHENTICATION_HINT, bearerRequest, cliLogin, type CliCredential, createHarness, type Harness, sdkLogin, sdkLoginResponse, OTHER_SESSION_SECRET } from './helpers.ts';

const DOCS = /^https:\/\/cloud\.google\.com\/looker\/docs\/r\/err\//;

async function withCredential(vars: Record<string, string> = {}): Promise<{ h: Harness; credential: CliCredential }> {
  const h = createHarness({ vars });
  const { credential } = await cliLogin(h, { name: 'sdk' });
  return { h, credential };
}

/** The SDKs' login answer: Looker's AccessToken shape. */
async function expectAccessToken(res: Response, expiresIn = 3600): Promise<string> {
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toEqual({ access_token: expect.stringMatching(/^lgwt_[A-Za-z0-9_-]+$/), token_type: 'Bearer', expires_in: expiresIn, refresh_token: null });
  return body.access_token as string;
}

/** What Looker answers a wrong API key. */
async function expectLookerNotFound(res: Response) {
  expect(res.status).toBe(404);
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toEqual({ message: 'Not found', documentation_url: expect.stringMatching(DOCS) });
}

/** Nothing of the SDK's login, sudo or logout reached Looker. */
const expectLookerAuthUntouched = (h: Harness) => expect(h.sim.stats.authRequests).toEqual({ login: 0, sudo: 0, logout: 0 });

describe('login, as the SDKs send it', () => {
  it('@looker/sdk-node: the encoded form as a string body (text/plain, as fetch labels it)', async () => {
    const { h, credential } = await withCredential();
    // encodeParams({ client_id, client_secret }) handed to fetch as a string.
    const body = `client_id=${encodeURIComponent(credential.client_id)}&client_secret=${encodeURIComponent(credential.client_secret)}`;
    const token = await expectAccessToken(
      await h.request('/api/4.0/login', { method: 'POST', withCookies: false, headers: { 'content-type': 'text/plain;charset=UTF-8', 'x-looker-appid': 'TS-SDK' }, body }),
    );
    expect(await (await bearerRequest(h, token, '/api/4.0/user')).json()).toMatchObject({ id: '42' });
    expectLookerAuthUntouched(h);
  });

  it('@looker/sdk-node with an explicit form content type', async () => {
    const { h, credential } = await withCredential();
    await expectAccessToken(await sdkLoginResponse(h, credential.client_id, credential.client_secret));
  });

  it('looker_sdk (Python): urlencoded form, then DELETE /api/logout with Authorization: Bearer', async () => {
    const { h, credential } = await withCredential();
    const res = await h.request('/api/4.0/login', {
      method: 'POST',
      withCookies: false,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-looker-appid': 'py-sdk' },
      body: new URLSearchParams({ client_id: credential.client_id, client_secret: credential.client_secret }).toString(),
    });
    const token = await expectAccessToken(res);
    expect((await bearerRequest(h, token, '/api/4.0/user')).status).toBe(200);
    const logout = await h.request('/api/logout', { method: 'DELETE', withCookies: false, headers: { authorization: `Bearer ${token}` } });
    expect(logout.status).toBe(204);
    expect((await bearerRequest(h, token, '/api/4.0/user')).status).toBe(401);
    expectLookerAuthUntouched(h);
  });

  for (const path of ['/api/3.1/login', '/api/login']) {
    it(`${path} too`, async () => {
      const { h, credential } = await withCredential();
      await expectAccessToken(await sdkLoginResponse(h, credential.client_id, credential.client_secret, path));
      expectLookerAuthUntouched(h);
    });
  }

  it('client_id may come as a query parameter (Looker accepts it there), the secret in the form', async () => {
    const { h, credential } = await withCredential();
    await expectAccessToken(
      await h.request(`/api/4.0/login?${new URLSearchParams({ client_id: credential.client_id })}`, {
        method: 'POST',
        withCookies: false,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_secret: credential.client_secret }).toString(),
      }),
    );
  });

  it('client_secret in the URL: 400 naming the form body as its place, no token, and the secret in no log line', async () => {
    const { h, credential } = await withCredential();
    const cases: { query: Record<string, string>; form?: Record<string, string> }[] = [
      { query: { client_id: credential.client_id, client_secret: credential.client_secret } },
      { query: { client_secret: credential.client_secret }, form: { client_id: credential.client_id } },
      // Even when the form has it too: the URL already carried it.
      { query: { client_secret: credential.client_secret }, form: { client_id: credential.client_id, client_secret: credential.client_secret } },
    ];
    for (const init of cases) {
      const res = await h.request(`/api/4.0/login?${new URLSearchParams(init.query)}`, {
        method: 'POST',
        withCookies: false,
        ...(init.form === undefined
          ? {}
          : { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(init.form).toString() }),
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { message: string; documentation_url: unknown };
      expect(body.message).toMatch(/client_secret must be sent in the request body as a form/);
      expect(JSON.stringify(body)).not.toContain(credential.client_secret);
    }
    expect(h.logs.join('\n')).not.toContain(credential.client_secret);
    expect(h.logs.filter((l) => l.includes('"credential_login"'))).toEqual([]);
  });

  it('expires_in is GATEWAY_TOKEN_TTL_SECONDS, and the token stops working then', async () => {
    const { h, credential } = await withCredential({ GATEWAY_TOKEN_TTL_SECONDS: '120' });
    const token = await expectAccessToken(await sdkLoginResponse(h, credential.client_id, credential.client_secret), 120);
    h.clock.advance(119);
    expect((await bearerRequest(h, token, '/api/4.0/user')).status).toBe(200);
    h.clock.advance(1);
    expect((await bearerRequest(h, token, '/api/4.0/user')).status).toBe(401);
    // Another instance (reading the ledger) agrees.
    const other = createHarness({ ...h.share(), vars: { GATEWAY_TOKEN_TTL_SECONDS: '120' } });
    expect((await bearerRequest(other, token, '/api/4.0/user')).status).toBe(401);
  });

  it('each login is a new token; several live side by side', async () => {
    const { h, credential } = await withCredential();
    const first = await sdkLogin(h, credential.client_id, credential.client_secret);
    const second = await sdkLogin(h, credential.client_id, credential.client_secret);
    expect(second).not.toBe(first);
    expect((await bearerRequest(h, first, '/api/4.0/user')).status).toBe(200);
    expect((await bearerRequest(h, second, '/api/4.0/user')).status).toBe(200);
  });

  it(`at most ${MAX_TOKENS_PER_GRANT} live tokens per credential: each login beyond ends the oldest, everywhere`, async () => {
    const { h, credential } = await withCredential();
    const other = createHarness({ ...h.share() });
    const tokens: string[] = [];
    for (let i = 0; i < MAX_TOKENS_PER_GRANT + 5; i++) {
      tokens.push(await sdkLogin(h, credential.client_id, credential.client_secret));
      h.clock.advance(1);
    }
    // Another instance, which never saw them, asks the ledger: the five oldest are over.
    for (const token of tokens.slice(0, 5)) expect((await bearerRequest(other, token, '/api/4.0/user')).status).toBe(401);
    for (const token of tokens.slice(5)) expect((await bearerRequest(other, token, '/api/4.0/user')).status).toBe(200);
    // This instance stops trusting its memory of them within the liveness bound.
    h.clock.advance(LIVENESS_TTL_MS / 1000);
    for (const token of tokens.slice(0, 5)) expect((await bearerRequest(h, token, '/api/4.0/user')).status).toBe(401);
    expect((await bearerRequest(h, tokens.at(-1)!, '/api/4.0/user')).status).toBe(200);
    // Ending the credential ends what is left of its tokens.
    expect((await h.request('/cli/revoke', {
      method: 'POST',
      withCookies: false,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: credential.client_id, client_secret: credential.client_secret }).toString(),
    })).status).toBe(200);
    h.clock.advance(LIVENESS_TTL_MS / 1000);
    expect((await bearerRequest(other, tokens.at(-1)!, '/api/4.0/user')).status).toBe(401);
  });

  it('in the credential\'s last hour too (every token then ends with the credential), the oldest are the ones ended', async () => {
    const { h, credential } = await withCredential({ CREDENTIAL_TTL_DAYS: '1' });
    h.clock.advance(23.5 * 3600);
    const other = createHarness({ ...h.share(), vars: { CREDENTIAL_TTL_DAYS: '1' } });
    const tokens: string[] = [];
    for (let i = 0; i < MAX_TOKENS_PER_GRANT + 5; i++) {
      tokens.push(await sdkLogin(h, credential.client_id, credential.client_secret));
      h.clock.advance(1);
    }
    const alive = [];
    for (const token of tokens) alive.push((await bearerRequest(other, token, '/api/4.0/user')).status === 200 ? 1 : 0);
    expect(alive.join('')).toBe('0'.repeat(5) + '1'.repeat(MAX_TOKENS_PER_GRANT));
  });
});

describe('a login that fails answers as Looker does for a wrong API key (404), and reaches nothing', () => {
  it('wrong secret, unknown client_id, made-up values, missing fields', async () => {
    const { h, credential } = await withCredential();
    const other = (await cliLogin(h)).credential;
    const foreign = (await withCredential({ SESSION_SECRET: OTHER_SESSION_SECRET })).credential;
    const flip = (value: string) => value.slice(0, 10) + (value[10] === 'A' ? 'B' : 'A') + value.slice(11);
    const attempts: [string, string][] = [
      [credential.client_id, other.client_secret],
      [credential.client_id, flip(credential.client_secret)],
      [flip(credential.client_id), credential.client_secret],
      [foreign.client_id, foreign.client_secret],
      [credential.client_id, ''],
      ['', credential.client_secret],
      ['sim-admin-id', 'sim-admin-secret'],
    ];
    for (const [id, secret] of attempts) await expectLookerNotFound(await sdkLoginResponse(h, id, secret));
    await expectLookerNotFound(await h.request('/api/4.0/login', { method: 'POST', withCookies: false }));
    expectLookerAuthUntouched(h);
    expect(h.logs.filter((l) => l.includes('"credential_login_refused"'))).toHaveLength(attempts.length + 1);
  });

  it('a revoked credential', async () => {
    const { h, credential } = await withCredential();
    await h.request('/cli/revoke', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: credential.client_id, client_secret: credential.client_secret }).toString(),
    });
    await expectLookerNotFound(await sdkLoginResponse(h, credential.client_id, credential.client_secret));
    // Also in an instance that remembers nothing of it.
    await expectLookerNotFound(await sdkLoginResponse(createHarness(h.share()), credential.client_id, credential.client_secret));
  });

  it('a credential revoked in another instance, while this one still remembers it', async () => {
    const { h, credential } = await withCredential();
    await sdkLogin(h, credential.client_id, credential.client_secret);
    const other = createHarness(h.share());
    await other.request('/cli/revoke', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: credential.client_id, client_secret: credential.client_secret }).toString(),
    });
    await expectLookerNotFound(await sdkLoginResponse(h, credential.client_id, credential.client_secret));
  });

  it('an expired credential', async () => {
    const { h, credential } = await withCredential({ CREDENTIAL_TTL_DAYS: '1' });
    h.clock.advance(24 * 3600);
    await expectLookerNotFound(await sdkLoginResponse(h, credential.client_id, credential.client_secret));
  });

  it('a body that is JSON, or too large, is a 400 in Looker\'s shape', async () => {
    const { h, credential } = await withCredential();
    const json = await h.request('/api/4.0/login', {
      method: 'POST',
      withCookies: false,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: credential.client_id, client_secret: credential.client_secret }),
    });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ documentation_url: expect.stringMatching(DOCS) });
    const large = await h.request('/api/4.0/login', {
      method: 'POST',
      withCookies: false,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `client_id=${credential.client_id}&client_secret=${credential.client_secret}&pad=${'x'.repeat(20_000)}`,
    });
    expect(large.status).toBe(400);
    expectLookerAuthUntouched(h);
  });
});

describe('sudo', () => {
  for (const path of ['/api/4.0/login/42', '/api/3.1/login/7']) {
    it(`POST ${path} is refused (403) with a clear message, never forwarded`, async () => {
      const { h, credential } = await withCredential();
      const token = await sdkLogin(h, credential.client_id, credential.client_secret);
      const res = await bearerRequest(h, token, path, { method: 'POST' });
      expect(res.status).toBe(403);
      const body = (await res.json()) as { message: string; documentation_url: string };
      expect(body.message).toMatch(/sudo/);
      expect(body.message).toMatch(/not available through the gateway/);
      expect(body.documentation_url).toMatch(DOCS);
      expect(h.upstream.filter((r) => new URL(r.url).pathname.includes('/login'))).toEqual([]);
      expectLookerAuthUntouched(h);
    });
  }
});

describe('logout', () => {
  for (const path of ['/api/logout', '/api/4.0/logout']) {
    it(`DELETE ${path} ends that gateway token only: the credential, its other tokens and its Looker grant live on`, async () => {
      const { h, credential } = await withCredential();
      const lookerToken = h.tokenResponses.at(-1)!.access_token as string;
      const token = await sdkLogin(h, credential.client_id, credential.client_secret);
      const sibling = await sdkLogin(h, credential.client_id, credential.client_secret);
      expect((await bearerRequest(h, token, '/api/4.0/user')).status).toBe(200);

      const res = await h.request(path, { method: 'DELETE', withCookies: false, headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(204);

      const after = await bearerRequest(h, token, '/api/4.0/user');
      expect(after.status).toBe(401);
      expect(await after.json()).toEqual({ message: 'Requires authentication.', documentation_url: expect.stringMatching(DOCS), hint: AUTHENTICATION_HINT });
      // Another instance asks the ledger: ended there too.
      expect((await bearerRequest(createHarness(h.share()), token, '/api/4.0/user')).status).toBe(401);

      expect((await bearerRequest(h, sibling, '/api/4.0/user')).status).toBe(200);
      const fresh = await sdkLogin(h, credential.client_id, credential.client_secret);
      expect((await bearerRequest(h, fresh, '/api/4.0/user')).status).toBe(200);
      expect(h.sim.hasAccessToken(lookerToken)).toBe(true);
      expect(h.sim.stats.logouts).toBe(0);
      expectLookerAuthUntouched(h);
    });
  }

  it('logging out twice, or with a token that is not one, is 401 in Looker\'s shape', async () => {
    const { h, credential } = await withCredential();
    const token = await sdkLogin(h, credential.client_id, credential.client_secret);
    expect((await h.request('/api/logout', { method: 'DELETE', withCookies: false, headers: { authorization: `token ${token}` } })).status).toBe(204);
    for (const authorization of [`Bearer ${token}`, 'Bearer lgwt_nope', 'Bearer']) {
      const res = await h.request('/api/logout', { method: 'DELETE', withCookies: false, headers: { authorization } });
      expect(res.status, authorization).toBe(401);
      expect(await res.json()).toEqual({ message: 'Requires authentication.', documentation_url: expect.stringMatching(DOCS), hint: AUTHENTICATION_HINT });
    }
    expectLookerAuthUntouched(h);
  });
});
