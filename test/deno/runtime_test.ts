/**
 * What the Deno runtime adds around the stores: who the client is (the connection, or an
 * opt-in proxy header), holder records that end at their expiry whatever Deno KV still
 * holds, and answers that say who may cache them.
 */
import { withPrivateCaching } from '../../src/platform/deno/caching.ts';
import { DenoKvHolderStore } from '../../src/platform/deno/holder-store.ts';
import { denoRuntime } from '../../src/platform/deno/runtime.ts';
import { equal } from '../contract/contract.ts';

const tcp = (hostname: string): Deno.Addr => ({ transport: 'tcp', hostname, port: 50000 });

Deno.test('the client is the connection’s address; a forwarded header is ignored unless trusted', async () => {
  const kv = await Deno.openKv(':memory:');
  try {
    const runtime = denoRuntime(kv);
    const request = new Request('http://localhost/', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    runtime.connected(request, tcp('198.51.100.7'));
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
    runtime.connected(forwarded, tcp('127.0.0.1'));
    equal(runtime.clientOf(forwarded), { address: '203.0.113.9' }, 'what the proxy added');
    const direct = new Request('http://localhost/');
    runtime.connected(direct, tcp('127.0.0.1'));
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
