import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.ts';
import { createHarness, SESSION_SECRET } from './helpers.ts';

describe('configuration errors', () => {
  it('every request answers 500 naming each bad variable, never its value', async () => {
    const h = createHarness({
      vars: {
        LOOKER_URL: 'not a url',
        LOOKER_CLIENT_ID: undefined,
        SESSION_SECRET: 'short-secret-value',
        GATEWAY_URL: 'https://gw.example/some/path',
      },
    });
    for (const path of ['/', '/login', '/callback?code=x&state=y']) {
      const res = await h.request(path);
      expect(res.status).toBe(500);
      const body = await res.text();
      expect(body).toContain('LOOKER_URL');
      expect(body).toContain('LOOKER_CLIENT_ID');
      expect(body).toContain('SESSION_SECRET');
      expect(body).toContain('GATEWAY_URL');
      expect(body).not.toContain('short-secret-value');
      expect(body).not.toContain('not a url');
      expect(body).not.toMatch(/at .*\.ts:\d+/);
    }
    // Logged once per isolate, not once per request.
    const logged = h.logs.filter((l) => l.includes('config_invalid'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).not.toContain('short-secret-value');
    expect(logged[0]).toContain('SESSION_SECRET');
  });

  it('answers JSON to JSON clients', async () => {
    const h = createHarness({ vars: { LOOKER_URL: undefined } });
    const res = await h.request('/', { headers: { accept: 'application/json' } });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { problems: { variable: string; problem: string }[] };
    expect(body.problems.map((p) => p.variable)).toEqual(['LOOKER_URL']);
  });

  it('refuses plain-http Looker URLs except on localhost', () => {
    const base = { LOOKER_CLIENT_ID: 'x', SESSION_SECRET };
    const bad = parseConfig({ ...base, LOOKER_URL: 'http://looker.example.com' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems[0]!.problem).toContain('https');
    expect(parseConfig({ ...base, LOOKER_URL: 'http://localhost:8788' }).ok).toBe(true);
    expect(parseConfig({ ...base, LOOKER_URL: 'http://127.0.0.1:9999' }).ok).toBe(true);
  });

  it('defaults LOOKER_API_URL to LOOKER_URL and the scope to cors_api; strips trailing slashes', () => {
    const result = parseConfig({ LOOKER_URL: 'https://acme.cloud.looker.com/', LOOKER_CLIENT_ID: 'x', SESSION_SECRET });
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.config.lookerUrl).toBe('https://acme.cloud.looker.com');
      expect(result.config.lookerApiUrl).toBe('https://acme.cloud.looker.com');
      expect(result.config.lookerScope).toBe('cors_api');
      expect(result.config.gatewayOrigin).toBeUndefined();
    }
  });

  it('names every problem at once', () => {
    const result = parseConfig({ LOOKER_URL: 'ftp://x', LOOKER_API_URL: 'https://u:p@x', GATEWAY_URL: 'nope', LOOKER_SCOPE: 'a"b' });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems.map((p) => p.variable).sort()).toEqual(
        ['GATEWAY_URL', 'LOOKER_API_URL', 'LOOKER_CLIENT_ID', 'LOOKER_SCOPE', 'LOOKER_URL', 'SESSION_SECRET'].sort(),
      );
    }
  });
});

describe('gateway origin and cookies', () => {
  it('without GATEWAY_URL, redirect_uri follows the request origin', async () => {
    const h = createHarness({ vars: { GATEWAY_URL: undefined } });
    const res = await h.request('/login');
    expect(new URL(res.headers.get('location')!).searchParams.get('redirect_uri')).toBe('https://gateway.test/callback');
  });

  it('on http://localhost the cookies still use __Host- and Secure (browsers allow it there)', async () => {
    const h = createHarness({ vars: { GATEWAY_URL: 'http://localhost:8787' } });
    const res = await h.request('/login');
    const cookie = res.headers.getSetCookie()[0]!;
    expect(cookie).toMatch(/^__Host-lgw_login_[\w-]{12}=/);
    expect(cookie).toMatch(/Secure/);
  });

  it('on a plain-http non-local origin the cookies drop the prefix (a browser would refuse it)', async () => {
    const h = createHarness({ vars: { GATEWAY_URL: undefined } });
    const res = await h.app.fetch(new Request('http://10.1.2.3:8787/login'), h.bindings);
    const cookie = res.headers.getSetCookie()[0]!;
    expect(cookie).toMatch(/^lgw_login_[\w-]{12}=/);
    expect(cookie).not.toMatch(/Secure/);
    expect(cookie).toMatch(/HttpOnly/);
  });
});
