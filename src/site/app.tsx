/**
 * The gateway's own pages and endpoints: home, sign-in and sign-out, "Your access", the
 * command line's endpoints and consent page, health, the stylesheet. Everything under
 * /api is the API's (api/app.ts), a separate app.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import { routePath } from 'hono/route';
import type { AppEnv } from '../context.ts';
import { logRequest, requestIdFor } from '../http/request-log.ts';
import { authRoutes } from './auth.tsx';
import { cliRoutes } from './cli.tsx';
import { healthRoutes } from './health.ts';
import { mcpResource } from '../oauth/metadata.ts';
import { mcpRoutes, type McpHandler } from './mcp.tsx';
import { oauthRoutes } from './oauth.tsx';
import { pageHeaders } from './page-headers.ts';
import { pageRoutes } from './pages.tsx';
import type { Services } from '../services.ts';
import { ConfigErrorPage, ErrorPage } from './views/error.tsx';
import { FAVICON_SVG } from './views/favicon.ts';
import { STYLESHEET } from './views/style.ts';

/** `mcp`: the MCP server behind /mcp. */
export function createSiteApp(services: Services, options: { mcp: McpHandler }) {
  const { log, now } = services;
  const app = new Hono<AppEnv>();

  app.use(async (c, next) => {
    const started = now();
    const requestId = requestIdFor(c.req.raw.headers);
    c.set('requestId', requestId);
    c.header('x-request-id', requestId);
    await next();
    logRequest(log, c, routePath(c, -1), c.res.status, now() - started);
  });
  // Security headers on every answer, the CSP included (routes only name extra form targets).
  app.use(pageHeaders);

  app.get('/assets/style.css', (c) =>
    c.body(STYLESHEET, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600' }),
  );
  const favicon = (c: Context) => c.body(FAVICON_SVG, 200, { 'content-type': 'image/svg+xml', 'cache-control': 'public, max-age=86400' });
  app.get('/assets/favicon.svg', favicon);
  app.get('/favicon.ico', favicon);

  // Health and readiness answer even when the configuration is broken (readiness says so).
  app.route('/', healthRoutes(services));

  app.use(async (c, next) => {
    const result = services.gatewayFor(c.env, c.req.url);
    if (!result.ok) {
      const body = { message: 'The gateway is not configured correctly', problems: result.problems };
      if (wantsJson(c.req.raw)) return c.json(body, 500);
      return c.html(<ConfigErrorPage problems={result.problems} />, 500);
    }
    c.set('gateway', result.gateway);
    await next();
  });

  app.route('/', authRoutes);
  app.route('/', pageRoutes);
  app.route('/', cliRoutes);
  app.route('/', oauthRoutes);
  app.route('/', mcpRoutes(options.mcp));

  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    // An MCP client given the gateway's address, /mcp/ or an old SSE path: say where the server is.
    if (MCP_MISTAKE.test(path) && (c.req.method === 'POST' || path !== '/')) {
      const at = mcpResource(c.get('gateway')?.origin ?? new URL(c.req.url).origin);
      return c.json({ message: `Nothing at ${c.req.method} ${path}. The MCP server is at ${at}: give your AI client that address.` }, 404);
    }
    if (wantsJson(c.req.raw)) return c.json({ message: `Nothing at ${c.req.method} ${path}` }, 404);
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

/** Where an MCP client lands when given the wrong address: the root, /mcp/…, or an SSE-era path. */
const MCP_MISTAKE = /^\/(?:mcp\/.*|sse|messages?|mcp\/?sse)?$/i;

function wantsJson(request: Request): boolean {
  const accept = request.headers.get('accept') ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}
