/**
 * The gateway: two Hono apps over one set of services. Requests under /api go to the
 * API (api/app.ts), everything else to the site (site/app.tsx). They share no
 * middleware: the site wraps pages in security headers and content negotiation, the
 * proxy answers JSON and keeps its hot path to a single handler. In front of both: plain
 * http only for development on this machine.
 */
import type { Bindings } from './context.ts';
import { createApiApp } from './api/app.ts';
import { isApiUrl } from './http/raw-url.ts';
import { type AppDependencies, createServices } from './services.ts';
import { createSiteApp } from './site/app.tsx';

export type { AppDependencies } from './services.ts';

export interface GatewayApp {
  fetch(request: Request, env: Bindings, ctx?: ExecutionContext): Promise<Response>;
}

export function createApp(deps: AppDependencies = {}): GatewayApp {
  const services = createServices(deps);
  const api = createApiApp(services);
  const site = createSiteApp(services);
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
 * cookie and Looker's answers would cross the network in clear. A GET or HEAD is sent to
 * the same URL on https; anything else is refused rather than redirected, so a client
 * that sends bodies over http is told to stop instead of doing it before every redirect.
 */
export function plainHttpAnswer(method: string, url: string): Response | undefined {
  if (!url.startsWith('http:') || DEVELOPMENT_HOSTS.has(new URL(url).hostname)) return undefined;
  if (method === 'GET' || method === 'HEAD') return new Response(null, { status: 308, headers: { location: `https:${url.slice('http:'.length)}` } });
  return Response.json({ message: 'Plain http is not accepted here: use https.' }, { status: 400 });
}

