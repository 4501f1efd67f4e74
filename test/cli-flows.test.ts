/**
 * The command line's ways to a credential, end to end in one gateway: the loopback sign-in
 * (what /cli/authorize accepts and refuses, the one-time codes, the consent page between
 * Looker and the credential) and the device sign-in (codes, polling, the /device page).
 */
import { describe, expect, it } from 'vitest';
import {
  answerConsent,
  browserToConsent,
  cliLogin,
  cliRequest,
  createHarness,
  dumpKv,
  GATEWAY,
  type Harness,
  LOOKER,
  pkcePair,
  redeemCode,
  sdkLogin,
  OTHER_SESSION_SECRET,
} from './helpers.ts';

const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

function authorizePath(overrides: Record<string, string | undefined>): string {
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    redirect_uri: 'http://127.0.0.1:53682/callback',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    state: 'cli-state-1',
    ...overrides,
  };
  const query = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined));
  return `/cli/authorize?${query}`;
}

/** Nothing a later step could use was created: no credential record, no credential log line. */
async function expectNoCredential(h: Harness) {
  expect([...(await dumpKv(h.kv)).keys()].filter((k) => k.startsWith('credential:'))).toEqual([]);
  expect(h.logs.some((l) => l.includes('"credential_created"'))).toBe(false);
}

/** The access token Looker issued last (the one a consent holds). */
const lastLookerToken = (h: Harness) => h.tokenResponses.at(-1)!.access_token as string;

describe('/cli/authorize', () => {
  const refused: [string, Record<string, string | undefined>][] = [
    ['redirect_uri on localhost', { redirect_uri: 'http://localhost:53682/callback' }],
    ['redirect_uri on another host', { redirect_uri: 'http://evil.example/callback' }],
    ['redirect_uri on another host, with a port', { redirect_uri: 'http://evil.example:53682/callback' }],
    ['an https loopback', { redirect_uri: 'https://127.0.0.1:53682/callback' }],
    ['a loopback without a port', { redirect_uri: 'http://127.0.0.1/callback' }],
    ['userinfo', { redirect_uri: 'http://user:pw@127.0.0.1:53682/callback' }],
    ['userinfo pointing elsewhere', { redirect_uri: 'http://127.0.0.1:53682@evil.example/callback' }],
    ['a fragment', { redirect_uri: 'http://127.0.0.1:53682/callback#frag' }],
    ['a relative redirect_uri', { redirect_uri: '/callback' }],
    ['no redirect_uri', { redirect_uri: undefined }],
    ['no response_type', { response_type: undefined }],
    ['response_type token', { response_type: 'token' }],
    ['no PKCE', { code_challenge: undefined, code_challenge_method: undefined }],
    ['plain PKCE', { code_challenge_method: 'plain' }],
    ['no code_challenge_method', { code_challenge_method: undefined }],
    ['a code_challenge that is not S256-shaped', { code_challenge: 'short' }],
    ['no state', { state: undefined }],
    ['an empty state', { state: '' }],
  ];
  for (const [what, overrides] of refused) {
    it(`refuses ${what}: a 400 page, never a redirect, nothing started`, async () => {
      const h = createHarness();
      const res = await h.request(authorizePath(overrides));
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(await res.text()).toContain('Cannot sign in the command line');
      // No sign-in cookie: nothing at Looker can come back to this.
      expect(res.headers.getSetCookie()).toEqual([]);
    });
  }

  for (const redirectUri of ['http://127.0.0.1:1/callback', 'http://127.0.0.1:65535/cb', 'http://[::1]:53682/callback', 'http://[::1]:8/']) {
    it(`accepts the loopback ${redirectUri}: off to Looker's sign-in`, async () => {
      const h = createHarness();
      const res = await h.request(authorizePath({ redirect_uri: redirectUri }));
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get('location')!);
      expect(`${location.origin}${location.pathname}`).toBe(`${LOOKER}/auth`);
      // Looker calls the gateway back, never the command line directly.
      expect(location.searchParams.get('redirect_uri')).toBe(`${GATEWAY}/callback`);
      expect(location.searchParams.get('code_challenge')).not.toBe(CHALLENGE);
    });
  }
});

describe('loopback sign-in', () => {
  it('runs from /cli/authorize to the credential, on 127.0.0.1 and on [::1]', async () => {
    for (const host of ['127.0.0.1', '[::1]'] as const) {
      const h = createHarness();
      const { credential } = await cliLogin(h, { host, name: 'laptop' });
      expect(credential.client_id).toMatch(/^lgwc_/);
      expect(credential.name).toBe('laptop');
      expect(await sdkLogin(h, credential.client_id, credential.client_secret)).toMatch(/^lgwt_/);
    }
  });

  it('a name that is missing or unprintable gets a default; a long one is cut to 64 characters', async () => {
    const h = createHarness();
    expect((await cliLogin(h)).credential.name).toBe('command line · 2026-11-28 12:00 UTC');
    expect((await cliLogin(h, { name: '\u0000\u001f  ' })).credential.name).toBe('command line · 2026-11-28 12:00 UTC');
    expect((await cliLogin(h, { name: `a\u0007b${'x'.repeat(100)}` })).credential.name).toBe(`ab${'x'.repeat(62)}`);
  });
});

describe('one-time codes', () => {
  /** Up to Allow: the loopback's code, and what the command line holds. */
  async function allowed(h: Harness) {
    const request = await cliRequest({ name: 'laptop' });
    const consentPath = await browserToConsent(h, await h.request(request.authorizePath));
    const answer = await answerConsent(h, consentPath, 'allow');
    expect(answer.status).toBe(303);
    const code = new URL(answer.headers.get('location')!).searchParams.get('code')!;
    expect(code).toMatch(/^lgwo_/);
    return { request, code };
  }

  const invalidGrant = async (res: Response) => {
    expect(res.status).toBe(400);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
  };

  it('a code works once: the replay is invalid_grant and creates nothing more', async () => {
    const h = createHarness();
    const { request, code } = await allowed(h);
    const fields = { code, code_verifier: request.verifier, redirect_uri: request.redirectUri };
    expect((await redeemCode(h, fields)).status).toBe(200);
    const records = (await dumpKv(h.kv)).size;
    await invalidGrant(await redeemCode(h, fields));
    expect((await dumpKv(h.kv)).size).toBe(records);
    expect(h.logs.filter((l) => l.includes('"credential_created"'))).toHaveLength(1);
  });

  it('a code lives 60 seconds', async () => {
    const h = createHarness();
    const late = await allowed(h);
    h.clock.advance(61);
    await invalidGrant(await redeemCode(h, { code: late.code, code_verifier: late.request.verifier, redirect_uri: late.request.redirectUri }));
    await expectNoCredential(h);

    const inTime = await allowed(h);
    h.clock.advance(59);
    expect((await redeemCode(h, { code: inTime.code, code_verifier: inTime.request.verifier, redirect_uri: inTime.request.redirectUri })).status).toBe(200);
  });

  it('another PKCE verifier is invalid_grant; the code is spent and its Looker token ended', async () => {
    const h = createHarness();
    const { request, code } = await allowed(h);
    const lookerToken = lastLookerToken(h);
    const other = await pkcePair();
    await invalidGrant(await redeemCode(h, { code, code_verifier: other.verifier, redirect_uri: request.redirectUri }));
    await expectNoCredential(h);
    expect(h.sim.hasAccessToken(lookerToken)).toBe(false);
    // Whoever tried first spent it: the right verifier comes too late.
    await invalidGrant(await redeemCode(h, { code, code_verifier: request.verifier, redirect_uri: request.redirectUri }));
    await expectNoCredential(h);
  });

  it('a missing or malformed verifier is invalid_grant', async () => {
    for (const verifier of ['', 'short', 'x'.repeat(43) + ' ']) {
      const h = createHarness();
      const { request, code } = await allowed(h);
      await invalidGrant(await redeemCode(h, { code, code_verifier: verifier, redirect_uri: request.redirectUri }));
      await expectNoCredential(h);
      expect(h.sim.hasAccessToken(lastLookerToken(h))).toBe(false);
    }
  });

  it('another redirect_uri is invalid_grant', async () => {
    const others = (uri: string) => [uri.replace('127.0.0.1', '[::1]'), uri.replace(/:\d+\//, ':1/'), `${uri}/`, ''];
    for (const index of [0, 1, 2, 3]) {
      const h = createHarness();
      const { request, code } = await allowed(h);
      const other = others(request.redirectUri)[index]!;
      await invalidGrant(await redeemCode(h, { code, code_verifier: request.verifier, redirect_uri: other }));
      await expectNoCredential(h);
      expect(h.sim.hasAccessToken(lastLookerToken(h))).toBe(false);
    }
  });

  it('a forged, garbled or foreign code is invalid_grant, and nothing is read for it', async () => {
    const h = createHarness();
    const { request, code } = await allowed(h);
    const flipped = code.slice(0, 12) + (code[12] === 'A' ? 'B' : 'A') + code.slice(13);
    const other = createHarness({ vars: { SESSION_SECRET: OTHER_SESSION_SECRET } });
    const foreign = (await allowed(other)).code;
    for (const forged of [flipped, `${code}x`, code.slice(0, -1), 'lgwo_' + 'A'.repeat(code.length - 5), 'forged-code', '', foreign]) {
      await invalidGrant(await redeemCode(h, { code: forged, code_verifier: request.verifier, redirect_uri: request.redirectUri }));
    }
    await expectNoCredential(h);
    // The real code was not spent by the forgeries.
    expect((await redeemCode(h, { code, code_verifier: request.verifier, redirect_uri: request.redirectUri })).status).toBe(200);
  });

  it('/cli/token refuses what is not a form, and grant types it does not know', async () => {
    const h = createHarness();
    const json = await h.request('/cli/token', {
      method: 'POST',
      withCookies: false,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'authorization_code', code: 'x' }),
    });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ error: 'invalid_request' });
    const other = await h.request('/cli/token', {
      method: 'POST',
      withCookies: false,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=x',
    });
    expect(other.status).toBe(400);
    expect(await other.json()).toMatchObject({ error: 'unsupported_grant_type' });
  });
});

describe('the consent page', () => {
  it('shows the name and the Looker person who signed in, and allows the loopback as a form target', async () => {
    const h = createHarness({
      sim: { users: [{ id: '42', display_name: 'Dana Demo', email: 'dana.demo@example.com' }, { id: '7', display_name: 'Sam Other', email: 'sam@example.com' }] },
    });
    h.sim.signInAs('7');
    const request = await cliRequest({ name: 'build <box>', host: '[::1]', port: 41234 });
    const consentPath = await browserToConsent(h, await h.request(request.authorizePath));
    const page = await h.request(consentPath);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    expect(html).toMatch(/id="credential-name">build &lt;box&gt;</);
    expect(html).toMatch(/id="person">Sam Other</);
    expect(html).toContain('sam@example.com');
    expect(html).not.toContain('Dana Demo');
    // Where the credential goes: the command line's local port, named.
    expect(html).toMatch(/waiting on this computer at port <strong>41234<\/strong>/);
    expect(html).toContain('http://[::1]:41234');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp.split('; ')).toContain("form-action 'self' http://[::1]:41234");
    expect(csp).toContain("default-src 'none'");
  });

  it('Deny: back to the loopback with access_denied and the state; the new Looker token revoked; nothing created', async () => {
    const h = createHarness();
    const request = await cliRequest();
    const consentPath = await browserToConsent(h, await h.request(request.authorizePath));
    const lookerToken = lastLookerToken(h);
    expect(h.sim.hasAccessToken(lookerToken)).toBe(true);
    const denied = await answerConsent(h, consentPath, 'deny');
    expect(denied.status).toBe(303);
    const loopback = new URL(denied.headers.get('location')!);
    expect(`${loopback.origin}${loopback.pathname}`).toBe(request.redirectUri);
    expect(loopback.searchParams.get('error')).toBe('access_denied');
    expect(loopback.searchParams.get('state')).toBe(request.state);
    expect(loopback.searchParams.has('code')).toBe(false);
    expect(h.sim.hasAccessToken(lookerToken)).toBe(false);
    await expectNoCredential(h);
    // The answer is final: the consent is gone.
    expect((await answerConsent(h, consentPath, 'allow')).status).toBe(410);
  });

  for (const [what, headers] of [
    ['without Origin', {}],
    ['from another origin', { origin: 'https://evil.example' }],
    ['with Origin: null and no Sec-Fetch-Site', { origin: 'null' }],
    ['from another site per Sec-Fetch-Site', { 'sec-fetch-site': 'cross-site' }],
  ] as [string, Record<string, string>][]) {
    it(`an answer ${what} is refused (403) and leaves the consent waiting`, async () => {
      const h = createHarness();
      const request = await cliRequest();
      const consentPath = await browserToConsent(h, await h.request(request.authorizePath));
      for (const decision of ['allow', 'deny'] as const) {
        const res = await answerConsent(h, consentPath, decision, headers);
        expect(res.status).toBe(403);
        expect(res.headers.get('location')).toBeNull();
      }
      await expectNoCredential(h);
      expect(h.sim.hasAccessToken(lastLookerToken(h))).toBe(true);
      // The page's own form still works.
      expect((await answerConsent(h, consentPath, 'allow')).status).toBe(303);
    });
  }

  it('a same-origin answer that carries only Sec-Fetch-Site: same-origin is accepted', async () => {
    const h = createHarness();
    const request = await cliRequest();
    const consentPath = await browserToConsent(h, await h.request(request.authorizePath));
    expect((await answerConsent(h, consentPath, 'allow', { origin: 'null', 'sec-fetch-site': 'same-origin' })).status).toBe(303);
  });

  it('another browser (no consent cookie) gets 410, for the page and for an answer', async () => {
    const h = createHarness();
    const request = await cliRequest();
    const consentPath = await browserToConsent(h, await h.request(request.authorizePath));
    const page = await h.request(consentPath, { withCookies: false });
    expect(page.status).toBe(410);
    expect(await page.text()).not.toContain('Dana Demo');
    const answer = await h.request(consentPath, {
      method: 'POST',
      withCookies: false,
      headers: { origin: GATEWAY, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'decision=allow',
    });
    expect(answer.status).toBe(410);
    expect(answer.headers.get('location')).toBeNull();
    await expectNoCredential(h);
  });

  it("one consent's cookie does not open another consent", async () => {
    const h = createHarness();
    const first = await browserToConsent(h, await h.request((await cliRequest()).authorizePath));
    const second = await browserToConsent(h, await h.request((await cliRequest()).authorizePath));
    const cookieOf = (path: string) => [...h.jar].find(([name]) => name.endsWith(`lgw_consent_${path.split('/').at(-1)}`))!;
    const [, firstValue] = cookieOf(first);
    const [secondName] = cookieOf(second);
    const crossed = { cookie: `${secondName}=${firstValue}` };
    expect((await h.request(second, { headers: crossed })).status).toBe(410);
    expect((await h.request(second)).status).toBe(200);
    expect((await answerConsent(h, second, 'allow', { origin: GATEWAY, ...crossed })).status).toBe(410);
    await expectNoCredential(h);
  });

  it('a consent expires after ten minutes; its Looker token is not handed to anyone', async () => {
    const h = createHarness();
    const request = await cliRequest();
    const consentPath = await browserToConsent(h, await h.request(request.authorizePath));
    h.clock.advance(601);
    expect((await h.request(consentPath)).status).toBe(410);
    expect((await answerConsent(h, consentPath, 'allow')).status).toBe(410);
    await expectNoCredential(h);
  });
});

describe('device sign-in', () => {
  interface DeviceCode {
    device_code: string;
    user_code: string;
    verification_uri: string;
    verification_uri_complete?: string;
    expires_in: number;
    interval: number;
  }

  async function startDevice(h: Harness, name = 'build server', scope?: string): Promise<DeviceCode> {
    const res = await h.request('/cli/device/code', {
      method: 'POST',
      withCookies: false,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name, ...(scope === undefined ? {} : { scope }) }).toString(),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    return (await res.json()) as DeviceCode;
  }

  async function poll(h: Harness, deviceCode: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await h.request('/cli/token', {
      method: 'POST',
      withCookies: false,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode }).toString(),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  const enterCode = (h: Harness, typed: string, headers: Record<string, string> = { origin: GATEWAY }) =>
    h.request('/device', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ user_code: typed }).toString(),
    });

  it('code → pending → slow_down → the person enters the code, signs in, allows → the next poll gets the credential, once', async () => {
    const h = createHarness();
    const device = await startDevice(h);
    expect(device).toMatchObject({
      device_code: expect.stringMatching(/^lgwd_/),
      user_code: expect.stringMatching(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/),
      verification_uri: `${GATEWAY}/device`,
      expires_in: 600,
      interval: 5,
    });
    // No pre-filled link: the person types the code their own device shows.
    expect(device).not.toHaveProperty('verification_uri_complete');

    expect(await poll(h, device.device_code)).toMatchObject({ status: 400, body: { error: 'authorization_pending' } });
    // Polling again at once: slow down, by five seconds.
    const tooFast = await poll(h, device.device_code);
    expect(tooFast).toMatchObject({ status: 400, body: { error: 'slow_down' } });
    expect(tooFast.body.error_description).toContain('10 seconds');
    h.clock.advance(10);
    expect(await poll(h, device.device_code)).toMatchObject({ body: { error: 'authorization_pending' } });
    // The new interval holds: 5 seconds is now too fast.
    h.clock.advance(5);
    const again = await poll(h, device.device_code);
    expect(again.body.error).toBe('slow_down');
    expect(again.body.error_description).toContain('15 seconds');

    // The person, in any browser: a code in the address is not filled in (it must come from their own device's screen).
    const page = await h.request(`/device?user_code=${encodeURIComponent(device.user_code)}`);
    expect(page.status).toBe(200);
    const entry = await page.text();
    expect(entry).not.toContain(device.user_code);
    expect(entry).toContain('value=""');
    expect(page.headers.get('content-security-policy')).toContain(`form-action 'self' ${LOOKER}`);
    const toLooker = await enterCode(h, device.user_code.toLowerCase().replace('-', ''));
    expect(toLooker.status).toBe(303);
    expect(toLooker.headers.get('location')).toMatch(new RegExp(`^${LOOKER}/auth\\?`));
    const consentPath = await browserToConsent(h, toLooker);
    const consent = await (await h.request(consentPath)).text();
    expect(consent).toContain('build server');
    expect(consent).toContain(device.user_code);
    const done = await answerConsent(h, consentPath, 'allow');
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('Device allowed');

    h.clock.advance(15);
    const collected = await poll(h, device.device_code);
    expect(collected.status).toBe(200);
    expect(collected.body).toMatchObject({
      client_id: expect.stringMatching(/^lgwc_/),
      client_secret: expect.stringMatching(/^lgws_/),
      name: 'build server',
      scope: 'looker:read looker:write',
      user: { id: '42', display_name: 'Dana Demo' },
    });
    expect(await sdkLogin(h, collected.body.client_id as string, collected.body.client_secret as string)).toMatch(/^lgwt_/);

    h.clock.advance(15);
    expect(await poll(h, device.device_code)).toMatchObject({ status: 400, body: { error: 'expired_token' } });
    expect(h.logs.filter((l) => l.includes('"credential_created"'))).toHaveLength(1);
  });

  it('scope=looker:read: the consent page asks to read only, and the collected credential is read-only', async () => {
    const h = createHarness();
    const device = await startDevice(h, 'reporting box', 'looker:read');
    const consentPath = await browserToConsent(h, await enterCode(h, device.user_code));
    expect(await (await h.request(consentPath)).text()).toContain('It asks to <strong>read your Looker data</strong>');
    expect((await answerConsent(h, consentPath, 'allow')).status).toBe(200);
    h.clock.advance(5);
    const collected = await poll(h, device.device_code);
    expect(collected.body).toMatchObject({ name: 'reporting box', scope: 'looker:read' });
    const token = await sdkLogin(h, collected.body.client_id as string, collected.body.client_secret as string);
    const res = await h.request('/api/4.0/echo/looks', { method: 'POST', withCookies: false, headers: { authorization: `Bearer ${token}` }, body: '{}' });
    expect(res.status).toBe(403);
  });

  it('the consent page says where and when the device asked, that the device chose its name, and not to go on with a code someone sent', async () => {
    const h = createHarness();
    const res = await h.request('/cli/device/code', {
      method: 'POST',
      withCookies: false,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'cf-connecting-ip': '203.0.113.7' },
      body: new URLSearchParams({ name: 'Looker for Slack (IT approved)' }).toString(),
      cf: { country: 'DE', city: 'Berlin' },
    });
    const device = (await res.json()) as DeviceCode;
    h.clock.advance(180);
    // The person is elsewhere: what they are shown is the requester's network, not their own.
    const toLooker = await h.request('/device', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: GATEWAY, 'cf-connecting-ip': '198.51.100.20' },
      body: new URLSearchParams({ user_code: device.user_code }).toString(),
      cf: { country: 'FR', city: 'Paris' },
    });
    const consentPath = await browserToConsent(h, toLooker);
    const page = await h.request(consentPath);
    const html = await page.text();
    expect(html).toContain('Looker for Slack (IT approved)');
    expect(html).toMatch(/a name the device\s+chose, not one the gateway checked/);
    expect(html).toContain('203.0.113.7 (Berlin, DE)');
    expect(html).not.toContain('Paris');
    expect(html).toContain('<time datetime="2026-11-28T12:00:00.000Z">2026-11-28 12:00 UTC</time> (3 minutes ago)');
    expect(html).toContain(device.user_code);
    expect(html).toMatch(/If someone sent you a link or a code,\s+or asked you to enter one, choose Deny/);
  });

  it('a device sign-in started on this machine (development) shows no made-up location', async () => {
    const h = createHarness();
    const res = await h.request('/cli/device/code', {
      method: 'POST',
      withCookies: false,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'cf-connecting-ip': '127.0.0.1' },
      body: 'name=laptop',
      cf: { country: 'US', city: 'Austin' },
    });
    const device = (await res.json()) as DeviceCode;
    const html = await (await h.request(await browserToConsent(h, await enterCode(h, device.user_code)))).text();
    expect(html).toContain('this computer (127.0.0.1)');
    expect(html).not.toContain('Austin');
  });

  it('the code may be typed in any case, with or without its dash or spaces', async () => {
    const h = createHarness();
    const { user_code: code } = await startDevice(h);
    const letters = code.replace('-', '');
    for (const typed of [code, code.toLowerCase(), letters, letters.toLowerCase(), ` ${letters.slice(0, 4)} ${letters.slice(4)} `]) {
      const res = await enterCode(h, typed);
      expect(res.status, typed).toBe(303);
      expect(res.headers.get('location')).toMatch(new RegExp(`^${LOOKER}/auth\\?`));
    }
  });

  it('Deny: the poll gets access_denied, then expired_token; the Looker token is revoked; nothing created', async () => {
    const h = createHarness();
    const device = await startDevice(h);
    const consentPath = await browserToConsent(h, await enterCode(h, device.user_code));
    const lookerToken = lastLookerToken(h);
    const denied = await answerConsent(h, consentPath, 'deny');
    expect(denied.status).toBe(200);
    expect(await denied.text()).toContain('Nothing was created');
    expect(h.sim.hasAccessToken(lookerToken)).toBe(false);
    expect(await poll(h, device.device_code)).toMatchObject({ status: 400, body: { error: 'access_denied' } });
    h.clock.advance(5);
    expect(await poll(h, device.device_code)).toMatchObject({ status: 400, body: { error: 'expired_token' } });
    await expectNoCredential(h);
    // The code cannot be entered again.
    expect((await enterCode(h, device.user_code)).status).toBe(400);
  });

  it('an unknown or malformed code at /device: a 400 page that keeps what was typed, no sign-in started', async () => {
    const h = createHarness();
    await startDevice(h);
    for (const typed of ['BBBB-BBBB', 'AEIO-UAEI', 'nope', '', '<b>BCDF</b>']) {
      const res = await enterCode(h, typed);
      expect(res.status, typed).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      const html = await res.text();
      expect(html).toContain('That code is unknown or has expired');
      expect(html).not.toContain('<b>BCDF');
      expect(res.headers.getSetCookie().filter((c) => c.includes('lgw_login_'))).toEqual([]);
    }
  });

  it('a code entered from another site, or without Origin, is refused (403)', async () => {
    const h = createHarness();
    const device = await startDevice(h);
    expect((await enterCode(h, device.user_code, {})).status).toBe(403);
    expect((await enterCode(h, device.user_code, { origin: 'https://evil.example' })).status).toBe(403);
  });

  it('after 600 seconds: expired_token for the command line, unknown at /device', async () => {
    const h = createHarness();
    const device = await startDevice(h);
    expect((await poll(h, device.device_code)).body.error).toBe('authorization_pending');
    h.clock.advance(599);
    expect((await poll(h, device.device_code)).body.error).toBe('authorization_pending');
    h.clock.advance(1);
    expect(await poll(h, device.device_code)).toMatchObject({ status: 400, body: { error: 'expired_token' } });
    expect((await enterCode(h, device.user_code)).status).toBe(400);
  });

  it('a device code the gateway did not issue is expired_token', async () => {
    const h = createHarness();
    const device = await startDevice(h);
    const flipped = device.device_code.slice(0, 10) + (device.device_code[10] === 'A' ? 'B' : 'A') + device.device_code.slice(11);
    for (const forged of [flipped, 'lgwd_x', '']) {
      expect(await poll(h, forged)).toMatchObject({ status: 400, body: { error: 'expired_token' } });
    }
  });
});

describe('GET /cli.mjs', () => {
  it('serves the command line as JavaScript', async () => {
    const h = createHarness();
    const res = await h.request('/cli.mjs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    const source = await res.text();
    expect(source.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(source.length).toBeGreaterThan(1000);
  });
});
