/**
 * The gateway: two Hono apps over one set of services. Requests under /api go to the
 * API proxy (routes/api.ts), everything else to the site (site.tsx). They share no
 * middleware: the site wraps pages in security headers and content negotiation, the
 * proxy answers JSON and keeps its hot path to a single handler.
 */
import type { Bindings } from './context.ts';
import { createApiApp } from './api/app.ts';
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

/** Whether the URL's path is /api or under /api/ (the URL as the runtime gives it: absolute, normalised). */
export function isApiUrl(url: string): boolean {
  const pathAt = url.indexOf('/', url.indexOf('//') + 2);
  return url.startsWith('/api', pathAt) && (url.length === pathAt + 4 || '/?#'.includes(url[pathAt + 4]!));
}
