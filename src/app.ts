/**
 * The gateway: two Hono apps over one set of services. Requests under /api go to the
 * API (api/app.ts), everything else to the site (site/app.tsx). They share no
 * middleware: the site wraps pages in security headers and content negotiation, the
 * proxy answers JSON and keeps its hot path to a single handler.
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
    fetch: async (request, env, ctx) => (isApiUrl(request.url) ? api : site).fetch(request, env, ctx),
  };
}

export { isApiUrl };
