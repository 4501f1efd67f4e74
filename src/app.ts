/**
 * The gateway: two Hono apps over one set of services. Requests under /api go to the
 * API (api/app.ts), everything else to the site (site/app.tsx). They share no
 * middleware: the site wraps pages in security headers and content negotiation, the
 * proxy answers JSON and keeps its hot path to a single handler. In front of both: plain
 * http only for development on this machine.
 */
import type { ExecutionContext } from 'hono';
import type { Bindings } from './context.ts';
import { createApiApp } from './api/app.ts';
import { isApiUrl } from './http/raw-url.ts';
import { type AppDependencies, createServices } from './services.ts';
import { createSiteApp } from './site/app.tsx';
import { handleMcp } from './mcp/handler.ts';
import type { McpHandler } from './site/mcp.tsx';

export type { AppDependencies } from './services.ts';

export interface GatewayApp {
  fetch(request: Request, env: Bindings, ctx?: ExecutionContext): Promise<Response>;
}

/** `mcp`: the MCP server that answers an authenticated agent at /mcp (default: src/mcp/'s; tests may give another). */
export function createApp(deps: AppDependencies & { mcp?: McpHandler }): GatewayApp {
  const services = createServices(deps);
  const api = createApiApp(services);
  const site = createSiteApp(services, { mcp: deps.mcp ?? handleMcp });
  return {
    fetch: async (request, env, ctx) => {
      const url = request.url;
      return plainHttpAnswer(request.method, url) ?? (isApiUrl(url) ? api : site).fetch(request, env, ctx);
    },
  };
}

export { isApiUrl };

const DEVELOPMENT_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Plain http is served only on this machine (development): anywhere else the session
 * cookie and Looker's answers would cross the network in clear. A GET or HEAD on the
 * default port is sent to the same URL on https; anything else is refused rather than
 * redirected: a client that sends bodies over http is told to stop instead of doing it
 * before every redirect, and a development server on another port (which serves no
 * https, and whose proxy may rewrite the redirect back to http) gets no redirect loop.
 */
export function plainHttpAnswer(method: string, url: string): Response | undefined {
  if (!url.startsWith('http:')) return undefined;
  // Deno builds the URL from the Host header as sent: one that is not a host (`a b`, `x:99999`) makes no URL.
  const parsed = URL.parse(url);
  if (parsed === null) return Response.json({ message: 'The Host header is not a valid host.' }, { status: 400 });
  if (DEVELOPMENT_HOSTS.has(parsed.hostname)) return undefined;
  const https = `https:${url.slice('http:'.length)}`;
  if ((method === 'GET' || method === 'HEAD') && parsed.port === '') return new Response(null, { status: 308, headers: { location: https } });
  return Response.json({ message: `Plain http is not accepted here: use https${parsed.port === '' ? ` (${https})` : ''}.` }, { status: 400 });
}
