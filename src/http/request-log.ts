/**
 * The two things every answer gets, from the site and the API alike: an X-Request-Id
 * (the caller's, when well formed, so a client can correlate; otherwise a new UUID) and
 * one structured `request` log line.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../context.ts';
import type { Logger } from '../log.ts';
import { pathOf } from './raw-url.ts';

/** The rule of Hono's requestId middleware: word characters, `-` and `=`, at most 255. */
const CALLER_ID = /^[\w\-=]{1,255}$/;

export function requestIdFor(headers: Headers): string {
  return requestIdFrom(headers.get('x-request-id') ?? undefined);
}

/** The same, from the header's value as the caller already read it. */
export function requestIdFrom(offered: string | undefined): string {
  return offered !== undefined && CALLER_ID.test(offered) ? offered : crypto.randomUUID();
}

/** Logs the finished request: ids, route, path (without its query), statuses, timing and KV use; never a token. */
export function logRequest(log: Logger, c: Context<AppEnv>, route: string, status: number, durationMs: number, url = c.req.url): void {
  const kv = c.get('gateway')?.kv;
  log.info('request', {
    requestId: c.get('requestId'),
    method: c.req.method,
    route,
    path: pathOf(url).slice(0, 512),
    status,
    durationMs,
    caller: c.get('caller'),
    refreshed: c.get('refreshed') ?? false,
    upstreamStatus: c.get('upstreamStatus'),
    kvReads: kv?.reads,
    kvWrites: kv?.writes,
  });
}
