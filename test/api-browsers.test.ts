import { describe, expect, it } from 'vitest';
import { createHarness, GATEWAY } from './helpers.ts';
import { csrfCallers } from './policy-cases.ts';

const APP = 'https://app.example';

async function signedIn() {
  const h = createHarness({ vars: { ALLOWED_ORIGINS: `${APP}, https://other-app.example` } });
  await h.signIn();
  h.upstream.length = 0;
  return h;
}

describe('CSRF: cookie-authenticated unsafe methods', () => {
  const methods = ['POST', 'PUT', 'PATCH', 'DELETE'];
  const bodies: [string, string | undefined, string | undefined][] = [
    ['no body', undefined, undefined],
    ['JSON', '{"a":1}', 'application/json'],
    ['form', 'a=1', 'application/x-www-form-urlencoded'],
    ['text/plain', 'a', 'text/plain'],
    ['multipart', '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--\r\n', 'multipart/form-data; boundary=b'],
  ];
  // Shared with the gateway on Deno's end-to-end test (test/policy-cases.ts).
  const { allowed, refused } = csrfCallers(GATEWAY, APP);

  for (const method of methods) {
    for (const [bodyName, body, contentType] of bodies) {
      it(`${method} with ${bodyName}: allowed from ${allowed.length} kinds of caller, refused (403 JSON) from ${refused.length}`, async () => {
        const h = await signedIn();
        const send = (headers: Record<string, string>) =>
          h.request('/api/4.0/echo/x', { method, body, headers: { ...headers, ...(contentType === undefined ? {} : { 'content-type': contentType }) } });
        for (const [name, headers] of allowed) {
          expect((await send(headers)).status, `${name}`).toBe(200);
        }
        const forwarded = h.upstream.length;
        for (const [name, headers] of refused) {
          const res = await send(headers);
          expect(res.status, `${name}`).toBe(403);
          expect(res.headers.get('content-type')).toMatch(/^application\/json/);
          expect(((await res.json()) as { message: string }).message).toContain('refused');
        }
        expect(h.upstream.length).toBe(forwarded);
      });
    }
  }

  it('safe methods work from anywhere the cookie is sent', async () => {
    const h = await signedIn();
    for (const headers of [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }, {}] as Record<string, string>[]) {
      expect((await h.request('/api/4.0/user', { headers })).status).toBe(200);
      expect((await h.request('/api/4.0/user', { method: 'HEAD', headers })).status).toBe(200);
    }
  });

  it('refusals are logged as security events', async () => {
    const h = await signedIn();
    await h.request('/api/4.0/echo/x', { method: 'POST', headers: { origin: 'https://evil.example' } });
    const line = JSON.parse(h.logs.find((l) => l.includes('csrf_refused'))!) as Record<string, unknown>;
    expect(line).toMatchObject({ route: '/api/*', method: 'POST', reason: 'request from another origin' });
  });
});

describe('CORS', () => {
  it('answers a preflight from an allowed origin: credentials, methods, requested headers, no wildcard', async () => {
    const h = await signedIn();
    const res = await h.request('/api/4.0/looks/1', {
      method: 'OPTIONS',
      headers: { origin: APP, 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'content-type, x-looker-appid' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-methods')).toContain('PATCH');
    expect(res.headers.get('access-control-allow-headers')).toBe('content-type,x-looker-appid');
    expect(res.headers.get('vary')).toContain('Origin');
    expect(h.upstream).toEqual([]);
  });

  it('gives no CORS grant to other origins, in preflight or response', async () => {
    const h = await signedIn();
    const preflight = await h.request('/api/4.0/looks', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const res = await h.request('/api/4.0/looks', { headers: { origin: 'https://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('responses to an allowed origin carry the grant and expose the useful headers', async () => {
    const h = await signedIn();
    const res = await h.request('/api/4.0/response_headers', { headers: { origin: APP } });
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    const exposed = res.headers.get('access-control-expose-headers')!.split(',');
    expect(exposed).toEqual(expect.arrayContaining(['content-disposition', 'retry-after']));
    expect(res.headers.get('vary')).toContain('Origin');
  });

  it('without ALLOWED_ORIGINS no origin gets a grant', async () => {
    const h = createHarness();
    await h.signIn();
    const res = await h.request('/api/4.0/looks', { headers: { origin: APP } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('without ALLOWED_ORIGINS answers do not vary by Origin and carry no CORS headers', async () => {
    const h = createHarness();
    await h.signIn();
    const res = await h.request('/api/4.0/user');
    expect(res.status).toBe(200);
    expect(res.headers.get('vary')).toBeNull();
    expect([...res.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });

  it('with ALLOWED_ORIGINS, an answer without a grant still says it varies by Origin', async () => {
    const h = await signedIn();
    const res = await h.request('/api/4.0/user');
    expect(res.headers.get('vary')).toContain('Origin');
    expect([...res.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });

  it('a preflight is answered even without a grant, and never forwarded', async () => {
    const h = await signedIn();
    const res = await h.request('/api/4.0/looks', { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(h.upstream).toEqual([]);
  });

  it('a bad ALLOWED_ORIGINS entry is a configuration error', async () => {
    const h = createHarness({ vars: { ALLOWED_ORIGINS: 'https://ok.example, *' } });
    const res = await h.request('/api/4.0/looks');
    expect(res.status).toBe(500);
    expect(await res.text()).toContain('ALLOWED_ORIGINS');
  });
});

describe('security headers on API answers', () => {
  it('JSON from Looker: nosniff and the request id', async () => {
    const h = await signedIn();
    const res = await h.request('/api/4.0/user');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('anything a browser could render as a document is sandboxed and keeps its referrer', async () => {
    const h = await signedIn();
    for (const path of ['/api/4.0/html_page', '/api/4.0/download?bytes=10']) {
      const res = await h.request(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy'), path).toBe("default-src 'none'; frame-ancestors 'none'; sandbox");
      expect(res.headers.get('referrer-policy'), path).toBe('same-origin');
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("the gateway's own JSON answers carry them too", async () => {
    const h = createHarness();
    const res = await h.request('/api/4.0/user');
    expect(res.status).toBe(401);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
