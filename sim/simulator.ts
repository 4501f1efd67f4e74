/**
 * A local Looker, faithful to what is known of Looker's OAuth server and API, with
 * switches for what is unknown (whether refresh tokens rotate, what error bodies look
 * like, whether logout kills the refresh token) and for outages. Runs anywhere Hono runs:
 * inside the Workers test runtime (tests call `sim.fetch` directly) and in Node
 * (`sim/server.ts`, for `npm run sim` and `npm run dev`).
 *
 * This module composes the parts: the OAuth server (oauth.ts), API-key login and the admin
 * API (admin.ts), the authenticated API (api.ts), the demo model with its queries, looks
 * and dashboards (model-api.ts) and the test probes (fixtures.ts), over one shared memory
 * (state.ts, content.ts). Route order matters: what answers without a token comes
 * before the API's token check, everything after it sits behind it.
 *
 * Plain TypeScript with erasable types only, so Node runs it without a build step.
 */
import { Hono } from 'hono';
import { html } from 'hono/html';
import { registerApiLogin, registerOAuthAppsAdmin } from './admin.ts';
import { registerApi } from './api.ts';
import { createContext } from './context.ts';
import { registerFixtures } from './fixtures.ts';
import { lookerError } from './http.ts';
import { registerModelApi } from './model-api.ts';
import { registerOAuthRoutes } from './oauth.ts';
import { page } from './page.ts';
import type { SimulatorOptions, SimulatorStats } from './switches.ts';

export type { OAuthClientApp } from './apps.ts';
export type { SimulatedUser } from './state.ts';
export type { ApiKey, SimulatorFaults, SimulatorHooks, SimulatorOptions, SimulatorSettings, SimulatorStats, TokenFault } from './switches.ts';

/** Which auth path a request is for, as `stats.authRequests` counts them. */
function authPathOf(pathname: string): keyof SimulatorStats['authRequests'] | null {
  if (pathname === '/api/4.0/login') return 'login';
  if (pathname.startsWith('/api/4.0/login/')) return 'sudo';
  if (pathname === '/api/logout' || pathname === '/api/4.0/logout') return 'logout';
  return null;
}

export function createLookerSimulator(options: SimulatorOptions = {}) {
  const sim = createContext(options);
  const { state, faults, stats } = sim;
  const app = new Hono();

  app.use('*', async (c, next) => {
    const authPath = authPathOf(new URL(c.req.url).pathname);
    if (authPath !== null) stats.authRequests[authPath]++;
    await next();
  });
  registerOAuthRoutes(app, sim);
  registerApiLogin(app, sim);
  registerApi(app, sim);
  registerModelApi(app, sim);
  registerOAuthAppsAdmin(app, sim);
  registerFixtures(app, sim);
  // Looker's 404, saying that it is the simulator's: only a few endpoints exist here (see docs/operations.md).
  app.all('/api/*', (c) =>
    lookerError(
      c,
      404,
      'Not found (the Looker simulator implements only /api/4.0/user, /versions, the demo model under /lookml_models, /queries and their runs, /looks, /folders/{id}/looks and /dashboards(/search); use a real Looker for the rest)',
    ),
  );
  app.get('/', (c) => c.html(page('Looker simulator', html`<p>This is a local Looker simulator for the Looker OAuth Gateway.</p>`)));

  return {
    app,
    faults,
    stats,
    settings: sim.settings,
    hooks: sim.hooks,
    /** The registered OAuth apps, as an admin would see them. */
    apps: sim.apps,
    /** A fetch that reaches this simulator in-process, honouring `faults.unreachable`. */
    fetch: async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
      if (faults.unreachable) throw new TypeError('Network connection lost.');
      const request = new Request(input, init);
      // Like a real fetch, an abort rejects the call (Hono would turn the handler's rejection into a 500).
      return new Promise<Response>((resolve, reject) => {
        if (request.signal.aborted) return reject(new DOMException('The operation was aborted.', 'AbortError'));
        request.signal.addEventListener('abort', () => reject(new DOMException('The operation was aborted.', 'AbortError')));
        Promise.resolve(app.fetch(request)).then(resolve, reject);
      });
    },
    /** Whom the next authorizations are for (the consent page shows them). Throws for an unknown id. */
    signInAs: (userId: string) => state.signInAs(userId),
    /** What an admin can do at any time: kill every code and token of every OAuth app (DELETE oauth_client_apps/{guid}/tokens). */
    revokeAllTokens: () => state.revokeOAuth(),
    /** What an admin's DELETE oauth_client_apps/{guid}/users/{user_id} does: kill that user's codes and tokens. */
    revokeUser: (userId: string) => state.revokeOAuth({ userId }),
    /** Expire one access token early (as if Looker had forgotten it). */
    revokeAccessToken: (token: string) => state.revokeAccessToken(token),
    /** Whether Looker still knows the token (expired access tokens included). */
    hasAccessToken: (token: string) => state.hasAccessToken(token),
    hasRefreshToken: (token: string) => state.hasRefreshToken(token),
    /** How many unexpired access tokens (sudo ones included) exist, of one user or of all. */
    liveAccessTokens: (userId?: string) => state.countLiveAccessTokens(userId),
    /** How many refresh tokens exist, of one user or of all. */
    liveRefreshTokens: (userId?: string) => state.countRefreshTokens(userId),
    /** Open API-key sessions (admin tooling must log out at the end). */
    apiSessionCount: () => state.apiSessionCount,
  };
}

export type LookerSimulator = ReturnType<typeof createLookerSimulator>;
