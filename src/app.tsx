/**
 * The Hono app: middleware order and route mounting, nothing else.
 * Dependencies are injected so tests can point the gateway at the Looker simulator
 * and move the clock; the Worker entry (index.ts) passes the platform's own.
 */
import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { routePath } from 'hono/route';
import { secureHeaders } from 'hono/secure-headers';
import { type Config, type ConfigProblem, parseConfig } from './config.ts';
import type { AppEnv, Bindings } from './context.ts';
import { createLogger, type LogSink } from './log.ts';
import type { Fetch } from './looker/http.ts';
import { apiRoutes } from './routes/api.ts';
import { healthRoutes } from './routes/health.ts';
import { authRoutes } from './routes/auth.tsx';
import { pageRoutes } from './routes/pages.tsx';
import { Cookies } from './session/cookies.ts';
import { SessionCache } from './session/cache.ts';
import { LocalRefreshCoordinator, type RefreshCoordinator } from './session/coordinator.ts';
import { TokenRefresher } from './session/refresh.ts';
import { Sealer } from './session/seal.ts';
import { SessionStore } from './session/store.ts';
import { ConfigErrorPage, ErrorPage } from './views/error.tsx';
import { STYLESHEET } from './views/style.ts';

export interface AppDependencies {
  /** How the gateway reaches Looker (default: the runtime's fetch). */
  fetch?: Fetch;
  /** The clock, in epoch milliseconds (default: Date.now). */
  now?: () => number;
  /** Where log lines go (default: console.log). */
  logSink?: LogSink;
  /** Deadline for the gateway's own calls to Looker: token, user, logout (default 15 s). */
  lookerTimeoutMs?: number;
  /**
   * The cross-isolate refresh coordinator for these bindings (the Worker entry returns
   * the Durable Object one); undefined means single-isolate coordination in memory.
   */
  coordinatorFor?: (env: Bindings, sealer: Sealer) => RefreshCoordinator | undefined;
  /** `false` turns off the isolate's 30-second memory of opened sessions (tests of KV itself). */
  sessionCache?: false;
}

const DEFAULT_LOOKER_TIMEOUT_MS = 15_000;

type ConfigState =
  | { ok: true; config: Config; sealer: Sealer; coordinator: RefreshCoordinator }
  | { ok: false; problems: ConfigProblem[] };

export function createApp(deps: AppDependencies = {}) {
  const now = deps.now ?? Date.now;
  const fetchFn: Fetch = deps.fetch ?? ((input, init) => fetch(input, init));
  const log = createLogger(deps.logSink);
  const lookerTimeoutMs = deps.lookerTimeoutMs ?? DEFAULT_LOOKER_TIMEOUT_MS;
  const localCoordinator = new LocalRefreshCoordinator();
  const sessionCache = deps.sessionCache === false ? undefined : new SessionCache(now);
  const refresher = new TokenRefresher(now, (event) =>
    log[event.outcome === 'refreshed' || event.outcome === 'adopted' ? 'info' : 'warn']('token_refresh', { ...event }),
  );

  // Bindings are fixed for an isolate's life; parse them, derive keys and pick the refresh
  // coordinator once, not on every request.
  const configStates = new WeakMap<object, ConfigState>();
  const configFor = (env: Bindings): ConfigState => {
    let state = configStates.get(env);
    if (state === undefined) {
      const result = parseConfig(env);
      if (result.ok) {
        const sealer = new Sealer(result.config.sessionSecret);
        state = { ...result, sealer, coordinator: deps.coordinatorFor?.(env, sealer) ?? localCoordinator };
      } else {
        state = result;
      }
      if (!state.ok) log.error('config_invalid', { problems: state.problems.map((p) => `${p.variable} ${p.problem}`).join('; ') });
      configStates.set(env, state);
    }
    return state;
  };

  const app = new Hono<AppEnv>();

  app.use(requestId({ generator: () => crypto.randomUUID() }));
  app.use(async (c, next) => {
    const started = now();
    await next();
    const kv = c.get('gateway')?.store.operations;
    log.info('request', {
      requestId: c.get('requestId'),
      method: c.req.method,
      route: routePath(c, -1),
      status: c.res.status,
      durationMs: now() - started,
      refreshed: c.get('refreshed') ?? false,
      upstreamStatus: c.get('upstreamStatus'),
      kvReads: kv?.reads,
      kvWrites: kv?.writes,
    });
  });
  // Pages get the full set. API answers carry Looker's bytes (sometimes an HTML error
  // page): nosniff always, and a sandboxing CSP on whatever a browser could render as a
  // document (JSON it cannot). Set directly, and only those: each header set costs about
  // 20k instructions per proxied request in workerd (`npm run bench`).
  const pageHeaders = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
    xFrameOptions: 'DENY',
    // Never send the callback URL (it carries the code) to another origin; and unlike
    // no-referrer, keeps a real Origin header on same-origin form POSTs.
    referrerPolicy: 'same-origin',
  });
  app.use(async (c, next) => {
    if (!isApiPath(c.req.path)) return pageHeaders(c, next);
    await next();
    const headers = c.res.headers;
    // Hono's requestId puts its header on responses Hono builds; the proxy builds its own.
    headers.set('x-request-id', c.get('requestId'));
    headers.set('x-content-type-options', 'nosniff');
    if (!isJson(headers.get('content-type'))) {
      headers.set('content-security-policy', "default-src 'none'; frame-ancestors 'none'; sandbox");
      headers.set('referrer-policy', 'same-origin');
    }
  });

  app.get('/assets/style.css', (c) =>
    c.body(STYLESHEET, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600' }),
  );

  // Health and readiness answer even when the configuration is broken (readiness says so).
  const configResultFor = (env: Bindings) => {
    const state = configFor(env);
    return state.ok ? { ok: true as const, config: state.config } : state;
  };
  app.route('/', healthRoutes({ configFor: configResultFor, fetch: fetchFn, now }));

  app.use(async (c, next) => {
    const state = configFor(c.env);
    if (!state.ok) {
      const body = { message: 'The gateway is not configured correctly', problems: state.problems };
      if (wantsJson(c.req.raw)) return c.json(body, 500);
      return c.html(<ConfigErrorPage problems={state.problems} />, 500);
    }
    const { config, sealer, coordinator } = state;
    const origin = config.gatewayOrigin ?? new URL(c.req.url).origin;
    const store = new SessionStore(c.env.SESSIONS, sealer, now, sessionCache);
    c.set('gateway', {
      config,
      origin,
      redirectUri: `${origin}/callback`,
      store,
      oauth: {
        fetch: fetchFn,
        lookerUrl: config.lookerUrl,
        lookerApiUrl: config.lookerApiUrl,
        clientId: config.lookerClientId,
        timeoutMs: lookerTimeoutMs,
      },
      cookies: new Cookies(origin),
      refresher,
      coordinator,
      log,
      now,
    });
    await next();
  });

  app.route('/', apiRoutes);
  app.route('/', authRoutes);
  app.route('/', pageRoutes);

  app.notFound((c) => {
    if (wantsJson(c.req.raw)) return c.json({ message: `Nothing at ${c.req.method} ${new URL(c.req.url).pathname}` }, 404);
    return c.html(<ErrorPage title="Not found" message="There is nothing at this address." />, 404);
  });

  app.onError((error, c) => {
    log.error('unhandled_error', { requestId: c.get('requestId'), route: routePath(c, -1), error: error.name });
    if (wantsJson(c.req.raw)) return c.json({ message: 'Internal error in the gateway', requestId: c.get('requestId') }, 500);
    return c.html(
      <ErrorPage title="Something went wrong" message={`The gateway failed to handle this request (request id ${c.get('requestId')}).`} />,
      500,
    );
  });

  return app;
}

function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/');
}

const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

function isJson(contentType: string | null): boolean {
  return contentType !== null && JSON_TYPE.test(contentType);
}

function wantsJson(request: Request): boolean {
  if (isApiPath(new URL(request.url).pathname)) return true;
  const accept = request.headers.get('accept') ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}
