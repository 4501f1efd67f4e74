/**
 * Plain http is for development on this machine only: anywhere else a session cookie or
 * an API answer would cross the network in clear. Both apps get the rule from the one
 * dispatcher in front of them.
 */
import { describe, expect, it } from 'vitest';
import { createHarness } from './helpers.ts';

const send = (h: ReturnType<typeof createHarness>, url: string, init: RequestInit = {}) => h.app.fetch(new Request(url, init), h.bindings);

describe('plain http', () => {
  it('GET and HEAD anywhere but this machine → 308 to the same URL on https, site and API alike', async () => {
    const h = createHarness({ vars: { GATEWAY_URL: undefined } });
    for (const url of [
      'http://gw.example/',
      'http://gw.example/login?return_to=%2Fafter',
      'http://gw.example/api/4.0/user?fields=id',
      'http://10.1.2.3/healthz',
      'http://[2001:db8::1]/readyz',
      'http://dev.localhost/',
      'http://localhost.evil.example/',
    ]) {
      for (const method of ['GET', 'HEAD']) {
        const res = await send(h, url, { method });
        expect(res.status, `${method} ${url}`).toBe(308);
        expect(res.headers.get('location'), url).toBe(`https:${url.slice('http:'.length)}`);
        expect(res.headers.getSetCookie()).toEqual([]);
      }
    }
    expect(h.upstream).toEqual([]);
  });

  it('on another port (a development server elsewhere, which serves no https) → 400 JSON, never a redirect loop', async () => {
    const h = createHarness({ vars: { GATEWAY_URL: undefined } });
    for (const url of ['http://gw.example:8931/', 'http://gw.example:8080/api/4.0/user?fields=id']) {
      const res = await send(h, url);
      expect(res.status, url).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(((await res.json()) as { message: string }).message).toMatch(/use https/);
    }
    expect(h.upstream).toEqual([]);
  });

  it('other methods → 400 JSON saying to use https, and nothing happens', async () => {
    const h = createHarness({ vars: { GATEWAY_URL: undefined } });
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      for (const url of ['http://gw.example/api/4.0/looks', 'http://gw.example/logout']) {
        const res = await send(h, url, { method, body: method === 'POST' ? '{}' : undefined });
        expect(res.status, `${method} ${url}`).toBe(400);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        expect(((await res.json()) as { message: string }).message).toMatch(/use https/);
      }
    }
    expect(h.upstream).toEqual([]);
    expect(h.logs.filter((l) => l.includes('"event":"request"'))).toEqual([]);
  });

  it('localhost, 127.0.0.1 and [::1] are served over http (development)', async () => {
    const h = createHarness({ vars: { GATEWAY_URL: undefined } });
    for (const origin of ['http://localhost:8787', 'http://127.0.0.1:8787', 'http://[::1]:8787', 'http://localhost']) {
      expect((await send(h, `${origin}/healthz`)).status, origin).toBe(200);
      const login = await send(h, `${origin}/login`);
      expect(login.status, origin).toBe(302);
      const api = await send(h, `${origin}/api/4.0/looks`, { method: 'POST', headers: { origin } });
      expect(api.status, origin).toBe(401);
    }
  });

  it('https is untouched', async () => {
    const h = createHarness({ vars: { GATEWAY_URL: undefined } });
    expect((await send(h, 'https://gw.example/healthz')).status).toBe(200);
  });
});
