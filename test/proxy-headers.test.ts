import { describe, expect, it } from 'vitest';
import { downstreamResponseHeaders, upstreamRequestHeaders } from '../src/api/headers.ts';

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

describe('request header policy', () => {
  it('replaces any caller credential with the session bearer token', () => {
    const out = upstreamRequestHeaders(new Headers({ authorization: 'Basic abc', 'proxy-authorization': 'x', cookie: 'a=b', 'x-looker-appid': 'sdk' }), 'tok');
    expect({ ...out }).toEqual({ authorization: 'Bearer tok', 'x-looker-appid': 'sdk' });
  });

  it('drops hop-by-hop, Connection-named, forwarding, sec-fetch-* and cf-* headers', () => {
    const out = upstreamRequestHeaders(
      new Headers({
        connection: 'keep-alive, X-Private',
        'x-private': '1',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        host: 'gw.test',
        origin: 'https://gw.test',
        referer: 'https://gw.test/',
        'sec-fetch-site': 'same-origin',
        'cf-connecting-ip': '203.0.113.1',
        'x-forwarded-for': '203.0.113.1',
        accept: 'application/json',
        range: 'bytes=0-9',
      }),
      'tok',
    );
    expect({ ...out }).toEqual({ accept: 'application/json', range: 'bytes=0-9', authorization: 'Bearer tok' });
  });

  it('keeps every value of a repeated header, and a header named like an object property is just a header', () => {
    const incoming = new Headers([
      ['__proto__', 'p'],
      ['constructor', 'c'],
    ]);
    incoming.append('x-looker-tag', 'a');
    incoming.append('x-looker-tag', 'b');
    const out = upstreamRequestHeaders(incoming, 'tok');
    expect(Object.getPrototypeOf(out)).toBeNull();
    const sent = new Headers(out);
    expect(sent.get('x-looker-tag')).toBe('a, b');
    expect(sent.get('__proto__')).toBe('p');
    expect(sent.get('constructor')).toBe('c');
  });
});
