import { describe, expect, it } from 'vitest';
import { downstreamResponseHeaders, upstreamRequestHeaders } from '../src/api/headers.ts';
import { createHarness } from './helpers.ts';

const options = { lookerApiUrl: 'https://looker.test:19999', gatewayOrigin: 'https://gw.test' };

describe('response header policy', () => {
  it('keeps content-encoding but drops a length that no longer describes the re-encoded body', () => {
    const out = new Headers(
      downstreamResponseHeaders(
        new Headers({ 'content-type': 'text/csv', 'content-encoding': 'gzip', 'content-length': '1234', etag: '"x"' }),
        options,
      ),
    );
    expect(out.get('content-encoding')).toBe('gzip');
    expect(out.get('content-length')).toBeNull();
    expect(out.get('etag')).toBe('"x"');
  });

  it('keeps content-length for an unencoded body', () => {
    const out = downstreamResponseHeaders(new Headers({ 'content-type': 'application/pdf', 'content-length': '99' }), options);
    expect(out['content-length']).toBe('99');
  });

  it('drops headers named by Connection, and transfer-encoding', () => {
    const out = downstreamResponseHeaders(new Headers({ connection: 'close, x-secret', 'x-secret': '1', 'transfer-encoding': 'chunked', 'x-kept': 'y' }), options);
    expect(Object.keys(out)).toEqual(['x-kept']);
  });

  it('drops what would act on the gateway\'s origin rather than describe the answer: Clear-Site-Data, Refresh', () => {
    const out = downstreamResponseHeaders(
      new Headers({ 'content-type': 'application/json', 'clear-site-data': '"cookies", "storage"', refresh: '0; url=https://evil.example/' }),
      options,
    );
    expect({ ...out }).toEqual({ 'content-type': 'application/json' });
  });

  it('drops Set-Cookie and Looker\'s own CORS headers', () => {
    const upstream = new Headers({ 'content-type': 'application/json', 'access-control-allow-origin': '*', 'access-control-allow-credentials': 'true' });
    upstream.append('set-cookie', 'a=1');
    upstream.append('set-cookie', 'b=2');
    expect(downstreamResponseHeaders(upstream, options)).toEqual({ 'content-type': 'application/json' });
  });

  it('rewrites only redirects that stay in the Looker API', () => {
    const inside = downstreamResponseHeaders(new Headers({ location: 'https://looker.test:19999/api/4.0/looks/1?x=1' }), options);
    expect(inside.location).toBe('https://gw.test/api/4.0/looks/1?x=1');
    for (const location of ['https://looker.test:19999/login', 'https://looker.test/api/4.0/x', '/api/4.0/relative']) {
      expect(downstreamResponseHeaders(new Headers({ location }), options).location).toBe(location);
    }
  });
});

describe('request header policy: an allow-list', () => {
  const ALLOWED = {
    accept: 'application/json',
    'accept-encoding': 'gzip, br',
    'accept-language': 'de',
    'content-type': 'application/json',
    'content-length': '12',
    'if-none-match': '"abc"',
    'if-modified-since': 'Wed, 21 Oct 2026 07:28:00 GMT',
    'if-match': '"abc"',
    'if-unmodified-since': 'Wed, 21 Oct 2026 07:28:00 GMT',
    'if-range': '"abc"',
    range: 'bytes=0-99',
    'user-agent': 'looker-sdk/26.0 python',
    'x-looker-appid': 'my-script',
    'x-looker-anything-else': '1',
  };
  /** What must never reach Looker: routing and method overrides, forwarding claims, credentials, hop-by-hop, the caller's relation to the gateway, anything unknown. */
  const DROPPED = {
    'x-original-url': '/api/4.0/login',
    'x-rewrite-url': '/api/4.0/login',
    'x-http-method-override': 'DELETE',
    'x-http-method': 'DELETE',
    'x-method-override': 'DELETE',
    'x-forwarded-host': 'evil.example',
    'x-forwarded-port': '8443',
    'x-forwarded-prefix': '/admin',
    'x-forwarded-proto': 'http',
    'x-forwarded-for': '203.0.113.1',
    'x-forwarded-server': 'evil.example',
    forwarded: 'for=203.0.113.1;host=evil.example',
    'client-ip': '203.0.113.1',
    'true-client-ip': '203.0.113.1',
    'x-real-ip': '203.0.113.1',
    'x-client-ip': '203.0.113.1',
    via: '1.1 evil',
    host: 'gw.test',
    cookie: 'a=b',
    authorization: 'Basic abc',
    'proxy-authorization': 'Basic abc',
    origin: 'https://gw.test',
    referer: 'https://gw.test/',
    'sec-fetch-site': 'same-origin',
    'sec-fetch-mode': 'cors',
    'cf-connecting-ip': '203.0.113.1',
    'cf-ray': 'x',
    te: 'trailers',
    upgrade: 'websocket',
    'keep-alive': 'timeout=5',
    'proxy-connection': 'keep-alive',
    trailer: 'x',
    prefer: 'respond-async',
    'x-custom': 'unknown',
    'x-looker': 'not a prefix match',
    dnt: '1',
  };

  it('forwards exactly the allowed headers, and the bearer token', () => {
    const out = upstreamRequestHeaders(new Headers({ ...ALLOWED, ...DROPPED }), 'tok', 'req-1');
    expect({ ...out }).toEqual({ ...ALLOWED, authorization: 'Bearer tok' });
  });

  it('adds no request id when the caller sent none', () => {
    expect({ ...upstreamRequestHeaders(new Headers({ accept: 'application/json' }), 'tok', 'req-1') }).toEqual({
      accept: 'application/json',
      authorization: 'Bearer tok',
    });
  });

  it("sends the gateway's request id, never the caller's own x-request-id value", () => {
    const out = upstreamRequestHeaders(new Headers({ 'x-request-id': 'caller-chose-this' }), 'tok', 'gateway-id');
    expect(out['x-request-id']).toBe('gateway-id');
  });

  it('drops an allowed header that Connection names, whatever its case and spacing', () => {
    const out = upstreamRequestHeaders(
      new Headers({ ...ALLOWED, connection: 'keep-alive, Accept-Language ,x-looker-appid,RANGE' }),
      'tok',
      'req-1',
    );
    expect(out['accept-language']).toBeUndefined();
    expect(out['x-looker-appid']).toBeUndefined();
    expect(out.range).toBeUndefined();
    expect(out.connection).toBeUndefined();
    expect(out.accept).toBe('application/json');
    expect(out['x-looker-anything-else']).toBe('1');
  });

  it('Connection cannot remove the bearer token or the request id', () => {
    const out = upstreamRequestHeaders(new Headers({ connection: 'authorization, x-request-id', 'x-request-id': 'caller-id' }), 'tok', 'req-1');
    expect({ ...out }).toEqual({ authorization: 'Bearer tok', 'x-request-id': 'req-1' });
  });

  it('keeps every value of a repeated header, in a record without a prototype', () => {
    const incoming = new Headers([
      ['__proto__', 'p'],
      ['constructor', 'c'],
    ]);
    incoming.append('x-looker-tag', 'a');
    incoming.append('x-looker-tag', 'b');
    const out = upstreamRequestHeaders(incoming, 'tok', 'req-1');
    expect(Object.getPrototypeOf(out)).toBeNull();
    const sent = new Headers(out);
    expect(sent.get('x-looker-tag')).toBe('a, b');
    expect(sent.get('__proto__')).toBeNull();
    expect(sent.get('constructor')).toBeNull();
  });
});

describe('header policy through the whole app', () => {
  it('what reaches Looker is the allow-list, with the gateway id and token', async () => {
    const h = createHarness();
    await h.signIn();
    h.upstream.length = 0;
    const res = await h.request('/api/4.0/echo/headers', {
      headers: {
        ...DROPPED_THROUGH_APP,
        accept: 'application/json',
        'x-looker-appid': 'my-script',
        'if-modified-since': 'Wed, 21 Oct 2026 07:28:00 GMT',
        connection: 'x-looker-appid',
        'x-request-id': 'caller-id-1',
      },
    });
    expect(res.status).toBe(200);
    const { headers } = (await res.json()) as { headers: Record<string, string> };
    expect(headers.accept).toBe('application/json');
    expect(headers['if-modified-since']).toBe('Wed, 21 Oct 2026 07:28:00 GMT');
    expect(headers.authorization).toMatch(/^Bearer [\w-]+$/);
    // The caller's id is well formed, so it is this request's id on both sides.
    expect(headers['x-request-id']).toBe('caller-id-1');
    expect(res.headers.get('x-request-id')).toBe('caller-id-1');
    for (const name of [...Object.keys(DROPPED_THROUGH_APP), 'x-looker-appid', 'cookie', 'connection']) {
      expect(headers[name], name).toBeUndefined();
    }
  });

  it("a malformed caller id is replaced by the gateway's own, which Looker receives", async () => {
    const h = createHarness();
    await h.signIn();
    const res = await h.request('/api/4.0/echo/headers', { headers: { 'x-request-id': 'not ok!' } });
    const { headers } = (await res.json()) as { headers: Record<string, string> };
    expect(headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(headers['x-request-id']).toBe(res.headers.get('x-request-id'));
  });
});

const DROPPED_THROUGH_APP = {
  'x-original-url': '/api/4.0/login',
  'x-rewrite-url': '/api/4.0/login',
  'x-http-method-override': 'DELETE',
  'x-forwarded-host': 'evil.example',
  'x-forwarded-port': '8443',
  'x-forwarded-prefix': '/admin',
  'client-ip': '203.0.113.1',
  via: '1.1 evil',
  'x-custom': 'unknown',
};
