/**
 * Logs are for operators: one structured line per request and one per security event,
 * and never a token, cookie, code, verifier or secret. This runs the whole life of a
 * session — sign-in, API calls, a refresh, a refused CSRF attempt, a failed sign-in,
 * sign-out — and greps everything logged for every secret value that was in play.
 */
import { describe, expect, it } from 'vitest';
import { createHarness, GATEWAY, loginCookieOf, SESSION_SECRET } from './helpers.ts';

describe('logs', () => {
  it('never contain a secret, through a full session', async () => {
    const h = createHarness({ sim: { refreshTokenMode: 'rotate' } });
    const secrets = new Set<string>([SESSION_SECRET]);

    const login = await h.request('/login?return_to=/after');
    const authUrl = new URL(login.headers.get('location')!);
    secrets.add(authUrl.searchParams.get('state')!);
    secrets.add(authUrl.searchParams.get('code_challenge')!);
    secrets.add(loginCookieOf(login).value);
    const back = new URL(await h.authorize(login));
    secrets.add(back.searchParams.get('code')!);
    const callback = await h.request(back.pathname + back.search);
    expect(callback.status).toBe(303);
    secrets.add(h.sim.stats.lastTokenRequest!.params.code_verifier!);
    secrets.add(h.jar.get('__Host-lgw_session')!);

    await h.request('/');
    await h.request('/api/4.0/user');
    await h.request('/api/4.0/echo/x', { method: 'POST', body: '{}', headers: { origin: GATEWAY, 'content-type': 'application/json' } });
    await h.request('/api/4.0/echo/x', { method: 'POST', body: '{}', headers: { origin: 'https://evil.example' } }); // CSRF refusal
    h.clock.advance(3600);
    await h.request('/api/4.0/user'); // refresh
    h.sim.faults.unreachable = true;
    await h.request('/api/4.0/user'); // upstream failure
    h.sim.faults.unreachable = false;
    await h.request('/callback?code=forged-code-value&state=forged-state-value'); // bad state (no login cookie any more)
    await h.request('/logout', { method: 'POST', headers: { origin: GATEWAY } });

    for (const body of h.tokenResponses) {
      for (const field of ['access_token', 'refresh_token']) if (typeof body[field] === 'string') secrets.add(body[field] as string);
    }
    for (const request of h.upstream) {
      const auth = request.headers.get('authorization');
      if (auth !== null) secrets.add(auth.replace(/^Bearer /, ''));
    }
    expect(h.tokenResponses.length).toBe(2); // the sign-in and one refresh
    expect(secrets.size).toBeGreaterThanOrEqual(10);

    const all = h.logs.join('\n');
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(8);
      expect(all.includes(secret), `a secret value leaked into the logs`).toBe(false);
    }
    expect(all).not.toContain('forged-code-value');

    // Every line is one JSON object.
    const lines = h.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    const events = new Set(lines.map((l) => l.event));
    for (const event of ['request', 'sign_in', 'sign_out', 'token_refresh', 'csrf_refused', 'sign_in_bad_state', 'api_upstream_failed']) {
      expect(events.has(event), event).toBe(true);
    }
  });

  it('one line per request: request id, method, route template, path without its query, status, duration, refresh, upstream status', async () => {
    const h = createHarness();
    await h.signIn();
    h.logs.length = 0;
    const res = await h.request('/api/4.0/looks/123?fields=id');
    const lines = h.requestLogs();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      event: 'request',
      requestId: res.headers.get('x-request-id'),
      method: 'GET',
      route: '/api/*',
      path: '/api/4.0/looks/123',
      status: 404,
      refreshed: false,
      upstreamStatus: 404,
      caller: 'browser',
    });
    expect(typeof lines[0]!.durationMs).toBe('number');
    // The query string can carry anything a caller chose to put there: never logged.
    expect(JSON.stringify(lines[0])).not.toContain('fields');
  });

  it("a caller's X-Request-Id is used when well-formed, replaced when not", async () => {
    const h = createHarness();
    await h.signIn();
    for (const [sent, kept] of [['trace-42_a=', true], ['has space', false], ['x'.repeat(256), false]] as const) {
      h.logs.length = 0;
      const res = await h.request('/api/4.0/user', { headers: { 'x-request-id': sent } });
      const id = res.headers.get('x-request-id');
      expect(id === sent, sent).toBe(kept);
      expect(h.requestLogs()[0]).toMatchObject({ requestId: id });
    }
  });
});
