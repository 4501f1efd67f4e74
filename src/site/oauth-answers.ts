/**
 * What the gateway's OAuth-style endpoints (the command line's /cli/token, the agents'
 * /oauth/token and /oauth/register) and their redirects answer with: RFC 6749's JSON
 * errors, never cached, and a redirect URI with parameters added.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../context.ts';

/** `{"error", "error_description"}`, 400 (or 413 for a body too large), `Cache-Control: no-store`. */
export function oauthError(c: Context<AppEnv>, error: string, description: string, status: 400 | 413 = 400) {
  return c.json({ error, error_description: description }, status, { 'cache-control': 'no-store' });
}

/** `base` with these query parameters set (those undefined left out). */
export function withParams(base: string, params: Record<string, string | undefined>): string {
  const url = new URL(base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.href;
}
