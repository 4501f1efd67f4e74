import { describe, expect, it } from 'vitest';
import pkg from '../package.json';
import { VERSION } from '../src/version.ts';
import type { KeyValueStore } from '../src/session/store.ts';
import { createHarness, type TestKv } from './helpers.ts';

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
