/**
 * Health and readiness, for load balancers and uptime checks.
 * - /healthz: the Worker runs (touches neither Looker nor KV, and works even when the
 *   configuration is broken, which /readyz reports).
 * - /readyz: configuration valid, KV answers, Looker answers GET /api/4.0/versions.
 *   The KV and Looker results are kept briefly per isolate: anyone may call /readyz, and
 *   a loop of calls must cost neither storage operations nor Looker's time. 503 names
 *   what failed.
 */
import { Hono } from 'hono';
import type { ConfigResult } from '../config.ts';
import type { KeyValueStore } from '../callers/records.ts';
import type { Bindings } from '../context.ts';
import { getVersions } from '../looker/api.ts';
import { LookerRejectedError, LookerTimeoutError, LookerUnavailableError } from '../looker/errors.ts';
import { type Fetch, TIMED_OUT, withDeadline } from '../looker/http.ts';
import { VERSION } from '../version.ts';

export interface HealthDependencies {
  configFor: (env: Bindings) => ConfigResult;
  /** The holder-record store these bindings provide, if any. */
  kvFor: (env: Bindings) => KeyValueStore | undefined;
  fetch: Fetch;
  now: () => number;
}

const PROBE_CACHE_MS = 10_000;
const PROBE_TIMEOUT_MS = 3_000;

type Check = { ok: true; [detail: string]: unknown } | { ok: false; error: string };

/**
 * One probe's last result, for PROBE_CACHE_MS, per what it probed (a URL, a binding).
 * The result is kept rather than the pending promise: a promise created by one request
 * must not be awaited by another in workerd, so concurrent first probes each probe.
 */
class ProbeCache {
  #last: { target: unknown; at: number; result: Check } | undefined;
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  async get(target: unknown, probe: () => Promise<Check>): Promise<Check> {
    const last = this.#last;
    if (last !== undefined && last.target === target && this.#now() - last.at <= PROBE_CACHE_MS) return last.result;
    const result = await probe();
    this.#last = { target, at: this.#now(), result };
    return result;
  }
}

export function healthRoutes(deps: HealthDependencies) {
  const routes = new Hono<{ Bindings: Bindings }>();
  const kvProbe = new ProbeCache(deps.now);
  const lookerProbe = new ProbeCache(deps.now);

  routes.get('/healthz', (c) => c.json({ status: 'ok', version: VERSION }, 200, { 'cache-control': 'no-store' }));

  routes.get('/readyz', async (c) => {
    const config = deps.configFor(c.env);
    const checks: Record<string, Check> = {};
    checks.config = config.ok
      ? { ok: true }
      : { ok: false, error: `invalid: ${config.problems.map((p) => p.variable).join(', ')}` };

    const kv = deps.kvFor(c.env);
    checks.kv = kv === undefined ? { ok: false, error: 'KV is not bound' } : await kvProbe.get(kv, () => probeKv(kv));

    if (config.ok) {
      const url = config.config.lookerApiUrl;
      checks.looker = await lookerProbe.get(url, () => probeLooker(deps.fetch, url));
    } else {
      checks.looker = { ok: false, error: 'not checked: configuration invalid' };
    }

    const failing = Object.entries(checks).filter(([, check]) => !check.ok).map(([name]) => name);
    return c.json(
      failing.length === 0
        ? { status: 'ready', version: VERSION, checks }
        : { status: 'not ready', version: VERSION, failing, checks },
      failing.length === 0 ? 200 : 503,
      { 'cache-control': 'no-store' },
    );
  });

  return routes;
}

async function probeKv(kv: KeyValueStore): Promise<Check> {
  try {
    const read = await withDeadline(kv.get('readyz:probe'), PROBE_TIMEOUT_MS);
    return read === TIMED_OUT ? { ok: false, error: 'KV did not answer in time' } : { ok: true };
  } catch {
    return { ok: false, error: 'KV read failed' };
  }
}

async function probeLooker(fetchFn: Fetch, lookerApiUrl: string): Promise<Check> {
  try {
    const versions = await getVersions({ fetch: fetchFn, lookerApiUrl, timeoutMs: PROBE_TIMEOUT_MS });
    return { ok: true, release: versions.release ?? null };
  } catch (error) {
    if (error instanceof LookerTimeoutError) return { ok: false, error: 'Looker did not answer in time' };
    if ((error instanceof LookerUnavailableError || error instanceof LookerRejectedError) && error.status !== undefined) {
      return { ok: false, error: `Looker answered ${error.status} to /api/4.0/versions` };
    }
    if (error instanceof LookerUnavailableError) return { ok: false, error: 'Looker could not be reached' };
    return { ok: false, error: 'Looker answered /api/4.0/versions with something unexpected' };
  }
}
