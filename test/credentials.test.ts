/**
 * Script credentials as a whole: what the command line receives, what the gateway keeps
 * of them (hashes and sealed values only), that each holds its own Looker grant apart from
 * the person's browser sessions, how long they live, the command line's revoke and status
 * endpoints, and that the logs name credentials by client_id and never leak a secret.
 */
import { describe, expect, it } from 'vitest';
import {
  answerConsent,
  bearerRequest,
  browserToConsent,
  cliLogin,
  cliRequest,
  createHarness,
  dumpKv,
  GATEWAY,
  type Harness,
  loginCookieOf,
  redeemCode,
  SESSION_SECRET,
  sdkLogin,
  sdkLoginResponse,
} from './helpers.ts';

const DAY_MS = 24 * 3600 * 1000;

function decodeBase64url(text: string): Uint8Array {
  const padded = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
  return Uint8Array.from(atob(padded), (ch) => ch.charCodeAt(0));
}

const revoke = (h: Harness, clientId: string, clientSecret: string) =>
  h.request('/cli/revoke', {
    method: 'POST',
    withCookies: false,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: clientId, client_secret: clientSecret }).toString(),
  });

/** The Looker access token the gateway sent upstream for this bearer call. */
async function lookerTokenBehind(h: Harness, gatewayToken: string): Promise<string> {
  const res = await bearerRequest(h, gatewayToken, '/api/4.0/echo/whoami');
  expect(res.status).toBe(200);
  const { headers } = (await res.json()) as { headers: Record<string, string> };
  return headers.authorization!.replace(/^Bearer /, '');
}

describe('the credential the command line receives', () => {
  it('client_id lgwc_…, client_secret lgws_… of at least 256 random bits, the name, 90 days, the person', async () => {
    const h = createHarness();
    const { credential } = await cliLogin(h, { name: 'laptop' });
    expect(Object.keys(credential).sort()).toEqual(['client_id', 'client_secret', 'expires_at', 'name', 'scope', 'user']);
    expect(credential.client_id).toMatch(/^lgwc_[A-Za-z0-9_-]+$/);
    expect(credential.client_secret).toMatch(/^lgws_[A-Za-z0-9_-]+$/);
    // Random part and MAC: at least 32 bytes of it are random.
    expect(decodeBase64url(credential.client_secret.slice(5)).length).toBeGreaterThanOrEqual(32 + 12);
    expect(credential.name).toBe('laptop');
    expect(credential.expires_at).toBe(new Date(h.clock.ms + 90 * DAY_MS).toISOString());
    expect(credential.user).toEqual({ id: '42', display_name: 'Dana Demo', email: 'dana.demo@example.com' });

    // Every sign-in makes a new pair.
    const again = (await cliLogin(h, { name: 'laptop' })).credential;
    expect(again.client_id).not.toBe(credential.client_id);
    expect(again.client_secret).not.toBe(credential.client_secret);
    expect(again.client_secret.slice(5, 30)).not.toBe(credential.client_secret.slice(5, 30));
  });

  it('the /cli/token answer is not cached', async () => {
    const h = createHarness();
    const request = await cliRequest();
    const consentPath = await browserToConsent(h, await h.request(request.authorizePath));
    const code = new URL((await answerConsent(h, consentPath, 'allow')).headers.get('location')!).searchParams.get('code')!;
    const res = await redeemCode(h, { code, code_verifier: request.verifier, redirect_uri: request.redirectUri });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('KV holds only hashes and sealed values: no client_id, secret, gateway token, Looker token or name in clear', async () => {
    const h = createHarness();
    await h.signIn();
    const { credential } = await cliLogin(h, { name: 'nightly-export' });
    const token = await sdkLogin(h, credential.client_id, credential.client_secret);
    expect((await bearerRequest(h, token, '/api/4.0/user')).status).toBe(200);

    const kv = await dumpKv(h.kv);
    expect([...kv.keys()].some((k) => k.startsWith('credential:'))).toBe(true);
    for (const key of kv.keys()) expect(key).toMatch(/^(session|credential):[0-9a-f]{64}$/);
    const forbidden = [
      credential.client_id,
      credential.client_id.slice(5),
      credential.client_secret,
      credential.client_secret.slice(5),
      token,
      token.slice(5),
      'nightly-export',
      'Dana Demo',
      'dana.demo@example.com',
      ...h.tokenResponses.flatMap((body) => [body.access_token as string, body.refresh_token as string]),
    ];
    expect(h.tokenResponses).toHaveLength(2);
    const everything = [...kv].flat().join('\n');
    for (const value of forbidden) expect(everything.includes(value), `KV holds ${value.slice(0, 12)}…`).toBe(false);
  });

  it('the credential record in KV lives as long as the credential', async () => {
    const h = createHarness();
    await cliLogin(h);
    const key = [...(await dumpKv(h.kv)).keys()].find((k) => k.startsWith('credential:'))!;
    expect(h.kv.ttls.get(key)).toBe(90 * 24 * 3600);
  });
});

describe('a credential holds its own Looker grant', () => {
  it('a second authorization at Looker, apart from the browser session', async () => {
    const h = createHarness();
    await h.signIn();
    const browserLookerToken = h.tokenResponses[0]!.access_token as string;
    const { credential } = await cliLogin(h);
    expect(h.sim.stats.tokenRequests.authorization_code).toBe(2);
    const credentialLookerToken = h.tokenResponses[1]!.access_token as string;
    expect(credentialLookerToken).not.toBe(browserLookerToken);
    const token = await sdkLogin(h, credential.client_id, credential.client_secret);
    expect(await lookerTokenBehind(h, token)).toBe(credentialLookerToken);
    // And the browser keeps using its own.
    const echoed = (await (await h.request('/api/4.0/echo/browser')).json()) as { headers: Record<string, string> };
    expect(echoed.headers.authorization).toBe(`Bearer ${browserLookerToken}`);
  });

  it('signing the browser out leaves the credential working', async () => {
    const h = createHarness();
    await h.signIn();
    const browserLookerToken = h.tokenResponses[0]!.access_token as string;
    const { credential } = await cliLogin(h);
    const credentialLookerToken = h.tokenResponses[1]!.access_token as string;
    const before = await sdkLogin(h, credential.client_id, credential.client_secret);

    expect((await h.request('/logout', { method: 'POST', headers: { origin: GATEWAY } })).status).toBe(303);
    expect(h.sim.hasAccessToken(browserLookerToken)).toBe(false);
    expect(await (await h.request('/')).text()).toContain('Sign in with Looker');

    expect(h.sim.hasAccessToken(credentialLookerToken)).toBe(true);
    expect((await bearerRequest(h, before, '/api/4.0/user')).status).toBe(200);
    const after = await sdkLogin(h, credential.client_id, credential.client_secret);
    expect((await bearerRequest(h, after, '/api/4.0/user')).status).toBe(200);
  });

  it('revoking the credential leaves the browser signed in', async () => {
    const h = createHarness();
    await h.signIn();
    const browserLookerToken = h.tokenResponses[0]!.access_token as string;
    const { credential } = await cliLogin(h);
    const credentialLookerToken = h.tokenResponses[1]!.access_token as string;
    const token = await sdkLogin(h, credential.client_id, credential.client_secret);

    const res = await revoke(h, credential.client_id, credential.client_secret);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ revoked: true });
    expect(h.sim.hasAccessToken(credentialLookerToken)).toBe(false);
    expect((await bearerRequest(h, token, '/api/4.0/user')).status).toBe(401);

    expect(h.sim.hasAccessToken(browserLookerToken)).toBe(true);
    expect(await (await h.request('/')).text()).toContain('Dana Demo');
    expect((await h.request('/api/4.0/user')).status).toBe(200);
  });

  it('a credential belongs to the Looker person who approved it, whoever started the command line', async () => {
    const h = createHarness({
      sim: { users: [{ id: '42', display_name: 'Dana Demo', email: 'dana.demo@example.com' }, { id: '7', display_name: 'Sam Other', email: 'sam@example.com' }] },
    });
    h.sim.signInAs('7');
    const { credential } = await cliLogin(h);
    expect(credential.user).toEqual({ id: '7', display_name: 'Sam Other', email: 'sam@example.com' });
    const token = await sdkLogin(h, credential.client_id, credential.client_secret);
    expect(await (await bearerRequest(h, token, '/api/4.0/user')).json()).toMatchObject({ id: '7' });
  });
});

describe('CREDENTIAL_TTL_DAYS', () => {
  it('sets the expiry, the KV record lifetime, and when the credential stops working', async () => {
    const h = createHarness({ vars: { CREDENTIAL_TTL_DAYS: '7' } });
    const started = h.clock.ms;
    const { credential } = await cliLogin(h);
    expect(credential.expires_at).toBe(new Date(started + 7 * DAY_MS).toISOString());
    const key = [...(await dumpKv(h.kv)).keys()].find((k) => k.startsWith('credential:'))!;
    expect(h.kv.ttls.get(key)).toBe(7 * 24 * 3600);

    h.clock.advance(7 * 24 * 3600 - 120);
    const late = await sdkLoginResponse(h, credential.client_id, credential.client_secret);
    expect(late.status).toBe(200);
    const { access_token: token, expires_in: expiresIn } = (await late.json()) as { access_token: string; expires_in: number };
    // A gateway token never outlives its credential.
    expect(expiresIn).toBe(120);
    expect((await bearerRequest(h, token, '/api/4.0/user')).status).toBe(200);

    h.clock.advance(120);
    expect((await sdkLoginResponse(h, credential.client_id, credential.client_secret)).status).toBe(404);
    expect((await bearerRequest(h, token, '/api/4.0/user')).status).toBe(401);
    // Another instance, which has to read KV and the ledger, agrees.
    const cold = createHarness({ ...h.share(), vars: { CREDENTIAL_TTL_DAYS: '7' } });
    expect((await sdkLoginResponse(cold, credential.client_id, credential.client_secret)).status).toBe(404);
  });
});

describe('POST /cli/revoke', () => {
  it('needs the secret; ends the credential once; says so when there is nothing to end', async () => {
    const h = createHarness();
    const { credential } = await cliLogin(h);
    const other = (await cliLogin(h)).credential;

    const wrong = await revoke(h, credential.client_id, other.client_secret);
    expect(wrong.status).toBe(200);
    expect(await wrong.json()).toMatchObject({ revoked: false });
    expect(await sdkLogin(h, credential.client_id, credential.client_secret)).toMatch(/^lgwt_/);

    expect(await (await revoke(h, credential.client_id, credential.client_secret)).json()).toEqual({ revoked: true });
    expect(await (await revoke(h, credential.client_id, credential.client_secret)).json()).toMatchObject({ revoked: false });
    expect((await sdkLoginResponse(h, credential.client_id, credential.client_secret)).status).toBe(404);
    // The other credential of the same person lives on.
    expect(await sdkLogin(h, other.client_id, other.client_secret)).toMatch(/^lgwt_/);
  });

  it('revoking in a second instance, which still remembers the credential, ends nothing more and logs no second revocation', async () => {
    const h = createHarness();
    const { credential } = await cliLogin(h);
    const other = createHarness(h.share());
    await sdkLogin(other, credential.client_id, credential.client_secret);
    expect(await (await revoke(h, credential.client_id, credential.client_secret)).json()).toEqual({ revoked: true });
    expect(await (await revoke(other, credential.client_id, credential.client_secret)).json()).toMatchObject({ revoked: false });
    const revocations = [...h.logs, ...other.logs].filter((l) => l.includes('"credential_revoked"'));
    expect(revocations).toHaveLength(1);
  });

  it('refuses a body that is not a form', async () => {
    const h = createHarness();
    const res = await h.request('/cli/revoke', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(400);
  });
});

describe('GET /cli/credential', () => {
  it("describes the bearer token's credential; 401 without a live token", async () => {
    const h = createHarness();
    const { credential } = await cliLogin(h, { name: 'laptop' });
    const created = h.clock.ms;
    const token = await sdkLogin(h, credential.client_id, credential.client_secret);
    h.clock.advance(120);
    const res = await bearerRequest(h, token, '/cli/credential');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({
      client_id: credential.client_id,
      name: 'laptop',
      created_at: new Date(created).toISOString(),
      expires_at: credential.expires_at,
      last_used_at: expect.any(String),
      scope: 'looker:read looker:write',
      user: credential.user,
    });
    const anonymous = await h.request('/cli/credential', { withCookies: false });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ message: 'Requires authentication.', hint: expect.stringContaining('node lgw.mjs login https://gateway.test') });
    expect((await bearerRequest(h, `${token}x`, '/cli/credential')).status).toBe(401);
    await revoke(h, credential.client_id, credential.client_secret);
    expect((await bearerRequest(h, token, '/cli/credential')).status).toBe(401);
  });
});

describe('logs', () => {
  it('name credentials by client_id and never hold a secret, code, gateway token or Looker token', async () => {
    const h = createHarness({ sim: { refreshTokenMode: 'rotate' } });
    const secrets = new Set<string>([SESSION_SECRET]);
    const add = (...values: (string | null | undefined)[]) => values.forEach((v) => v && secrets.add(v));

    // A browser session (the access page needs one).
    const login = await h.request('/login');
    add(loginCookieOf(login).value, new URL(login.headers.get('location')!).searchParams.get('state'));
    await h.request((await h.authorize(login)).replace(GATEWAY, ''));
    add(h.jar.get('__Host-lgw_session'));

    // The loopback flow.
    const loopback = await cliLogin(h, { name: 'laptop' });
    add(loopback.credential.client_secret, loopback.code, loopback.request.verifier, loopback.request.state, loopback.request.challenge);
    // A consent answered with Deny, and its consent cookie.
    const denied = await cliRequest();
    const deniedConsent = await browserToConsent(h, await h.request(denied.authorizePath));
    add(...[...h.jar].filter(([name]) => name.includes('lgw_consent_')).map(([, value]) => value));
    await answerConsent(h, deniedConsent, 'deny');

    // The device flow.
    const device = (await (
      await h.request('/cli/device/code', { method: 'POST', withCookies: false, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=server' })
    ).json()) as { device_code: string; user_code: string };
    add(device.device_code, device.user_code);
    const toLooker = await h.request('/device', {
      method: 'POST',
      headers: { origin: GATEWAY, 'content-type': 'application/x-www-form-urlencoded' },
      body: `user_code=${device.user_code}`,
    });
    await answerConsent(h, await browserToConsent(h, toLooker), 'allow');
    const polled = (await (
      await h.request('/cli/token', {
        method: 'POST',
        withCookies: false,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device.device_code }).toString(),
      })
    ).json()) as { client_id: string; client_secret: string };
    add(polled.client_secret);

    // SDK logins, calls, a refresh, a logout, refusals.
    const token = await sdkLogin(h, loopback.credential.client_id, loopback.credential.client_secret);
    const second = await sdkLogin(h, polled.client_id, polled.client_secret);
    add(token, second);
    await bearerRequest(h, token, '/api/4.0/user');
    h.clock.advance(3590);
    await bearerRequest(h, token, '/api/4.0/user');
    await h.request('/api/logout', { method: 'DELETE', withCookies: false, headers: { authorization: `Bearer ${second}` } });
    await sdkLoginResponse(h, loopback.credential.client_id, polled.client_secret);
    await sdkLoginResponse(h, 'lgwc_made-up', 'lgws_made-up-secret-value');
    await bearerRequest(h, `${token.slice(0, -2)}xx`, '/api/4.0/user');

    // Revoked from the command line, and from the access page.
    await revoke(h, polled.client_id, polled.client_secret);
    const page = await (await h.request('/access')).text();
    const grantId = new RegExp(`${loopback.credential.client_id}[\\s\\S]*?name="grant" value="([^"]+)"`).exec(page)![1]!;
    expect((await h.request('/access/revoke', { method: 'POST', headers: { origin: GATEWAY, 'content-type': 'application/x-www-form-urlencoded' }, body: `grant=${grantId}` })).status).toBe(303);

    for (const body of h.tokenResponses) add(body.access_token as string, body.refresh_token as string);
    for (const request of h.upstream) add(request.headers.get('authorization')?.replace(/^Bearer /, ''));
    expect(h.sim.stats.tokenRequests.refresh_token).toBeGreaterThanOrEqual(1);

    const all = h.logs.join('\n');
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(8);
      expect(all.includes(secret), `a secret (${secret.slice(0, 6)}…) leaked into the logs`).toBe(false);
    }
    expect(all).not.toContain('made-up-secret');

    const lines = h.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    const of = (event: string) => lines.filter((l) => l.event === event);
    expect(of('credential_created').map((l) => l.clientId)).toEqual([loopback.credential.client_id, polled.client_id]);
    expect(of('credential_login').map((l) => l.clientId)).toEqual([loopback.credential.client_id, polled.client_id]);
    expect(of('credential_revoked').map((l) => l.clientId)).toEqual([polled.client_id, loopback.credential.client_id]);
    expect(of('access_token_ended').map((l) => l.clientId)).toEqual([polled.client_id]);
    // A refused login names a well-formed client_id, and nothing made up.
    expect(of('credential_login_refused').map((l) => l.clientId)).toEqual([loopback.credential.client_id, undefined]);
    expect(of('consent_answered').map((l) => l.allowed)).toEqual([true, false, true]);
  });
});
