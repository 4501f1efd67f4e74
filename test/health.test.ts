import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import pkg from '../package.json';
import { ACCOUNTS_BINDING } from '../src/platform/cloudflare/bindings.ts';
import { VERSION } from '../src/version.ts';
import type { KeyValueStore } from '../src/callers/records.ts';
import { createHarness, isolatedKv, type TestKv } from './helpers.ts';

/** The test KV, counting the reads that reach it. */
function countingKv(): TestKv & { reads: () => number } {
  const kv = isolatedKv((env as unknown as { SESSIONS: KVNamespace }).SESSIONS);
  let reads = 0;
  const get = kv.get;
  return Object.assign(kv, {
    get: (key: string) => {
      reads++;
      return get(key);
    },
    reads: () => reads,
  });
}

const brokenKv = (): TestKv =>
  ({
    get: () => Promise.reject(new Error('KV is down')),
    put: () => Promise.reject(new Error('KV is down')),
    delete: () => Promise.reject(new Error('KV is down')),
  }) as KeyValueStore as TestKv;

describe('GET /healthz', () => {
  it('answers 200 with the version, without touching Looker or KV', async () => {
    const h = createHarness({ kv: brokenKv() });
    h.sim.faults.unreachable = true;
    const res = await h.request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', version: pkg.version });
    expect(h.upstream).toEqual([]);
  });

  it('answers even when the configuration is broken', async () => {
    const h = createHarness({ vars: { LOOKER_URL: undefined } });
    expect((await h.request('/healthz')).status).toBe(200);
  });

  it('reports the version in package.json', () => {
    expect(VERSION).toBe(pkg.version);
  });
});

describe('GET /readyz', () => {
  it('ready: configuration, KV and Looker all answer', async () => {
    const h = createHarness();
    const res = await h.request('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ready',
      checks: { config: { ok: true }, kv: { ok: true }, looker: { ok: true, release: '26.0.0-simulator' } },
    });
    expect(h.upstream.map((r) => r.url)).toEqual(['https://looker.test:19999/api/4.0/versions']);
  });

  it('caches the Looker check briefly', async () => {
    const h = createHarness();
    await h.request('/readyz');
    await h.request('/readyz');
    expect(h.sim.stats.versionsRequests).toBe(1);
    h.clock.advance(11);
    await h.request('/readyz');
    expect(h.sim.stats.versionsRequests).toBe(2);
  });

  it('caches the KV check briefly too: a loop of anonymous probes costs no storage operations', async () => {
    const kv = countingKv();
    const h = createHarness({ kv });
    for (let i = 0; i < 5; i++) expect((await h.request('/readyz')).status).toBe(200);
    expect(kv.reads()).toBe(1);
    h.clock.advance(11);
    await h.request('/readyz');
    expect(kv.reads()).toBe(2);
  });

  it('a KV failure is remembered as briefly as a success, then checked again', async () => {
    let failing = true;
    const kv = countingKv();
    const get = kv.get;
    kv.get = (key: string) => (failing ? Promise.reject(new Error('KV is down')) : get(key));
    const h = createHarness({ kv });
    expect((await h.request('/readyz')).status).toBe(503);
    failing = false;
    expect((await h.request('/readyz')).status).toBe(503);
    h.clock.advance(11);
    expect((await h.request('/readyz')).status).toBe(200);
  });

  it(`503 naming the configuration when the ${ACCOUNTS_BINDING} binding is missing`, async () => {
    const h = createHarness({ vars: { [ACCOUNTS_BINDING]: undefined } });
    const res = await h.request('/readyz');
    expect(res.status).toBe(503);
    const body = (await res.json()) as { failing: string[]; checks: { config: { error: string } } };
    expect(body.failing).toContain('config');
    expect(body.checks.config.error).toBe(`invalid: ${ACCOUNTS_BINDING}`);
  });

  it('503 naming the configuration when SESSION_SECRET is long but weak, without its value', async () => {
    const weak = '0123456789abcdef0123456789abcdef0123456789abcdef';
    const h = createHarness({ vars: { SESSION_SECRET: weak } });
    const res = await h.request('/readyz');
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ checks: { config: { ok: false, error: 'invalid: SESSION_SECRET' } } });
    expect(text).not.toContain(weak);
  });

  it('503 naming Looker when it is unreachable', async () => {
    const h = createHarness();
    h.sim.faults.unreachable = true;
    const res = await h.request('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'not ready', failing: ['looker'], checks: { looker: { ok: false, error: 'Looker could not be reached' } } });
  });

  it('503 naming Looker when it answers with an error', async () => {
    const h = createHarness();
    h.sim.faults.api = 'down';
    const res = await h.request('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ failing: ['looker'], checks: { looker: { ok: false, error: 'Looker answered 503 to /api/4.0/versions' } } });
  });

  it('503 naming KV when it fails', async () => {
    const h = createHarness({ kv: brokenKv() });
    const res = await h.request('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ failing: ['kv'], checks: { kv: { ok: false, error: 'KV read failed' } } });
  });

  it('503 naming the configuration, without its values', async () => {
    const h = createHarness({ vars: { SESSION_SECRET: 'short-secret' } });
    const res = await h.request('/readyz');
    expect(res.status).toBe(503);
    const body = (await res.json()) as { failing: string[]; checks: { config: { error: string } } };
    expect(body.failing).toEqual(['config', 'looker']);
    expect(body.checks.config.error).toBe('invalid: SESSION_SECRET');
    expect(JSON.stringify(body)).not.toContain('short-secret');
  });
});
