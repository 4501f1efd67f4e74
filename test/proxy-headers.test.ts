import { describe, expect, it } from 'vitest';
import { downstreamResponseHeaders, upstreamRequestHeaders } from '../src/proxy/headers.ts';

const options = { lookerApiUrl: 'https://looker.test:19999', gatewayOrigin: 'https://gw.test' };

describe('response header policy', () => {
  it('keeps content-encoding but drops a length that no longer describes the re-encoded body', () => {
    const out = downstreamResponseHeaders(
      new Headers({ 'content-type': 'text/csv', 'content-encoding': 'gzip', 'content-length': '1234', etag: '"x"' }),
      options,
    );
    expect(out.get('content-encoding')).toBe('gzip');
    expect(out.get('content-length')).toBeNull();
    expect(out.get('etag')).toBe('"x"');
  });

  it('keeps content-length for an unencoded body', () => {
    const out = downstreamResponseHeaders(new Headers({ 'content-type': 'application/pdf', 'content-length': '99' }), options);
    expect(out.get('content-length')).toBe('99');
  });

  it('drops headers named by Connection, and transfer-encoding', () => {
    const out = downstreamResponseHeaders(new Headers({ connection: 'close, x-secret', 'x-secret': '1', 'transfer-encoding': 'chunked', 'x-kept': 'y' }), options);
    expect([...out.keys()]).toEqual(['x-kept']);
  });

  it('rewrites only redirects that stay in the Looker API', () => {
    const inside = downstreamResponseHeaders(new Headers({ location: 'https://looker.test:19999/api/4.0/looks/1?x=1' }), options);
    expect(inside.get('location')).toBe('https://gw.test/api/4.0/looks/1?x=1');
    for (const location of ['https://looker.test:19999/login', 'https://looker.test/api/4.0/x', '/api/4.0/relative']) {
      expect(downstreamResponseHeaders(new Headers({ location }), options).get('location')).toBe(location);
    }
  });
});

describe('request header policy', () => {
  it('replaces any caller credential with the session bearer token', () => {
    const out = upstreamRequestHeaders(new Headers({ authorization: 'Basic abc', 'proxy-authorization': 'x', cookie: 'a=b', 'x-looker-appid': 'sdk' }), 'tok');
    expect(Object.fromEntries(out)).toEqual({ authorization: 'Bearer tok', 'x-looker-appid': 'sdk' });
  });
});
