/**
 * Looker's API as a signed-in user sees it: `versions` (open to all), then the token check
 * every other `/api/4.0/*` route sits behind, and a few real endpoints (`user`, `looks`,
 * `queries`) that answer for the token's user.
 */
import type { Context, Hono } from 'hono';
import type { SimContext } from './context.ts';
import { hang, lookerError, notFound, presentedToken, requiresAuthentication, validationFailed } from './http.ts';
import type { SimulatedUser } from './state.ts';

/** The user a request acts for: an access token's (OAuth or sudo), or an API-key session's. */
function callerOf(sim: SimContext, c: Context): SimulatedUser | null {
  const token = presentedToken(c);
  if (token === undefined) return null;
  const userId = (sim.state.liveAccessToken(token) ?? sim.state.liveApiSession(token))?.userId;
  return userId === undefined ? null : (sim.state.user(userId) ?? null);
}

/** The Query fields a client may set (Looker's `Query` definition, read-only fields left out). */
const QUERY_FIELDS = [
  'model',
  'view',
  'fields',
  'pivots',
  'fill_fields',
  'filters',
  'filter_expression',
  'sorts',
  'limit',
  'column_limit',
  'total',
  'row_total',
  'subtotals',
  'vis_config',
  'filter_config',
  'visible_ui_sections',
  'dynamic_fields',
  'client_id',
  'query_timezone',
] as const;

export function registerApi(app: Hono, sim: SimContext): void {
  const { faults, stats, options } = sim;
  const queries = new Map<string, Record<string, unknown>>();

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

  app.get('/api/4.0/user', (c) => {
    // The token check above let this request through, so it has a caller.
    const user = callerOf(sim, c)!;
    const full: Record<string, unknown> = { ...user, first_name: user.display_name.split(' ')[0], is_disabled: false };
    const fields = c.req.query('fields');
    if (fields === undefined) return c.json(full);
    return c.json(Object.fromEntries(fields.split(',').filter((f) => f in full).map((f) => [f, full[f]])));
  });

  app.get('/api/4.0/looks', (c) =>
    c.json([
      { id: '1', title: 'Weekly revenue', folder_id: '7' },
      { id: '2', title: 'Active users', folder_id: '7' },
    ]),
  );

  /** create_query: a JSON body as the SDKs send it; `model` and `view` are required strings. */
  app.post('/api/4.0/queries', async (c) => {
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      return lookerError(c, 400, 'The request body is not valid JSON.');
    }
    const given = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
    const invalid = (['model', 'view'] as const).filter((field) => typeof given[field] !== 'string');
    if (invalid.length > 0) {
      return validationFailed(c, invalid.map((field) => ({ field, code: 'missing', message: `${field} is required and must be a string` })));
    }
    const id = String(queries.size + 1);
    const slug = `sim${id}`;
    const query = {
      id,
      ...Object.fromEntries(QUERY_FIELDS.filter((f) => f in given).map((f) => [f, given[f]])),
      slug,
      url: `/x/${slug}`,
      share_url: `${new URL(c.req.url).origin}/x/${slug}`,
      has_table_calculations: false,
    };
    queries.set(id, query);
    return c.json(query);
  });

  app.get('/api/4.0/queries/:id', (c) => {
    const query = queries.get(c.req.param('id'));
    return query === undefined ? notFound(c) : c.json(query);
  });
}
