/**
 * CORS for the API, granted to ALLOWED_ORIGINS only: preflights are answered here
 * (credentials allowed, the requested headers echoed, no wildcard), and answers to an
 * allowed origin carry the grant and expose the headers an app needs.
 *
 * Not `hono/cors`: as a middleware it cost ~0.2 M instructions per proxied request
 * (docs/performance.md); this is two plain calls that add only the headers that apply.
 */

export interface CorsOptions {
  allowMethods: readonly string[];
  exposeHeaders: readonly string[];
  /** Seconds a browser may cache a preflight answer. */
  maxAge: number;
}

export class CorsPolicy {
  readonly #allowMethods: string;
  readonly #exposeHeaders: string;
  readonly #maxAge: string;

  constructor(options: CorsOptions) {
    this.#allowMethods = options.allowMethods.join(',');
    this.#exposeHeaders = options.exposeHeaders.join(',');
    this.#maxAge = String(options.maxAge);
  }

  /** The answer to an OPTIONS preflight: a grant for an allowed origin, else none. */
  preflight(request: Request, allowedOrigins: readonly string[]): Response {
    const headers = new Headers({ vary: 'Origin, Access-Control-Request-Headers' });
    const origin = grantedOrigin(request, allowedOrigins);
    if (origin !== undefined) {
      headers.set('access-control-allow-origin', origin);
      headers.set('access-control-allow-credentials', 'true');
      headers.set('access-control-allow-methods', this.#allowMethods);
      headers.set('access-control-max-age', this.#maxAge);
      const requested = request.headers.get('access-control-request-headers');
      if (requested !== null) {
        headers.set('access-control-allow-headers', requested.split(',').map((h) => h.trim()).join(','));
      }
    }
    return new Response(null, { status: 204, headers });
  }

  /** Adds the grant to an answer for an allowed origin. Nothing to grant costs no header reads. */
  apply(request: Request, allowedOrigins: readonly string[], answer: Headers): void {
    if (allowedOrigins.length === 0) return;
    // The answer depends on Origin only when some origin can be granted.
    answer.append('vary', 'Origin');
    const origin = grantedOrigin(request, allowedOrigins);
    if (origin !== undefined) {
      answer.set('access-control-allow-origin', origin);
      answer.set('access-control-allow-credentials', 'true');
      answer.set('access-control-expose-headers', this.#exposeHeaders);
    }
  }
}

function grantedOrigin(request: Request, allowedOrigins: readonly string[]): string | undefined {
  const origin = request.headers.get('origin');
  return origin !== null && allowedOrigins.includes(origin) ? origin : undefined;
}
