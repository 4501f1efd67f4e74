/**
 * /api/* → LOOKER_API_URL/api/* with the session's bearer token: the caller talks to
 * Looker as if directly, without ever holding a Looker credential.
 *
 * Order: CORS (allowed origins only) → CSRF check on unsafe methods → target path
 * check → session (the isolate's memory of it, else one KV read) → refresh if the token is about to expire → forward,
 * streamed both ways → on a 401 for a token we believed valid, refresh once and retry
 * when the request can be replayed.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { AppEnv, Gateway } from '../context.ts';
import { cors } from '../http/cors.ts';
import { checkRequestOrigin } from '../http/same-origin.ts';
import { isLookerError, LookerTimeoutError } from '../looker/errors.ts';
import { fetchWithDeadline } from '../looker/http.ts';
import { prepareRequestBody } from '../proxy/body.ts';
import { downstreamResponseHeaders, upstreamRequestHeaders } from '../proxy/headers.ts';
import { resolveApiTarget } from '../proxy/target.ts';
import { SessionEndedError } from '../session/refresh.ts';

export const apiRoutes = new Hono<AppEnv>();

const FORWARDED_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Request bodies up to this size are buffered so a request can be replayed after a refresh. */
export const REPLAYABLE_BODY_LIMIT = 64 * 1024;

apiRoutes.use(
  '/api/*',
  cors<AppEnv>({
    allowedOrigins: (c) => c.get('gateway').config.allowedOrigins,
    allowMethods: [...FORWARDED_METHODS],
    exposeHeaders: ['content-disposition', 'retry-after', 'etag', 'content-length', 'content-type', 'x-request-id'],
    maxAge: 600,
  }),
);

apiRoutes.all('/api/*', async (c) => {
  const gw = c.get('gateway');
  const method = c.req.method;
  if (!FORWARDED_METHODS.has(method)) {
    return c.json({ message: `Method ${method} is not supported by the Looker API` }, 405, { allow: [...FORWARDED_METHODS].join(', ') });
  }

  if (!SAFE_METHODS.has(method)) {
    const verdict = checkRequestOrigin(c.req.raw.headers, gw.origin, gw.config.allowedOrigins);
    if (!verdict.allowed) {
      gw.log.warn('csrf_refused', { requestId: c.get('requestId'), route: '/api/*', method, reason: verdict.reason });
      return c.json(
        { message: `Cross-site ${method} refused: ${verdict.reason}. Browser apps must be served from this gateway or an origin in ALLOWED_ORIGINS.` },
        403,
      );
    }
  }

  // Path and query exactly as they arrived (c.req.path would be percent-decoded).
  const rawUrl = c.req.url;
  const pathAt = rawUrl.indexOf('/', rawUrl.indexOf('//') + 2);
  const queryAt = rawUrl.indexOf('?', pathAt);
  const target = resolveApiTarget(
    queryAt === -1 ? rawUrl.slice(pathAt) : rawUrl.slice(pathAt, queryAt),
    queryAt === -1 ? '' : rawUrl.slice(queryAt),
    gw.config.lookerApiUrl,
  );
  if (!target.ok) {
    return c.json(
      target.reason === 'auth-endpoint'
        ? { message: target.message, login_url: `${gw.origin}/login`, logout_url: `${gw.origin}/logout` }
        : { message: target.message },
      target.status,
    );
  }

  const cookie = gw.cookies.readSession(c);
  const session = await gw.store.readSession(cookie);
  if (session === null) {
    if (cookie !== undefined) gw.cookies.clearSession(c);
    return notSignedIn(c, gw, 'Not signed in to the gateway');
  }

  // Bodies stream through; only a small one is held so it can be sent again after a refresh.
  const { body, replayable } = await prepareRequestBody(c.req.raw, REPLAYABLE_BODY_LIMIT);
  const incoming = c.req.raw.headers;

  try {
    const { result: upstream, refreshed } = await gw.refresher.callWithAccessToken(
      gw,
      session.handle,
      session.record,
      (accessToken) => send(gw, method, target.url, incoming, body, accessToken),
      { isRefused: (res) => res.status === 401, canRepeat: replayable, discard: (res) => res.body?.cancel() ?? Promise.resolve() },
    );
    c.set('refreshed', refreshed);
    c.set('upstreamStatus', upstream.status);
    const headers = downstreamResponseHeaders(upstream.headers, { lookerApiUrl: gw.config.lookerApiUrl, gatewayOrigin: gw.origin });
    return new Response(method === 'HEAD' ? null : upstream.body, { status: upstream.status, statusText: upstream.statusText, headers });
  } catch (error) {
    return failure(c, gw, error);
  }
});

function send(
  gw: Gateway,
  method: string,
  url: string,
  incoming: Headers,
  body: ReadableStream<Uint8Array> | ArrayBuffer | null,
  accessToken: string,
): Promise<Response> {
  // The deadline covers the wait for response headers; the body then streams for as long as it takes.
  return fetchWithDeadline(
    gw.oauth.fetch,
    url,
    { method, headers: upstreamRequestHeaders(incoming, accessToken), body },
    gw.config.upstreamTimeoutMs,
    'Forwarding to the Looker API',
  );
}

function notSignedIn(c: Context<AppEnv>, gw: Gateway, message: string) {
  return c.json({ message: `${message}. Sign in at login_url, then retry.`, login_url: `${gw.origin}/login` }, 401);
}

async function failure(c: Context<AppEnv>, gw: Gateway, error: unknown) {
  if (error instanceof SessionEndedError) {
    // The refresher has already deleted the session from the store.
    gw.cookies.clearSession(c);
    gw.log.info('session_ended', { requestId: c.get('requestId'), route: '/api/*', reason: 'refresh refused' });
    return notSignedIn(c, gw, 'Your Looker session has ended');
  }
  if (!isLookerError(error)) throw error;
  const status = error instanceof LookerTimeoutError ? 504 : 502;
  gw.log.warn('api_upstream_failed', { requestId: c.get('requestId'), route: '/api/*', status, cause: error.name });
  return c.json(
    {
      message:
        status === 504
          ? `Looker did not start answering within ${gw.config.upstreamTimeoutMs} ms`
          : 'Looker could not be reached or answered with an error',
      requestId: c.get('requestId'),
    },
    status,
  );
}
