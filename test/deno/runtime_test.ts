/**
 * What the Deno runtime adds around the stores: who the client is (the connection, or an
 * opt-in proxy header), holder records that end at their expiry whatever Deno KV still
 * holds, answers that say who may cache them, and a Host that is no host refused.
 */
import { plainHttpAnswer } from '../../src/app.ts';
import { withPrivateCaching } from '../../src/platform/deno/caching.ts';
import { badHostAnswer } from '../../src/platform/deno/host.ts';
import { DenoKvHolderStore } from '../../src/platform/deno/holder-store.ts';
import { openRuntime } from '../../src/platform/deno/open.ts';
import { denoRuntime } from '../../src/platform/deno/runtime.ts';
import { equal } from '../contract/contract.ts';

const tcp = (hostname: string): Deno.Addr => ({ transport: 'tcp', hostname, port: 50000 });

Deno.test('the client is the connection’s address; a forwarded header is ignored unless trusted', async () => {
  const kv = await Deno.openKv(':memory:');
  try {
    const runtime = denoRuntime(kv);
    const request = new Request('http://localhost/', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    runtime.arrived(request, tcp('198.51.100.7'));
    equal(runtime.clientOf(request), { address: '198.51.100.7' }, 'the connection');
    equal(runtime.clientOf(new Request('http://localhost/')), { address: 'unknown' }, 'a request the server did not hand over');
  } finally {
    kv.close();
  }
});

Deno.test('behind a trusted proxy: the last entry of its header (the one it added), else the connection', async () => {
  const kv = await Deno.openKv(':memory:');
  try {
    const runtime = denoRuntime(kv, { trustedProxyHeader: 'X-Forwarded-For' });
    const forwarded = new Request('http://localhost/', { headers: { 'x-forwarded-for': '192.0.2.1, 203.0.113.9' } });
    runtime.arrived(forwarded, tcp('127.0.0.1'));
    equal(runtime.clientOf(forwarded), { address: '203.0.113.9' }, 'what the proxy added');
    const direct = new Request('http://localhost/');
    runtime.arrived(direct, tcp('127.0.0.1'));
    equal(runtime.clientOf(direct), { address: '127.0.0.1' }, 'no header: the connection');
  } finally {
    kv.close();
  }
});

Deno.test('a holder record ends at its expiry, kept in the value, although Deno KV still holds it', async () => {
  const kv = await Deno.openKv(':memory:');
  try {
    let now = Date.UTC(2026, 10, 28);
    const store = new DenoKvHolderStore(kv, { clock: () => now });
    await store.put('session:abc', 'sealed', { expirationTtl: 60 });
    equal(await store.get('session:abc'), 'sealed', 'alive');
    now += 60_000;
    equal(await store.get('session:abc'), null, 'expired at its TTL');
    equal((await kv.get(['holder', 'session:abc'])).value !== null, true, 'still stored (expireIn only collects garbage)');
    await store.put('session:def', 'x', { expirationTtl: 60 });
    await store.delete('session:def');
    equal(await store.get('session:def'), null, 'deleted');
  } finally {
    kv.close();
  }
});

Deno.test('every answer says who may cache it', () => {
  const header = (response: Response) => response.headers.get('cache-control');
  equal(header(withPrivateCaching(new Response('page'), false)), 'no-store', 'a page without one: no-store');
  equal(header(withPrivateCaching(new Response('x', { headers: { 'cache-control': 'public, max-age=300' } }), false)), 'public, max-age=300', 'a public file stays public');
  equal(header(withPrivateCaching(new Response('x', { headers: { 'cache-control': 'no-store' } }), false)), 'no-store', 'kept');
  equal(header(withPrivateCaching(new Response('{}'), true)), 'private, no-store', 'an API answer without one');
  equal(header(withPrivateCaching(new Response('{}', { headers: { 'cache-control': 'public, max-age=60' } }), true)), 'private, max-age=60', "Looker's public becomes private");
  equal(header(withPrivateCaching(new Response('{}', { headers: { 'cache-control': 'no-cache' } }), true)), 'private, no-cache', 'private added');
  equal(header(withPrivateCaching(Response.redirect('http://localhost/', 302), true)), 'private, no-store', 'immutable headers: a copy says it');
});

Deno.test('the server’s environment: DENO_KV_PATH and TRUSTED_PROXY_HEADER are judged before anything is served', async () => {
  const problemsOf = async (env: Record<string, string>) => {
    const opened = await openRuntime(env);
    return 'problems' in opened ? opened.problems.map((p) => `${p.variable} ${p.problem}`) : 'opened';
  };
  const unset = await problemsOf({});
  equal(Array.isArray(unset) && unset.length === 1 && unset[0]!.startsWith('DENO_KV_PATH is not set'), true, 'no DENO_KV_PATH off Deno Deploy');
  const both = await problemsOf({ DENO_KV_PATH: ' ', TRUSTED_PROXY_HEADER: 'x forwarded for' });
  equal(Array.isArray(both) ? both.map((p) => p.split(' ')[0]) : both, ['DENO_KV_PATH', 'TRUSTED_PROXY_HEADER'], 'every problem at once');
  const cookie = await problemsOf({ DENO_KV_PATH: ':memory:', TRUSTED_PROXY_HEADER: 'Cookie' });
  equal(Array.isArray(cookie) && cookie[0]!.includes('a header every client writes itself'), true, 'a header the client writes');
  const missingDir = await problemsOf({ DENO_KV_PATH: '/nonexistent-directory-for-this-test/kv.sqlite3' });
  equal(Array.isArray(missingDir) ? missingDir.map((p) => p.replace(/\(.*\)/, '(…)')) : missingDir, ['DENO_KV_PATH could not be opened (…)'], 'a file that cannot be made');

  const opened = await openRuntime({ DENO_KV_PATH: ':memory:', TRUSTED_PROXY_HEADER: ' X-Real-IP ' });
  if ('problems' in opened) throw new Error(`expected a runtime, got ${JSON.stringify(opened.problems)}`);
  const request = new Request('http://localhost/', { headers: { 'x-real-ip': '203.0.113.5' } });
  const seen = opened.arrived(request, tcp('198.51.100.7'));
  equal(opened.clientOf(seen), { address: '203.0.113.5' }, 'the trusted header, trimmed and any case');
  const stores = opened.storesFor({});
  if (!stores.ok) throw new Error('stores');
  equal(await stores.stores.kv.get('nothing-here'), null, 'the KV opened');
});

Deno.test('behind a trusted TLS proxy the app sees the https the client used; without one, X-Forwarded-Proto changes nothing', async () => {
  const kv = await Deno.openKv(':memory:');
  try {
    const headers = { 'x-forwarded-proto': 'http, https', 'x-forwarded-for': '203.0.113.9' };
    const proxied = denoRuntime(kv, { trustedProxyHeader: 'x-forwarded-for' });
    const post = new Request('http://gw.example.com/logout?x=1', { method: 'POST', headers, body: 'a=b' });
    const seen = proxied.arrived(post, tcp('127.0.0.1'));
    equal([seen.url, seen.method, await seen.text()], ['https://gw.example.com/logout?x=1', 'POST', 'a=b'], 'scheme from the proxy, all else kept');
    equal(proxied.clientOf(seen), { address: '203.0.113.9' }, 'the client, through the proxy');
    const plain = proxied.arrived(new Request('http://gw.example.com/', { headers: { 'x-forwarded-proto': 'https, http' } }), tcp('127.0.0.1'));
    equal(plain.url, 'http://gw.example.com/', 'the proxy nearest us says http');
    const direct = denoRuntime(kv).arrived(new Request('http://gw.example.com/', { headers }), tcp('198.51.100.7'));
    equal(direct.url, 'http://gw.example.com/', 'no trusted proxy: a client cannot claim https');
  } finally {
    kv.close();
  }
});

Deno.test('deno serve with a Host header that makes no URL: 400 from the app, behind a trusted proxy too, never a 500', async () => {
  const kv = await Deno.openKv(':memory:');
  const runtimes = { direct: denoRuntime(kv), proxied: denoRuntime(kv, { trustedProxyHeader: 'x-forwarded-for' }) };
  const servers = Object.entries(runtimes).map(([name, runtime]) => ({
    name,
    server: Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: () => {}, onError: () => new Response('thrown', { status: 500 }) }, (request, info) => {
      const seen = runtime.arrived(request, info.remoteAddr);
      return plainHttpAnswer(seen.method, seen.url) ?? new Response('served');
    }),
  }));
  try {
    for (const { name, server } of servers) {
      for (const host of ['x:abc', 'evil.example:99999', '[::1']) {
        const conn = await Deno.connect({ hostname: '127.0.0.1', port: server.addr.port });
        await conn.write(new TextEncoder().encode(`GET / HTTP/1.1\r\nHost: ${host}\r\nX-Forwarded-Proto: https\r\nX-Forwarded-For: 203.0.113.9\r\nConnection: close\r\n\r\n`));
        const answer = new TextDecoder().decode(await new Response(conn.readable).arrayBuffer());
        equal(answer.split('\r\n')[0], 'HTTP/1.1 400 Bad Request', `${name}, Host: ${host}`);
      }
    }
  } finally {
    for (const { server } of servers) await server.shutdown();
    kv.close();
  }
});

Deno.test('a Host that is no host name or address is refused with 400 no-store, before anything parses the URL', async () => {
  // Deno makes request.url of the Host as sent, even when that is no URL (which a Request
  // cannot hold): a stand-in with the two things the check reads.
  const withHost = (host: string, url: string) => ({ headers: new Headers({ host }), url }) as unknown as Request;
  const good: [string, string][] = [
    ['localhost:8787', 'http://localhost:8787/api/4.0/user'],
    ['gateway.example.com', 'http://gateway.example.com/'],
    ['127.0.0.1:8787', 'http://127.0.0.1:8787/'],
    ['[::1]:8787', 'http://[::1]:8787/'],
  ];
  for (const [host, url] of good) equal(badHostAnswer(withHost(host, url)), undefined, host);
  equal(badHostAnswer(new Request('http://localhost:8787/')), undefined, 'no Host header: the URL Deno made');
  const bad: [string, string][] = [
    ['gateway example', 'http://gateway example/callback?code=x'],
    ['localhost:8787/api/4.0', 'http://localhost:8787/api/4.0/user'],
    ['localhost:8787?fields=id', 'http://localhost:8787?fields=id/api/4.0/user'],
    ['localhost:8787#', 'http://localhost:8787#/'],
    ['user@evil.example', 'http://user@evil.example/'],
    ['localhost:99999', 'http://localhost:99999/'],
    ['999.999.999.999', 'http://999.999.999.999/'],
  ];
  for (const [host, url] of bad) {
    const answer = badHostAnswer(withHost(host, url));
    equal(answer?.status, 400, host);
    equal(answer?.headers.get('cache-control'), 'no-store', `${host}: no-store`);
    equal(((await answer?.json()) as { message: string }).message.includes('Host'), true, `${host}: says why`);
  }
});
