/**
 * Sign-out that stays signed out. A request in flight when the person signs out — a slow
 * upload, a refresh forced by Looker's 401, a refresh in another isolate — must neither
 * succeed with a new token afterwards nor bring the session back, here or elsewhere, now
 * or later.
 */
import { describe, expect, it } from 'vitest';
import { answerConsent, browserToConsent, cliRequest, createHarness, dumpKv, GATEWAY, gate, ledgerWith, redeemCode } from './helpers.ts';

const signOut = (h: ReturnType<typeof createHarness>, cookie: string) =>
  h.request('/logout', { method: 'POST', headers: { origin: GATEWAY, cookie: `__Host-lgw_session=${cookie}` } });

const withCookie = (h: ReturnType<typeof createHarness>, cookie: string, path = '/api/4.0/user', init: RequestInit = {}) =>
  h.request(path, { ...init, headers: { ...(init.headers as Record<string, string>), cookie: `__Host-lgw_session=${cookie}` } });

/** The old cookie is refused at once, in every instance given, and still a day later. */
async function expectSignedOutForGood(cookie: string, ...instances: ReturnType<typeof createHarness>[]) {
  for (const h of instances) expect((await withCookie(h, cookie)).status).toBe(401);
  instances[0]!.clock.advance(24 * 3600);
  for (const h of instances) expect((await withCookie(h, cookie)).status).toBe(401);
  expect([...(await dumpKv(instances[0]!.kv)).keys()].filter((k) => k.startsWith('session:'))).toEqual([]);
}

describe('sign-out racing a request in flight', () => {
  it('(a) a slow upload: it finishes, and the session stays ended', async () => {
    const h = createHarness();
    await h.signIn();
    const cookie = h.jar.get('__Host-lgw_session')!;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new Uint8Array(100_000));
        await held;
        controller.enqueue(new Uint8Array(100_000));
        controller.close();
      },
    });
    const firstChunk = new Promise<void>((resolve) => (h.sim.hooks.onUploadChunk = () => resolve()));
    const upload = withCookie(h, cookie, '/api/4.0/upload_probe', {
      method: 'POST',
      body,
      headers: { origin: GATEWAY, 'content-type': 'application/octet-stream' },
      // @ts-expect-error: workerd's RequestInit takes duplex for streamed bodies
      duplex: 'half',
    });
    await firstChunk;
    expect((await signOut(h, cookie)).status).toBe(303);
    release();
    const uploaded = await upload;
    // It was authorized when it started; whatever it answers, it cannot renew the session.
    expect([200, 401]).toContain(uploaded.status);
    await uploaded.body?.cancel();
    await expectSignedOutForGood(cookie, h);
  });

  it('(b) a refresh forced by Looker\'s 401: the new tokens are not stored, and are revoked at Looker', async () => {
    const refreshGate = gate();
    let holdRefreshes = false;
    const h = createHarness({ beforeLooker: (request) => (holdRefreshes && request.url.endsWith('/api/token') ? refreshGate.wait() : undefined) });
    await h.signIn();
    const cookie = h.jar.get('__Host-lgw_session')!;
    expect((await withCookie(h, cookie)).status).toBe(200);
    h.sim.revokeAccessToken(h.lastAccessToken()); // an admin revoked it: Looker now answers 401
    holdRefreshes = true;

    const inFlight = withCookie(h, cookie); // 401 from Looker → forced refresh → held at the token endpoint
    await refreshGate.reached;
    expect((await signOut(h, cookie)).status).toBe(303);
    refreshGate.open();
    const res = await inFlight;
    expect(res.status).toBe(401);
    // Looker issued tokens for the refresh; the gateway stored nothing and revoked them at once.
    expect(h.sim.stats.tokenRequests.refresh_token).toBe(1);
    expect(h.sim.liveAccessTokens()).toBe(0);
    await expectSignedOutForGood(cookie, h);
  });

  it('(c) a refresh in another isolate: it cannot store its grant, and both isolates refuse the old cookie', async () => {
    const a = createHarness();
    await a.signIn();
    const cookie = a.jar.get('__Host-lgw_session')!;
    const refreshGate = gate();
    const b = createHarness({ ...a.share(), beforeLooker: (request) => (request.url.endsWith('/api/token') ? refreshGate.wait() : undefined) });
    expect((await withCookie(b, cookie)).status).toBe(200);
    a.clock.advance(3600); // the access token expires: B's next call refreshes

    const inFlight = withCookie(b, cookie);
    await refreshGate.reached;
    expect((await signOut(a, cookie)).status).toBe(303);
    refreshGate.open();
    expect((await inFlight).status).toBe(401);
    expect(a.sim.stats.tokenRequests.refresh_token).toBe(1);
    expect(a.sim.liveAccessTokens()).toBe(0);
    await expectSignedOutForGood(cookie, a, b);
  });

  it('sign-out revokes the access token at Looker, and the refresh token is gone from the gateway', async () => {
    const h = createHarness({ sim: { logoutRevokesRefreshToken: true } });
    await h.signIn();
    const cookie = h.jar.get('__Host-lgw_session')!;
    await withCookie(h, cookie);
    const accessToken = h.lastAccessToken();
    const refreshToken = h.tokenResponses.at(-1)!.refresh_token as string;
    expect(h.sim.hasRefreshToken(refreshToken)).toBe(true);
    expect((await signOut(h, cookie)).status).toBe(303);
    expect(h.sim.hasAccessToken(accessToken)).toBe(false);
    // On a Looker that ties the refresh token to the access token it dies too.
    expect(h.sim.hasRefreshToken(refreshToken)).toBe(false);
    await expectSignedOutForGood(cookie, h);
  });

  it('a sign-out while the ledger cannot be reached says so and keeps the cookie, so the person can try again', async () => {
    let down = false;
    const unavailable = () => Promise.reject(new Error('Durable Object unavailable'));
    const h = createHarness({
      wrapLedger: (ledger) =>
        ledgerWith(ledger, {
          check: (original, ...args) => (down ? unavailable() : original(...args)),
          end: (original, ...args) => (down ? unavailable() : original(...args)),
        }),
    });
    await h.signIn();
    const cookie = h.jar.get('__Host-lgw_session')!;
    h.clock.advance(10); // past the isolate's 5-second trust in its memory
    down = true;
    const res = await signOut(h, cookie);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(h.jar.get('__Host-lgw_session')).toBe(cookie);
    down = false;
    expect((await signOut(h, cookie)).status).toBe(303);
    await expectSignedOutForGood(cookie, h);
  });
});

describe('sign out everywhere also ends what is still on its way', () => {
  it('a credential waiting for consent, and an allowed one the command line has not collected: both end, their Looker tokens revoked', async () => {
    const h = createHarness();
    await h.signIn();
    // One sign-in stops at the consent page; another is allowed but its code not yet traded.
    const waiting = await cliRequest({ name: 'waiting' });
    const waitingConsent = await browserToConsent(h, await h.request(waiting.authorizePath));
    const allowed = await cliRequest({ name: 'allowed' });
    const allowedConsent = await browserToConsent(h, await h.request(allowed.authorizePath));
    const answer = await answerConsent(h, allowedConsent, 'allow');
    const code = new URL(answer.headers.get('location')!).searchParams.get('code')!;
    const live = h.sim.liveAccessTokens();

    const everywhere = await h.request('/access/sign-out-everywhere', { method: 'POST', headers: { origin: GATEWAY } });
    expect(everywhere.status).toBe(303);
    // The browser session's token and the two pending credentials' tokens are revoked at Looker.
    expect(h.sim.liveAccessTokens()).toBe(live - 3);
    expect((await redeemCode(h, { code, code_verifier: allowed.verifier, redirect_uri: allowed.redirectUri })).status).toBe(400);
    await h.signIn();
    expect((await answerConsent(h, waitingConsent, 'allow')).status).toBe(410);
  });
});
