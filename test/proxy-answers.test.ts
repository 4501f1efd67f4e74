/**
 * What the API's answers carry so that a browser cannot be made to run anything on the
 * gateway's origin, and which navigations the API refuses.
 */
import { describe, expect, it } from 'vitest';
import { isStrictlyJson, setApiAnswerHeaders } from '../src/api/answer-headers.ts';
import { createHarness } from './helpers.ts';

const SANDBOX = "default-src 'none'; frame-ancestors 'none'; sandbox";

describe('isStrictlyJson', () => {
  it('is true only when every media type in Content-Type is application/json or application/*+json', () => {
    for (const type of [
      'application/json',
      'application/json; charset=utf-8',
      'Application/JSON;Charset=UTF-8',
      'application/json ; charset=utf-8',
      'application/vnd.api+json',
      'application/problem+json; charset=utf-8',
      'application/vnd.looker.v4+json',
      'application/json, application/problem+json',
    ]) {
      expect(isStrictlyJson(type), type).toBe(true);
    }
  });

  it('is false when any media type is something else, or the header is missing or unparsable', () => {
    for (const type of [
      null,
      '',
      ' ',
      'text/html',
      'application/json; charset=utf-8, text/html',
      'application/json,text/html',
      'text/html, application/json',
      'application/json, ',
      ', application/json',
      'application/json; x="a, text/html"',
      'application/jsonx',
      'application/json-seq',
      'application/x-json',
      'text/json',
      'application/+json',
      'application/json garbage',
      'application/json/html',
      'application/xml+json/x',
      '*/*',
      'application/*',
      'image/svg+xml',
      'text/plain',
    ]) {
      expect(isStrictlyJson(type), String(type)).toBe(false);
    }
  });
});

describe('setApiAnswerHeaders', () => {
  it('JSON: nosniff and the request id only', () => {
    const headers = new Headers({ 'content-type': 'application/json' });
    setApiAnswerHeaders(headers, 'req-1');
    expect(Object.fromEntries(headers)).toEqual({ 'content-type': 'application/json', 'x-content-type-options': 'nosniff', 'x-request-id': 'req-1' });
  });

  it('anything else: also the sandboxing CSP and Referrer-Policy, replacing what Looker sent', () => {
    for (const type of ['application/json; charset=utf-8, text/html', 'text/csv', undefined]) {
      const headers = new Headers({ 'content-security-policy': "script-src 'unsafe-inline'", 'referrer-policy': 'unsafe-url' });
      if (type !== undefined) headers.set('content-type', type);
      setApiAnswerHeaders(headers, 'req-1');
      expect(headers.get('content-security-policy'), type).toBe(SANDBOX);
      expect(headers.get('referrer-policy'), type).toBe('same-origin');
      expect(headers.get('x-content-type-options'), type).toBe('nosniff');
    }
  });
});

async function signedIn() {
  const h = createHarness();
  await h.signIn();
  h.upstream.length = 0;
  return h;
}

describe('answers a browser could render, through the whole app', () => {
  /** Looker (or something in front of it) answering /api/4.0/odd with these headers. */
  function answering(h: Awaited<ReturnType<typeof signedIn>>, headers: Record<string, string>) {
    const simFetch = h.sim.fetch;
    h.sim.fetch = async (input, init) => {
      const request = new Request(input, init);
      if (new URL(request.url).pathname !== '/api/4.0/odd') return simFetch(request);
      const res = new Response('<!doctype html><script>document.title = "ran"</script>', { headers });
      // A Response given a string body gets text/plain unless told otherwise: take it away when the test wants none.
      if (!('content-type' in headers)) res.headers.delete('content-type');
      return res;
    };
  }

  for (const [name, headers] of [
    ['a comma-joined Content-Type with HTML in it', { 'content-type': 'application/json; charset=utf-8, text/html' }],
    ['no Content-Type', {}],
    ['an unparsable Content-Type', { 'content-type': 'json please' }],
  ] as [string, Record<string, string>][]) {
    it(`${name} is sandboxed`, async () => {
      const h = await signedIn();
      answering(h, headers);
      const res = await h.request('/api/4.0/odd');
      expect(res.status).toBe(200);
      expect(h.upstream).toHaveLength(1);
      expect(res.headers.get('content-security-policy')).toBe(SANDBOX);
      expect(res.headers.get('referrer-policy')).toBe('same-origin');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    });
  }

  it('plain JSON is not', async () => {
    const h = await signedIn();
    const res = await h.request('/api/4.0/user');
    expect(res.headers.get('content-security-policy')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('cross-site navigations to the API', () => {
  it('a top-level navigation from another site is refused with 403 JSON, never forwarded, and logged', async () => {
    const h = await signedIn();
    for (const method of ['GET', 'HEAD', 'POST']) {
      const res = await h.request('/api/4.0/user', {
        method,
        headers: { 'sec-fetch-mode': 'navigate', 'sec-fetch-site': 'cross-site', 'sec-fetch-dest': 'document', ...(method === 'POST' ? { origin: 'https://evil.example' } : {}) },
      });
      expect(res.status, method).toBe(403);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      if (method !== 'HEAD') expect(((await res.json()) as { message: string }).message).toMatch(/navigation/i);
    }
    expect(h.upstream).toEqual([]);
    const lines = h.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === 'cross_site_navigation_refused');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ route: '/api/*', method: 'GET' });
    expect(typeof lines[0]!.requestId).toBe('string');
  });

  it('same-site and same-origin navigations, and an address typed in (Sec-Fetch-Site: none), still work', async () => {
    const h = await signedIn();
    for (const site of ['same-site', 'same-origin', 'none']) {
      const res = await h.request('/api/4.0/user', { headers: { 'sec-fetch-mode': 'navigate', 'sec-fetch-site': site } });
      expect(res.status, site).toBe(200);
    }
    expect(h.upstream).toHaveLength(3);
  });

  it('cross-site requests that are not navigations are left to CORS and the CSRF check', async () => {
    const h = await signedIn();
    const res = await h.request('/api/4.0/user', { headers: { 'sec-fetch-mode': 'cors', 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const post = await h.request('/api/4.0/echo/x', { method: 'POST', headers: { 'sec-fetch-mode': 'no-cors', 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' } });
    expect(post.status).toBe(403);
    expect(h.logs.some((l) => l.includes('csrf_refused'))).toBe(true);
    expect(h.upstream).toHaveLength(1);
  });
});
