/**
 * CORS for the API, granted to ALLOWED_ORIGINS only: preflights are answered here
 * (credentials allowed, the requested headers echoed, no wildcard), and answers to an
 * allowed origin carry the grant and expose the headers an app needs.
 *
 * Why not `hono/cors`: it writes its headers to `c.res` before the handler runs, which
 * makes Hono allocate a placeholder Response and then copy the handler's Response into
 * it, and once more for `Vary` afterwards; it also sets Allow-Credentials and
 * Expose-Headers on every answer, granted or not. On the proxy's hot path that measured
 * about 0.2 M instructions per request in workerd, over a tenth of the gateway's
 * throughput (`npm run bench`). This middleware touches the handler's Response only, and
 * only with the headers that apply.
 */
import type { Context, Env, MiddlewareHandler } from 'hono';

export interface CorsOptions<E extends Env> {
  /** The origins granted access, for this request's configuration. */
  allowedOrigins: (c: Context<E>) => readonly string[];
  allowMethods: readonly string[];
  exposeHeaders: readonly string[];
  /** Seconds a browser may cache a preflight answer. */
  maxAge: number;
}

export function cors<E extends Env>(options: CorsOptions<E>): MiddlewareHandler<E> {
  const allowMethods = options.allowMethods.join(',');
  const exposeHeaders = options.exposeHeaders.join(',');
  const maxAge = String(options.maxAge);

  return async (c, next) => {
    const allowedOrigins = options.allowedOrigins(c);
    // Nothing to grant and nothing that varies: the common case costs no header reads.
    if (allowedOrigins.length === 0 && c.req.method !== 'OPTIONS') return next();
    const origin = c.req.header('origin');
    const granted = origin !== undefined && allowedOrigins.includes(origin);

    if (c.req.method === 'OPTIONS') {
      const headers = new Headers({ vary: 'Origin, Access-Control-Request-Headers' });
      if (granted) {
        headers.set('access-control-allow-origin', origin);
        headers.set('access-control-allow-credentials', 'true');
        headers.set('access-control-allow-methods', allowMethods);
        headers.set('access-control-max-age', maxAge);
        const requested = c.req.header('access-control-request-headers');
        if (requested !== undefined) {
          headers.set('access-control-allow-headers', requested.split(',').map((h) => h.trim()).join(','));
        }
      }
      return new Response(null, { status: 204, headers });
    }

    await next();
    // The answer depends on Origin only when some origin can be granted.
    if (allowedOrigins.length === 0) return;
    const headers = c.res.headers;
    headers.append('vary', 'Origin');
    if (granted) {
      headers.set('access-control-allow-origin', origin);
      headers.set('access-control-allow-credentials', 'true');
      headers.set('access-control-expose-headers', exposeHeaders);
    }
  };
}
