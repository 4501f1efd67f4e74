/**
 * /api/* → LOOKER_API_URL/api/* with the caller's Looker grant: the caller (a browser's
 * session cookie, or a script's gateway bearer token) talks to Looker as if directly,
 * without ever holding a Looker credential.
 *
 * One handler, read top to bottom: the request's headers (one walk) → configuration →
 * CORS preflight → cross-site navigations refused → method → target path (Looker's own
 * sign-in endpoints refused, except the SDK login shim's exact spellings) → who is
 * calling (bearer token; else the cookie, with the CSRF check) → the grant's scope (a
 * read-only grant's writes refused) → refresh if needed →
 * forward, streamed both ways → on Looker's 401, refresh once and retry when the request
 * can be replayed. Every answer then gets the API's headers and one request log line.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { AppEnv, Gateway } from '../context.ts';
import { bearerToken } from '../callers/access-tokens.ts';
import type { Caller, CallerSource } from '../callers/caller-source.ts';
import { callerSourceFor } from '../callers/resolve.ts';
import { GrantEndedError, GrantUnavailableError } from '../grants/access.ts';
import { splitRawUrl } from '../http/raw-url.ts';
import { logRequest, requestIdFrom } from '../http/request-log.ts';
import { checkRequestOrigin } from '../http/same-origin.ts';
import { isLookerError, LookerTimeoutError } from '../looker/errors.ts';
import { fetchWithDeadline } from '../looker/http.ts';
import type { Services } from '../services.ts';
import { setApiAnswerHeaders } from './answer-headers.ts';
import { prepareRequestBody } from './body.ts';
import { CorsPolicy } from './cors.ts';
import { downstreamResponseHeaders, readRequestHeaders, type RequestHeaders, upstreamHeaders } from './headers.ts';
import { authenticationHint, credentialEndedHint, requiresAuthentication } from './looker-shapes.ts';
import { isSudoPath, sdkLogin, sdkLogout, sudoRefused } from './sdk-login.ts';
import { scopeRefusal } from './scope-check.ts';
import { resolveApiTarget } from '../http/api-target.ts';

const FORWARDED_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Request bodies up to this size are buffered so a request can be replayed after a refresh. */
export const REPLAYABLE_BODY_LIMIT = 64 * 1024;

const corsPolicy = new CorsPolicy({
  allowMethods: [...FORWARDED_METHODS],
  exposeHeaders: ['content-disposition', 'retry-after', 'etag', 'content-length', 'content-type', 'x-request-id'],
  maxAge: 600,
});

export function createApiApp(services: Services) {
  const { log, now } = services;
  const app = new Hono<AppEnv>();

  app.all('/api/*', async (c) => {
    const started = now();
    // Every request header the API needs, in one walk (each single read is a call into the runtime).
    const headers = readRequestHeaders(c.req.raw.headers);
    const requestId = requestIdFrom(headers.requestId);
    c.set('requestId', requestId);
    let answer: Response;
    try {
      answer = await handle(c, services, headers);
    } catch (error) {
      log.error('unhandled_error', { requestId, route: '/api/*', error: error instanceof Error ? error.name : typeof error });
      answer = c.json({ message: 'Internal error in the gateway', requestId }, 500);
    }
    setApiAnswerHeaders(answer.headers, requestId);
    logRequest(log, c, '/api/*', answer.status, now() - started);
    return answer;
  });

  return app;
}

async function handle(c: Context<AppEnv>, services: Services, headers: RequestHeaders): Promise<Response> {
  // The runtime builds the URL string anew on every read: read it once.
  const url = c.req.url;
  const result = services.gatewayFor(c.env, url);
  if (!result.ok) return c.json({ message: 'The gateway is not configured correctly', problems: result.problems }, 500);
  const gw = result.gateway;
  c.set('gateway', gw);
  const allowedOrigins = gw.config.allowedOrigins;
  const method = c.req.method;
  if (method === 'OPTIONS') return corsPolicy.preflight(c.req.raw, allowedOrigins);
  const answer = await proxy(c, gw, method, url, headers);
  corsPolicy.apply(c.req.raw, allowedOrigins, answer.headers);
  return answer;
}

async function proxy(c: Context<AppEnv>, gw: Gateway, method: string, rawUrl: string, headers: RequestHeaders): Promise<Response> {
  // A top-level navigation carries even a SameSite=Lax cookie: another site could open an
  // API URL as a document with the caller's session. Scripts and this gateway's pages are unaffected.
  if (headers.fetchMode === 'navigate' && headers.fetchSite === 'cross-site') {
    gw.log.warn('cross_site_navigation_refused', { requestId: c.get('requestId'), route: '/api/*', method });
    return c.json({ message: 'A navigation from another site to the API is refused: open API URLs from this gateway, or call them from a script.' }, 403);
  }

  if (!FORWARDED_METHODS.has(method)) {
    return c.json({ message: `Method ${method} is not supported by the Looker API` }, 405, { allow: [...FORWARDED_METHODS].join(', ') });
  }
  const { path, search } = splitRawUrl(rawUrl);
  const { authorization } = headers;
  const bearer = bearerToken(authorization);

  const target = resolveApiTarget(method, path, search, gw.config.lookerApiUrl);
  if (!target.ok) {
    // The Looker SDKs' own login and logout, in exactly the spellings they send, are answered here for script credentials.
    if (target.reason === 'auth-endpoint') {
      if (target.gatewayAnswers && target.endpoint === 'login') return sdkLogin(c, gw, path);
      if (target.gatewayAnswers && target.endpoint === 'logout' && authorization !== undefined) return sdkLogout(c, gw, path, bearer);
      if (method === 'POST' && isSudoPath(path)) return sudoRefused(c, path);
    }
    return c.json(
      target.reason === 'auth-endpoint'
        ? { message: target.message, login_url: `${gw.origin}/login`, logout_url: `${gw.origin}/logout` }
        : { message: target.message },
      target.status,
    );
  }

  // Who is calling: the first registered kind of caller this request presents (src/callers/resolve.ts).
  const presented = { authorization, cookie: headers.cookie };
  const source = callerSourceFor(gw, presented);
  if (source.ambient && !SAFE_METHODS.has(method)) {
    const verdict = checkRequestOrigin(headers, gw.origin, gw.config.allowedOrigins);
    if (!verdict.allowed) {
      gw.log.warn('csrf_refused', { requestId: c.get('requestId'), route: '/api/*', method, reason: verdict.reason });
      return c.json(
        { message: `Cross-site ${method} refused: ${verdict.reason}. Browser apps must be served from this gateway or an origin in ALLOWED_ORIGINS.` },
        403,
      );
    }
  }
  let caller: Caller | null;
  try {
    // The steady state answers from the isolate's memory without an await.
    caller = source.callerFromMemory(presented) ?? (await source.callerFrom(presented, c));
  } catch (error) {
    return failure(c, gw, error, source);
  }
  if (caller === null) {
    return source.whenUnknown === 'looker-401' ? c.json(requiresAuthentication(gw.origin, path, method), 401) : notSignedIn(c, gw, 'Not signed in to the gateway');
  }
  c.set('caller', source.kind);
  const { access, grant } = caller;
  // A read-only grant's writes stop here, before the body is read or Looker is asked (a full grant skips this).
  if (grant.scope !== 'write') {
    const refused = scopeRefusal(grant.scope, method, path);
    if (refused !== null) return c.json(refused, 403);
  }

  // Bodies stream through; only a small one is held so it can be sent again after a refresh.
  const { body, replayable } = await prepareRequestBody(c.req.raw, method, headers.forward['content-length'], REPLAYABLE_BODY_LIMIT);

  try {
    const { result: upstream, refreshed } = await gw.keeper.callWithAccessToken(
      access,
      grant,
      (accessToken) => send(gw, method, target.url, headers, body, accessToken, c.get('requestId')),
      { isRefused: (res) => res.status === 401, canRepeat: replayable, discard: (res) => res.body?.cancel() ?? Promise.resolve() },
    );
    c.set('refreshed', refreshed);
    c.set('upstreamStatus', upstream.status);
    const answerHeaders = downstreamResponseHeaders(upstream.headers, { lookerApiUrl: gw.config.lookerApiUrl, gatewayOrigin: gw.origin });
    return new Response(method === 'HEAD' ? null : upstream.body, { status: upstream.status, statusText: upstream.statusText, headers: answerHeaders });
  } catch (error) {
    return failure(c, gw, error, source);
  }
}

function send(
  gw: Gateway,
  method: string,
  url: string,
  read: RequestHeaders,
  body: ReadableStream<Uint8Array> | ArrayBuffer | null,
  accessToken: string,
  requestId: string,
): Promise<Response> {
  // The deadline covers the wait for response headers; the body then streams for as long as it takes.
  return fetchWithDeadline(
    gw.oauth.fetch,
    url,
    { method, headers: upstreamHeaders(read, accessToken, requestId), body },
    gw.config.upstreamTimeoutMs,
    'Forwarding to the Looker API',
  );
}

function notSignedIn(c: Context<AppEnv>, gw: Gateway, message: string) {
  return c.json({ message: `${message}. Sign in at login_url, then retry.`, login_url: `${gw.origin}/login`, hint: authenticationHint(gw.origin) }, 401);
}

async function failure(c: Context<AppEnv>, gw: Gateway, error: unknown, source: CallerSource) {
  if (error instanceof GrantEndedError) {
    const path = splitRawUrl(c.req.url).path;
    gw.log.info('session_ended', { requestId: c.get('requestId'), route: '/api/*', reason: error.message });
    if (source.whenUnknown === 'looker-401') return c.json(requiresAuthentication(gw.origin, path, c.req.method, credentialEndedHint(gw.origin)), 401);
    gw.sessions.clear(c);
    return notSignedIn(c, gw, 'Your Looker session has ended');
  }
  if (error instanceof GrantUnavailableError) {
    gw.log.warn('api_upstream_failed', { requestId: c.get('requestId'), route: '/api/*', status: 503, cause: error.name, lookerStatus: error.status });
    const headers: Record<string, string> = error.retryAfter === undefined ? {} : { 'retry-after': String(error.retryAfter) };
    const retryable = error.retryAfter !== undefined || error.timedOut || error.status === undefined || error.status >= 500 || error.status === 429;
    return c.json({ message: `${error.message}. Your session is intact; try again.`, requestId: c.get('requestId') }, retryable ? 503 : 502, headers);
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
