import { describe, expect, it } from 'vitest';
import { createHarness, dumpKv, loginCookieOf, setCookies } from './helpers.ts';


function expectNoSession(res: Response) {
  expect(setCookies(res).get('__Host-lgw_session')).toBeUndefined();
}

describe('GET /callback refuses', () => {
  it('a callback without the login cookie', async () => {
    const h = createHarness();
    const { path } = await h.startSignIn();
    h.jar.clear();
    const res = await h.request(path);
    expect(res.status).toBe(400);
    const body = await res.text();
    expect(body).toContain('Sign in again');
    expect(body).toContain('href="/login"');
    expectNoSession(res);
    expect(h.sim.stats.tokenRequests.authorization_code).toBe(0);
    expect(h.logs.some((l) => l.includes('sign_in_bad_state') && l.includes('no login cookie for this state'))).toBe(true);
  });

  it('a forged state, which finds no sign-in; the genuine answer still completes', async () => {
    const h = createHarness();
    const { back, path } = await h.startSignIn();
    const forged = new URL(back);
    forged.searchParams.set('state', 'forged-state-forged-state-forged-state-x');
    const res = await h.request(forged.pathname + forged.search);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Sign in again');
    expectNoSession(res);
    expect(setCookies(res).size).toBe(0); // the real sign-in's cookie is left alone
    expect(h.sim.stats.tokenRequests.authorization_code).toBe(0);
    // Nothing is stored for a sign-in in progress: it lives in its sealed cookie.
    expect((await dumpKv(h.kv)).size).toBe(0);
    // A forged answer cannot cancel the sign-in the browser really started.
    expect((await h.request(path)).status).toBe(303);
  });

  it('a login cookie presented under another sign-in\'s name (it opens only under its own state and name)', async () => {
    const h = createHarness();
    const first = await h.startSignIn();
    const second = await h.startSignIn();
    const firstCookie = loginCookieOf(first.login);
    const secondCookie = loginCookieOf(second.login);
    // The first sign-in's token under the name the second state leads to.
    const res = await h.request(second.path, { headers: { cookie: `${secondCookie.name}=${firstCookie.value}` } });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Sign in again');
    expectNoSession(res);
    expect(h.sim.stats.tokenRequests.authorization_code).toBe(0);
    expect(h.logs.some((l) => l.includes('sign_in_bad_state') && l.includes('does not match'))).toBe(true);
    // The cookie under the second's name was cleared (single use), so the second sign-in
    // cannot complete now; the first's own cookie was never presented and still works.
    expect(setCookies(res).get(secondCookie.name)!.attributes.map((a) => a.toLowerCase())).toContain('max-age=0');
    expect((await h.request(second.path)).status).toBe(400);
    expect((await h.request(first.path)).status).toBe(303);
  });

  it('a missing state', async () => {
    const h = createHarness();
    const { back } = await h.startSignIn();
    back.searchParams.delete('state');
    const res = await h.request(back.pathname + back.search);
    expect(res.status).toBe(400);
    expect(h.logs.some((l) => l.includes('sign_in_bad_state') && l.includes('no state'))).toBe(true);
  });

  it('a replayed callback: the browser dropped the login cookie, and Looker refuses a used code', async () => {
    const h = createHarness();
    const { login, path } = await h.startSignIn();
    const loginCookie = loginCookieOf(login);
    const first = await h.request(path);
    expect(first.status).toBe(303);
    expect(setCookies(first).get(loginCookie.name)!.attributes.map((a) => a.toLowerCase())).toContain('max-age=0');
    // As the browser sends it afterwards: without the login cookie.
    expect((await h.request(path)).status).toBe(400);
    // Someone who kept a copy of the HttpOnly cookie and the callback URL: Looker's code is single use.
    const replay = await h.request(path, { headers: { cookie: `${loginCookie.name}=${loginCookie.value}` } });
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('Looker refused the sign-in code');
    expectNoSession(replay);
  });

  it('an expired login entry', async () => {
    const h = createHarness();
    const { path } = await h.startSignIn();
    h.clock.advance(601);
    const res = await h.request(path);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('expired');
    expect(h.sim.stats.tokenRequests.authorization_code).toBe(0);
  });

  it('a garbage login cookie', async () => {
    const h = createHarness();
    const { login, path } = await h.startSignIn();
    const { name } = loginCookieOf(login);
    for (const value of ['x', 'A'.repeat(43), '%00%00', 'A'.repeat(5000)]) {
      const res = await h.request(path, { headers: { cookie: `${name}=${value}` } });
      expect(res.status).toBe(400);
    }
  });

  it('a callback without a code', async () => {
    const h = createHarness();
    const { back } = await h.startSignIn();
    back.searchParams.delete('code');
    const res = await h.request(back.pathname + back.search);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('no authorization code');
  });
});

describe("Looker's error answers on /callback", () => {
  const cases: [string, number, string][] = [
    ['access_denied', 403, 'Access was denied'],
    ['invalid_scope', 400, 'LOOKER_SCOPE'],
    ['invalid_request', 400, 'redirect URI'],
    ['server_error', 400, 'error: server_error'],
    ['<b>evil</b>', 400, 'error: unknown_error'],
  ];
  for (const [error, status, text] of cases) {
    it(`error=${error} → ${status}`, async () => {
      const h = createHarness();
      const { back } = await h.startSignIn();
      const res = await h.request(
        `/callback?error=${encodeURIComponent(error)}&error_description=${encodeURIComponent('Call +1-555 now <script>')}&state=${back.searchParams.get('state')}`,
      );
      expect(res.status).toBe(status);
      const body = await res.text();
      expect(body).toContain(text);
      expect(body).toContain('Try again');
      expect(body).not.toContain('<b>evil</b>');
      expect(body).not.toContain('555'); // Looker's free text is not echoed (content injection)
      expectNoSession(res);
      expect(await dumpKv(h.kv)).toEqual(new Map()); // the pending login is consumed
    });
  }

  it('the consent page "Deny" comes back as access_denied', async () => {
    const h = createHarness({ sim: { autoApprove: false } });
    const login = await h.request('/login');
    const consent = await h.sim.fetch(login.headers.get('location')!);
    expect(consent.status).toBe(200);
    const form = new URLSearchParams();
    for (const m of (await consent.text()).matchAll(/name="([^"]+)" value="([^"]*)"/g)) {
      form.set(m[1]!, m[2]!.replaceAll('&amp;', '&'));
    }
    form.set('decision', 'deny');
    const decision = await h.sim.fetch('https://looker.test/auth/decision', { method: 'POST', body: form });
    const back = new URL(decision.headers.get('location')!);
    expect(back.searchParams.get('error')).toBe('access_denied');
    const res = await h.request(back.pathname + back.search);
    expect(res.status).toBe(403);
  });
});

describe('token endpoint failures on /callback', () => {
  const refused: [string, 'oauth' | 'looker' | 'html'][] = [
    ['OAuth-style', 'oauth'],
    ['Looker-style', 'looker'],
    ['HTML', 'html'],
  ];
  for (const [name, shape] of refused) {
    it(`a refused code (${name} 4xx body) → 400 with "sign in again"`, async () => {
      const h = createHarness({ sim: { tokenErrorShape: shape, codeTtlSeconds: 5 } });
      const { path } = await h.startSignIn();
      h.clock.advance(10); // the code expires at Looker, the login entry does not
      const res = await h.request(path);
      expect(res.status).toBe(400);
      const body = await res.text();
      expect(body).toContain('refused the sign-in code');
      expect(body).toContain('Sign in again');
      expectNoSession(res);
    });
  }

  it('Looker 5xx → 502', async () => {
    const h = createHarness();
    const { path } = await h.startSignIn();
    h.sim.faults.token = 'down';
    const res = await h.request(path);
    expect(res.status).toBe(502);
    expect(await res.text()).toContain('Looker could not be reached');
    expectNoSession(res);
  });

  it('Looker unreachable → 502', async () => {
    const h = createHarness();
    const { path } = await h.startSignIn();
    h.sim.faults.unreachable = true;
    const res = await h.request(path);
    expect(res.status).toBe(502);
    expectNoSession(res);
  });

  it('Looker hanging → 504 after the timeout', async () => {
    const h = createHarness({ lookerTimeoutMs: 100 });
    const { path } = await h.startSignIn();
    h.sim.faults.token = 'hang';
    const res = await h.request(path);
    expect(res.status).toBe(504);
    expect(await res.text()).toContain('did not answer in time');
    expectNoSession(res);
  });

  it('Looker answering 200 with HTML → 502', async () => {
    const h = createHarness();
    const { path } = await h.startSignIn();
    h.sim.faults.token = 'html-200';
    const res = await h.request(path);
    expect(res.status).toBe(502);
    expectNoSession(res);
  });

  it('no page ever shows a stack trace, code or verifier', async () => {
    const h = createHarness();
    const { path } = await h.startSignIn();
    h.sim.faults.token = 'down';
    const body = await (await h.request(path)).text();
    const code = new URL(path, 'https://x').searchParams.get('code')!;
    expect(body).not.toContain(code);
    expect(body).not.toMatch(/at .*\.ts:\d+/);
    expect(h.logs.join('\n')).not.toContain(code);
  });
});
