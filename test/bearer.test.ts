/**
 * Scripts on /api/*: a gateway access token (from the SDK login) as `Authorization:
 * Bearer` or `token` reaches Looker as the credential's own Looker token. No cookie is
 * involved, so the browser's CSRF rules do not apply; CORS is what it is for browsers.
 * Anything that is not a live token is Looker's 401 and reaches nothing. The Looker token
 * is renewed behind the scenes; a busy token costs no KV operation; a revocation is felt
 * at once where it happened and within LIVENESS_TTL_MS in every other instance.
 */
import { describe, expect, it } from 'vitest';
import { TokenMinter } from '../src/crypto/tokens.ts';
import { LIVENESS_TTL_MS } from '../src/grants/access.ts';
import { AUTHENTICATION_HINT, bearerRequest, cliLogin, createHarness, GATEWAY, type Harness, type HarnessOptions, SESSION_SECRET, sdkLogin, OTHER_SESSION_SECRET } from './helpers.ts';

const DOCS = /^https:\/\/cloud\.google\.com\/looker\/docs\/r\/err\//;

/** A person with a credential and a gateway token for it; `lookerToken` is the credential's Looker access token. */
async function scripted(options: HarnessOptions = {}) {
  const h = createHarness(options);
  const { credential } = await cliLogin(h, { name: 'script' });
  const lookerToken = h.tokenResponses.at(-1)!.access_token as string;
  const token = await sdkLogin(h, credential.client_id, credential.client_secret);
  return { h, credential, lookerToken, token };
}

interface Echo {
  method: string;
  path: string;
  headers: Record<string, string>;
  bodyBytes: number;
}

async function echoed(res: Response): Promise<Echo> {
  expect(res.status).toBe(200);
  return (await res.json()) as Echo;
}

async function expectRequiresAuthentication(res: Response, hint: unknown = AUTHENTICATION_HINT) {
  expect(res.status).toBe(401);
  // Looker's exact message (the SDKs go by it), and a hint for a person reading the answer.
  expect(await res.json()).toEqual({ message: 'Requires authentication.', documentation_url: expect.stringMatching(DOCS), hint });
}

const revokeFromCli = (h: Harness, credential: { client_id: string; client_secret: string }) =>
  h.request('/cli/revoke', {
    method: 'POST',
    withCookies: false,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: credential.client_id, client_secret: credential.client_secret }).toString(),
  });

describe('a gateway token reaches Looker as the credential', () => {
  for (const scheme of ['Bearer', 'bearer', 'token', 'Token']) {
    it(`Authorization: ${scheme} <token> → Looker sees the credential's Looker token, never the gateway's`, async () => {
      const { h, token, lookerToken } = await scripted();
      const echo = await echoed(await h.request('/api/4.0/echo/looks?fields=id', { withCookies: false, headers: { authorization: `${scheme} ${token}` } }));
      expect(echo.path).toBe('/api/4.0/echo/looks');
      expect(echo.headers.authorization).toBe(`Bearer ${lookerToken}`);
      expect(JSON.stringify(echo)).not.toContain(token);
      expect(JSON.stringify(echo)).not.toContain('lgwt_');
      expect(h.requestLogs().at(-1)).toMatchObject({ caller: 'token', status: 200, upstreamStatus: 200 });
    });
  }

  it("acts as the credential's person, whoever else is signed in in this browser", async () => {
    const h = createHarness({
      sim: { users: [{ id: '42', display_name: 'Dana Demo', email: 'dana.demo@example.com' }, { id: '7', display_name: 'Sam Other', email: 'sam@example.com' }] },
    });
    await h.signIn();
    h.sim.signInAs('7');
    const { credential } = await cliLogin(h);
    const token = await sdkLogin(h, credential.client_id, credential.client_secret);
    // The browser's cookie rides along; the bearer token decides.
    expect(await (await h.request('/api/4.0/user', { headers: { authorization: `Bearer ${token}` } })).json()).toMatchObject({ id: '7' });
    expect(await (await h.request('/api/4.0/user')).json()).toMatchObject({ id: '42' });
  });

  it('unsafe methods need no Origin and are not refused from another origin (there is no ambient credential)', async () => {
    const { h, token } = await scripted();
    const json = { 'content-type': 'application/json' };
    expect((await echoed(await bearerRequest(h, token, '/api/4.0/echo/q', { method: 'POST', headers: json, body: '{"a":1}' }))).method).toBe('POST');
    for (const headers of [{ origin: 'https://evil.example' }, { origin: 'null' }, { 'sec-fetch-site': 'cross-site' }] as Record<string, string>[]) {
      const res = await bearerRequest(h, token, '/api/4.0/echo/q', { method: 'PATCH', headers: { ...json, ...headers }, body: '{}' });
      expect((await echoed(res)).method).toBe('PATCH');
    }
    const created = await bearerRequest(h, token, '/api/4.0/queries', { method: 'POST', headers: json, body: JSON.stringify({ model: 'm', view: 'v' }) });
    expect(created.status).toBe(200);
    expect(h.logs.some((l) => l.includes('"csrf_refused"'))).toBe(false);
  });

  it('CORS is unchanged: granted to ALLOWED_ORIGINS only', async () => {
    const APP = 'https://app.example';
    const { h, token } = await scripted({ vars: { ALLOWED_ORIGINS: APP } });
    const allowed = await bearerRequest(h, token, '/api/4.0/user', { headers: { origin: APP } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP);
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    const foreign = await bearerRequest(h, token, '/api/4.0/user', { headers: { origin: 'https://evil.example' } });
    expect(foreign.status).toBe(200);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await h.request('/api/4.0/user', {
      method: 'OPTIONS',
      withCookies: false,
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('anything but a live token is 401 in Looker\'s shape, and reaches nothing', () => {
  async function expectRefusedUnforwarded(h: Harness, authorization: string) {
    const before = h.upstream.length;
    const res = await h.request('/api/4.0/echo/x', { method: 'POST', withCookies: false, headers: { authorization, 'content-type': 'application/json' }, body: '{}' });
    await expectRequiresAuthentication(res);
    expect(h.upstream.length, authorization).toBe(before);
  }

  it('garbled, truncated, foreign, made-up, other kinds of gateway secrets, other schemes', async () => {
    const { h, token, credential } = await scripted();
    const foreign = (await scripted({ vars: { SESSION_SECRET: OTHER_SESSION_SECRET } })).token;
    const flipped = token.slice(0, 20) + (token[20] === 'A' ? 'B' : 'A') + token.slice(21);
    for (const authorization of [
      `Bearer ${flipped}`,
      `Bearer ${token.slice(0, -1)}`,
      `Bearer ${token}x`,
      `Bearer ${foreign}`,
      `Bearer ${credential.client_secret}`,
      `Bearer ${credential.client_id}`,
      `Bearer ${token} extra`,
      'Bearer',
      'Bearer ',
      `Basic ${btoa(`${credential.client_id}:${credential.client_secret}`)}`,
      token,
      `Bearer ${h.tokenResponses.at(-1)!.access_token as string}`,
    ]) {
      await expectRefusedUnforwarded(h, authorization);
    }
  });

  it('a well-formed token the gateway never issued (its MAC is right, the ledger knows nothing)', async () => {
    const { h } = await scripted();
    const personKey = new TokenMinter(SESSION_SECRET).personKeyFor('https://looker.test:19999', '42');
    const neverIssued = new TokenMinter(SESSION_SECRET).mint('access-token', personKey).value;
    await expectRefusedUnforwarded(h, `Bearer ${neverIssued}`);
  });

  it('an invalid bearer token is not rescued by a browser cookie', async () => {
    const h = createHarness();
    await h.signIn();
    expect((await h.request('/api/4.0/user')).status).toBe(200);
    const before = h.upstream.length;
    await expectRequiresAuthentication(await h.request('/api/4.0/user', { headers: { authorization: 'Bearer lgwt_nope' } }));
    expect(h.upstream.length).toBe(before);
  });

  it('an expired token', async () => {
    const { h, token } = await scripted();
    h.clock.advance(3600);
    await expectRefusedUnforwarded(h, `Bearer ${token}`);
  });

  it('a token logged out, and a token of a revoked credential', async () => {
    const { h, token, credential } = await scripted();
    const other = await sdkLogin(h, credential.client_id, credential.client_secret);
    await h.request('/api/logout', { method: 'DELETE', withCookies: false, headers: { authorization: `Bearer ${token}` } });
    await expectRefusedUnforwarded(h, `Bearer ${token}`);
    await revokeFromCli(h, credential);
    await expectRefusedUnforwarded(h, `Bearer ${other}`);
  });
});

describe("the credential's Looker token", () => {
  it('is refreshed behind the scenes when it runs out; the gateway token does not change', async () => {
    const { h, token, lookerToken } = await scripted({ sim: { accessTokenTtlSeconds: 600 } });
    expect((await echoed(await bearerRequest(h, token, '/api/4.0/echo/a'))).headers.authorization).toBe(`Bearer ${lookerToken}`);
    h.clock.advance(601);
    const echo = await echoed(await bearerRequest(h, token, '/api/4.0/echo/b'));
    expect(h.sim.stats.tokenRequests.refresh_token).toBe(1);
    const renewed = h.tokenResponses.at(-1)!.access_token as string;
    expect(renewed).not.toBe(lookerToken);
    expect(echo.headers.authorization).toBe(`Bearer ${renewed}`);
    expect(h.requestLogs().at(-1)).toMatchObject({ refreshed: true, caller: 'token' });
    // Another instance picks up the renewed token from the ledger instead of refreshing again.
    const other = createHarness(h.share());
    expect((await echoed(await bearerRequest(other, token, '/api/4.0/echo/c'))).headers.authorization).toBe(`Bearer ${renewed}`);
    expect(h.sim.stats.tokenRequests.refresh_token).toBe(1);
  });

  it('Looker refusing it (revoked by an admin) is renewed once and the call repeated', async () => {
    const { h, token, lookerToken } = await scripted();
    h.sim.revokeAccessToken(lookerToken);
    const res = await bearerRequest(h, token, '/api/4.0/user');
    expect(res.status).toBe(200);
    expect(h.sim.stats.tokenRequests.refresh_token).toBe(1);
  });

  it("Looker ending the grant (invalid_grant) ends the credential's tokens: 401 in Looker's shape", async () => {
    const { h, token, credential } = await scripted({ sim: { accessTokenTtlSeconds: 600 } });
    h.sim.revokeUser('42');
    h.clock.advance(601);
    // The first answer says what happened: a new token will not help, a new sign-in will.
    await expectRequiresAuthentication(
      await bearerRequest(h, token, '/api/4.0/user'),
      expect.stringMatching(/Looker sign-in has ended.*node lgw\.mjs login https:\/\/gateway\.test/),
    );
    await expectRequiresAuthentication(await bearerRequest(h, token, '/api/4.0/user'));
    expect((await h.request('/api/4.0/login', {
      method: 'POST',
      withCookies: false,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: credential.client_id, client_secret: credential.client_secret }).toString(),
    })).status).toBe(404);
  });
});

describe('steady state', () => {
  it('no KV read or write per bearer call, also when liveness is re-confirmed', async () => {
    const { h, token } = await scripted();
    h.logs.length = 0;
    for (let i = 0; i < 4; i++) expect((await bearerRequest(h, token, '/api/4.0/user')).status).toBe(200);
    h.clock.advance(LIVENESS_TTL_MS / 1000 + 1);
    for (let i = 0; i < 2; i++) expect((await bearerRequest(h, token, '/api/4.0/user')).status).toBe(200);
    const lines = h.requestLogs();
    expect(lines).toHaveLength(6);
    expect(lines.map((l) => [l.kvReads, l.kvWrites])).toEqual(Array.from({ length: 6 }, () => [0, 0]));
  });

  it('another instance serves the token without KV too', async () => {
    const { h, token } = await scripted();
    const other = createHarness(h.share());
    for (let i = 0; i < 3; i++) expect((await bearerRequest(other, token, '/api/4.0/user')).status).toBe(200);
    expect(other.requestLogs().map((l) => [l.kvReads, l.kvWrites])).toEqual([[0, 0], [0, 0], [0, 0]]);
  });
});

describe('revocation', () => {
  async function twoInstances() {
    const setup = await scripted();
    const other = createHarness(setup.h.share());
    // Both instances have served the token, so both remember it.
    expect((await bearerRequest(setup.h, setup.token, '/api/4.0/user')).status).toBe(200);
    expect((await bearerRequest(other, setup.token, '/api/4.0/user')).status).toBe(200);
    return { ...setup, other };
  }

  for (const logout of ['ok', 'down'] as const) {
    it(`from the command line: 401 at once here, within ${LIVENESS_TTL_MS / 1000} s in another instance (Looker's logout ${logout})`, async () => {
      const { h, other, token, credential, lookerToken } = await twoInstances();
      h.sim.faults.logout = logout;
      const res = await revokeFromCli(h, credential);
      expect(await res.json()).toEqual({ revoked: true });
      await expectRequiresAuthentication(await bearerRequest(h, token, '/api/4.0/user'));
      h.clock.advance(LIVENESS_TTL_MS / 1000);
      const before = other.upstream.length;
      await expectRequiresAuthentication(await bearerRequest(other, token, '/api/4.0/user'));
      expect(other.upstream.length).toBe(before);
      expect(h.sim.hasAccessToken(lookerToken)).toBe(logout === 'down');
    });
  }

  for (const logout of ['ok', 'down'] as const) {
    it(`from the access page: 401 at once here, within ${LIVENESS_TTL_MS / 1000} s in another instance (Looker's logout ${logout})`, async () => {
      const { h, other, token, credential } = await twoInstances();
      await h.signIn();
      h.sim.faults.logout = logout;
      const page = await (await h.request('/access')).text();
      const grantId = new RegExp(`${credential.client_id}[\\s\\S]*?name="grant" value="([^"]+)"`).exec(page)![1]!;
      const res = await h.request('/access/revoke', {
        method: 'POST',
        headers: { origin: GATEWAY, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant: grantId }).toString(),
      });
      expect(res.status).toBe(303);
      await expectRequiresAuthentication(await bearerRequest(h, token, '/api/4.0/user'));
      h.clock.advance(LIVENESS_TTL_MS / 1000);
      await expectRequiresAuthentication(await bearerRequest(other, token, '/api/4.0/user'));
    });
  }
});
