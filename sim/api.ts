/**
 * Looker's API as a signed-in user sees it: `versions` (open to all), then the token check
 * every other `/api/4.0/*` route sits behind, and `user`, which answers for the token's
 * user. The demo model's endpoints (sim/model-api.ts) and the test probes (fixtures.ts) are
 * registered after this module, behind the same check.
 */
import type { Hono } from 'hono';
import { authenticatedCaller, callerOf } from './caller.ts';
import type { SimContext } from './context.ts';
import { withFields } from './fields-param.ts';
import { hang, lookerError, requiresAuthentication } from './http.ts';

export function registerApi(app: Hono, sim: SimContext): void {
  const { faults, stats, options } = sim;

  app.get('/api/4.0/versions', (c) => {
    const origin = options.publicUrl ?? new URL(c.req.url).origin;
    stats.versionsRequests++;
    if (faults.api === 'down') return lookerError(c, 503, 'Service Unavailable');
    const version = { version: '4.0', full_version: '4.0.26.0', status: 'current', swagger_url: `${origin}/api/4.0/swagger.json` };
    return c.json({
      looker_release_version: '26.0.0-simulator',
      current_version: version,
      supported_versions: [version],
      api_server_url: options.apiServerUrl ?? origin,
      web_server_url: options.webServerUrl ?? origin,
    });
  });

  // Every route registered after this one under /api/4.0 is the authenticated API.
  app.use('/api/4.0/*', async (c, next) => {
    stats.apiRequests++;
    if (faults.api === 'down') return lookerError(c, 503, 'Service Unavailable');
    if (faults.api === 'hang') return hang(c.req.raw.signal);
    if (callerOf(sim, c) === null) return requiresAuthentication(c);
    await next();
  });

  /** `me`; make_look reads `personal_folder_id`, where a new look goes unless told otherwise. */
  app.get('/api/4.0/user', (c) => {
    const user = authenticatedCaller(sim, c);
    const full = {
      ...user,
      first_name: user.display_name.split(' ')[0],
      is_disabled: false,
      personal_folder_id: sim.content.personalFolderOf(user.id)?.id ?? null,
    };
    return c.json(withFields(full, c.req.query('fields')));
  });
}
