import { describe, expect, it } from 'vitest';
import { MAX_PENDING_LOGINS } from '../src/callers/cookies.ts';
import { CLIENT_ID, createHarness, dumpKv, GATEWAY, LOOKER, LOOKER_API, loginCookieOf, setCookies } from './helpers.ts';

describe('GET /login', () => {
  it('redirects to Looker /auth with every PKCE parameter; the pending login lives sealed in its cookie, nothing in KV', async () => {
    const h = createHarness();
    const res = await h.request('/login?return_to=/dashboards/7?tab=2');
    expect(res.status).toBe(302);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const auth = new URL(res.headers.get('location')!);
    expect(`${auth.origin}${auth.pathname}`).toBe(`${LOOKER}/auth`);
    const q = auth.searchParams;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe(CLIENT_ID);
    expect(q.get('redirect_uri')).toBe(`${GATEWAY}/callback`);
    expect(q.get('scope')).toBe('cors_api');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('state')!.length).toBeGreaterThanOrEqual(22); // ≥ 128 bits in base64url

    const cookie = loginCookieOf(res);
    expect(cookie.name).toMatch(/^__Host-lgw_login_[A-Za-z0-9_-]{12}$/);
    expect(cookie.name).not.toContain(q.get('state')!.slice(0, 12)); // named by a hash of the state
    expect(cookie.value).toMatch(/^v2\.[A-Za-z0-9_-]+$/);
    const attrs = cookie.attributes.map((a) => a.toLowerCase());
    expect(attrs).toEqual(expect.arrayContaining(['httponly', 'secure', 'samesite=lax', 'path=/', 'max-age=600']));
    expect(attrs.some((a) => a.startsWith('domain='))).toBe(false);
    // Sealed: neither the state, the challenge nor where to go next can be read from it.
    for (const secret of [q.get('state')!, q.get('code_challenge')!, '/dashboards/7', 'dashboards']) {
      expect(cookie.value).not.toContain(secret);
    }
    expect((await dumpKv(h.kv)).size).toBe(0);
  });

  it('uses a fresh state, verifier and login cookie every time', async () => {
    const h = createHarness();
    const a = await h.request('/login', { withCookies: false });
    const b = await h.request('/login', { withCookies: false });
    const qa = new URL(a.headers.get('location')!).searchParams;
    const qb = new URL(b.headers.get('location')!).searchParams;
    expect(qa.get('state')).not.toBe(qb.get('state'));
    expect(qa.get('code_challenge')).not.toBe(qb.get('code_challenge'));
    expect(loginCookieOf(a).value).not.toBe(loginCookieOf(b).value);
    expect(loginCookieOf(a).name).not.toBe(loginCookieOf(b).name);
  });

  it('honours LOOKER_SCOPE', async () => {
    const h = createHarness({ vars: { LOOKER_SCOPE: 'cors_api extra' } });
    const res = await h.request('/login');
    expect(new URL(res.headers.get('location')!).searchParams.get('scope')).toBe('cors_api extra');
  });
});

describe('GET /callback', () => {
  it('exchanges the code, stores a sealed session and redirects to return_to', async () => {
    const h = createHarness();
    const res = await h.signIn('/dashboards/7?tab=2');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/dashboards/7?tab=2');

    // The token request followed Looker's protocol exactly.
    const sent = h.sim.stats.lastTokenRequest!;
    expect(sent.contentType).toBe('application/x-www-form-urlencoded');
    expect(sent.hadAuthorization).toBe(false);
    expect(Object.keys(sent.params).sort()).toEqual(['client_id', 'code', 'code_verifier', 'grant_type', 'redirect_uri']);
    expect(sent.params.grant_type).toBe('authorization_code');
    expect(sent.params.client_id).toBe(CLIENT_ID);
    expect(sent.params.redirect_uri).toBe(`${GATEWAY}/callback`);
    expect(sent.params.code_verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sent.params.code_verifier).not.toMatch(/^[0-9a-f]{64}$/);
    const tokenRequest = h.upstream.find((r) => r.url.endsWith('/api/token'))!;
    expect(tokenRequest.url).toBe(`${LOOKER_API}/api/token`);
    expect(tokenRequest.method).toBe('POST');

    const cookies = setCookies(res);
    const session = cookies.get('__Host-lgw_session')!;
    // 256 random bits and a 96-bit MAC, base64url.
    expect(session.value).toMatch(/^[A-Za-z0-9_-]{59}$/);
    const attrs = session.attributes.map((a) => a.toLowerCase());
    expect(attrs).toEqual(expect.arrayContaining(['httponly', 'secure', 'samesite=lax', 'path=/', `max-age=${30 * 24 * 3600}`]));
    // The login cookie is cleared.
    const cleared = [...cookies].filter(([name]) => name.startsWith('__Host-lgw_login_'));
    expect(cleared).toHaveLength(1);
    expect(cleared[0]![1].attributes.map((a) => a.toLowerCase())).toContain('max-age=0');
    expect([...h.jar.keys()].filter((name) => name.includes('lgw_login'))).toEqual([]);

    // KV: only the session, under a hash, sealed; no raw token, session id or Looker token anywhere.
    const kv = await dumpKv(h.kv);
    expect([...kv.keys()]).toEqual([expect.stringMatching(/^session:[0-9a-f]{64}$/)]);
    const stored = [...kv].join('\n');
    expect(stored).not.toContain(session.value);
    expect(stored).not.toContain(sent.params.code!);
    expect(stored).not.toContain(sent.params.code_verifier!);
    expect(stored).not.toMatch(/access|refresh|Bearer/i);
  });

  it('never stores a Looker token in the clear', async () => {
    const h = createHarness();
    await h.signIn();
    // Find the tokens by asking the gateway to use them: the user call carries the bearer.
    await h.request('/');
    const accessToken = h.lastAccessToken();
    const kv = [...(await dumpKv(h.kv))].join('\n');
    expect(accessToken.length).toBeGreaterThan(10);
    expect(kv).not.toContain(accessToken);
  });

  it('issues a new session token on every sign-in and deletes the previous session', async () => {
    const h = createHarness();
    await h.signIn();
    const first = h.jar.get('__Host-lgw_session')!;
    const second = await h.signIn();
    expect(second.status).toBe(303);
    const next = h.jar.get('__Host-lgw_session')!;
    expect(next).not.toBe(first);
    const kv = await dumpKv(h.kv);
    expect([...kv.keys()].filter((k) => k.startsWith('session:'))).toHaveLength(1);
    // The old cookie no longer signs anyone in.
    const old = await h.request('/', { headers: { cookie: `__Host-lgw_session=${first}` } });
    expect(await old.text()).toContain('Sign in with Looker');
  });

  it('parses Looker\'s lenient "?&code=" callback form', async () => {
    const h = createHarness();
    const login = await h.request('/login');
    const back = new URL(await h.authorize(login));
    const res = await h.request(`/callback?&${back.searchParams.toString()}`);
    expect(res.status).toBe(303);
  });
});

describe('GET / (home)', () => {
  it('signed out: explains the gateway and offers sign-in', async () => {
    const h = createHarness();
    const res = await h.request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const body = await res.text();
    expect(body).toContain('Sign in with Looker');
    expect(body).toContain('href="/login"');
  });

  it('signed in: shows the Looker user, token expiry and a sign-out button', async () => {
    const h = createHarness();
    await h.signIn();
    const res = await h.request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await res.text();
    expect(body).toContain('Dana Demo');
    expect(body).toContain('dana.demo@example.com');
    expect(body).toMatch(/id="user-id">42</);
    // Dates on the pages: UTC to the minute (the harness's clock starts at 2026-11-28 12:00 UTC).
    expect(body).toContain('Access token expires <time datetime="2026-11-28T13:00:00.000Z">2026-11-28 13:00 UTC</time>');
    // The command line as the gateway serves it: no instruction that would ask the public npm registry.
    expect(body).toContain(`node lgw.mjs login ${GATEWAY}`);
    expect(body).not.toContain('npx');
    expect(body).toMatch(/<form method="post" action="\/logout"/);
    expect(body).toContain('href="/access"');
    const userCall = h.upstream.find((r) => r.url.includes('/api/4.0/user'))!;
    expect(userCall.url).toBe(`${LOOKER_API}/api/4.0/user?fields=id,display_name,email`);
    expect(userCall.headers.get('authorization')).toMatch(/^Bearer /);
  });

  it('escapes what Looker says about the user', async () => {
    const h = createHarness({ sim: { user: { id: '7', display_name: '<script>alert(1)</script>', email: 'x@y' } } });
    await h.signIn();
    const body = await (await h.request('/')).text();
    expect(body).not.toContain('<script>alert(1)</script>');
    expect(body).toContain('&lt;script&gt;');
  });

  it('says Looker is unreachable (502) without signing the user out', async () => {
    const h = createHarness();
    await h.signIn();
    h.sim.faults.api = 'down';
    const res = await h.request('/');
    expect(res.status).toBe(502);
    expect(await res.text()).toContain('could not be reached');
    h.sim.faults.api = 'ok';
    expect((await h.request('/')).status).toBe(200);
  });

  it('answers 504 when Looker hangs', async () => {
    const h = createHarness({ lookerTimeoutMs: 100 });
    await h.signIn();
    h.sim.faults.api = 'hang';
    const res = await h.request('/');
    expect(res.status).toBe(504);
    expect(await res.text()).toContain('did not answer in time');
  });
});

describe('sign-ins started in several tabs of one browser', () => {
  const loginCookiesIn = (jar: Map<string, string>) => [...jar.keys()].filter((name) => name.startsWith('__Host-lgw_login_'));

  it('each finishes, in any order: a second sign-in does not overwrite the first one\'s cookie', async () => {
    const h = createHarness();
    const a = await h.startSignIn('/a');
    const b = await h.startSignIn('/b');
    expect(loginCookiesIn(h.jar)).toHaveLength(2);

    const finishB = await h.request(b.path);
    expect(finishB.status).toBe(303);
    expect(finishB.headers.get('location')).toBe('/b');
    const finishA = await h.request(a.path);
    expect(finishA.status).toBe(303);
    expect(finishA.headers.get('location')).toBe('/a');

    expect(loginCookiesIn(h.jar)).toEqual([]);
    // The later sign-in replaced the earlier session: one session in KV, no pending logins, and it works.
    const kv = await dumpKv(h.kv);
    expect([...kv.keys()]).toEqual([expect.stringMatching(/^session:/)]);
    expect((await h.request('/api/4.0/user')).status).toBe(200);
  });

  it(`keeps at most ${MAX_PENDING_LOGINS} in progress, dropping the oldest`, async () => {
    const h = createHarness();
    const started = [];
    for (let i = 0; i < MAX_PENDING_LOGINS + 2; i++) started.push(await h.startSignIn(`/tab/${i}`));
    expect(loginCookiesIn(h.jar)).toHaveLength(MAX_PENDING_LOGINS);

    // The two oldest lost their cookies: they end on "sign in again", and take nothing with them.
    for (const old of started.slice(0, 2)) {
      const res = await h.request(old.path);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('Sign in again');
    }
    for (const [i, kept] of started.slice(2).entries()) {
      const res = await h.request(kept.path);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`/tab/${i + 2}`);
    }
    expect(loginCookiesIn(h.jar)).toEqual([]);
  });
});

describe('security headers', () => {
  it('pages forbid framing, sniffing, inline code and cross-origin referrers', async () => {
    const h = createHarness();
    for (const path of ['/', '/callback', '/login', '/nope']) {
      const res = await h.request(path);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('same-origin');
      const csp = res.headers.get('content-security-policy') ?? `missing on ${path}`;
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
    }
  });

  it('serves its stylesheet', async () => {
    const h = createHarness();
    const res = await h.request('/assets/style.css');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/css/);
  });
});
