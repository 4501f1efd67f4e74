/**
 * Looks, dashboards and folders as the caller may see them (sim/content.ts): all_looks,
 * search_looks, look, run_look, create_look, folder_looks, all_dashboards,
 * search_dashboards. What the caller may not see answers 404, like what does not exist.
 */
import type { Context, Hono } from 'hono';
import { authenticatedCaller, webOrigin } from './caller.ts';
import { presentDashboard, presentLook, type Dashboard, type Look } from './content.ts';
import type { SimContext } from './context.ts';
import { withFields } from './fields-param.ts';
import { notFound, validationFailed } from './http.ts';
import { answerRun } from './query-api.ts';

/** IDashboardBase's properties, which all_dashboards answers with. */
const DASHBOARD_BASE = ['can', 'content_metadata_id', 'description', 'hidden', 'id', 'query_timezone', 'readonly', 'refresh_interval', 'folder', 'title', 'user_id', 'slug', 'preferred_viewer'];

/**
 * Looker's search parameters: case-blind, `%` for any run of characters and `_` for one,
 * otherwise the whole value must match.
 */
function likeMatches(pattern: string, value: string): boolean {
  const source = [...pattern].map((ch) => (ch === '%' ? '.*' : ch === '_' ? '.' : ch.replace(/[.*+?^${}()|[\]\\]/, '\\$&'))).join('');
  return new RegExp(`^${source}$`, 'is').test(value);
}

/**
 * A search endpoint's answer: `items` that match the request's criteria (each of
 * `columns`; all of them, or any with `filter_or=true`), sorted by `sorts`, paged by
 * `limit`/`offset` or `per_page`/`page`.
 */
function search<T>(c: Context, items: readonly T[], columns: Record<string, (item: T) => string>): T[] {
  const criteria = Object.entries(columns).flatMap(([name, read]) => {
    const pattern = c.req.query(name);
    return pattern === undefined || pattern === '' ? [] : [(item: T) => likeMatches(pattern, read(item))];
  });
  const eitherOne = c.req.query('filter_or') === 'true';
  let found = c.req.query('deleted') === 'true' ? [] : items.filter((item) => criteria.length === 0 || (eitherOne ? criteria.some((m) => m(item)) : criteria.every((m) => m(item))));
  for (const sort of (c.req.query('sorts') ?? '').split(',').reverse()) {
    const [name, direction] = sort.trim().split(/\s+/);
    const read = columns[name ?? ''];
    if (read === undefined) continue;
    const sign = direction?.toLowerCase() === 'desc' ? -1 : 1;
    found = found.toSorted((a, b) => sign * read(a).localeCompare(read(b), 'en', { numeric: true }));
  }
  const perPage = Number(c.req.query('per_page')) || undefined;
  const offset = perPage === undefined ? Number(c.req.query('offset')) || 0 : ((Number(c.req.query('page')) || 1) - 1) * perPage;
  const limit = perPage ?? (Number(c.req.query('limit')) || found.length);
  return found.slice(offset, offset + limit);
}

const LOOK_COLUMNS: Record<string, (look: Look) => string> = {
  id: (l) => l.id,
  title: (l) => l.title,
  description: (l) => l.description,
  folder_id: (l) => l.folderId,
  user_id: (l) => l.userId,
  query_id: (l) => l.queryId,
};
const DASHBOARD_COLUMNS: Record<string, (dashboard: Dashboard) => string> = {
  id: (d) => d.id,
  title: (d) => d.title,
  description: (d) => d.description,
  folder_id: (d) => d.folderId,
  user_id: (d) => d.userId,
};

export function registerContentApi(app: Hono, sim: SimContext): void {
  const { content } = sim;
  const visibleLooks = (c: Context) => {
    const { id } = authenticatedCaller(sim, c);
    return [...content.looks.values()].filter((l) => content.canSee(id, l.folderId));
  };
  const visibleDashboards = (c: Context) => {
    const { id } = authenticatedCaller(sim, c);
    return [...content.dashboards.values()].filter((d) => content.canSee(id, d.folderId));
  };
  /** ILook: a look without its query. */
  const asLook = (c: Context, look: Look) => {
    const { query: _query, url: _url, ...rest } = presentLook(content, look, webOrigin(sim, c));
    return rest;
  };
  const visibleLook = (c: Context): Look | undefined => visibleLooks(c).find((l) => l.id === c.req.param('id'));

  app.get('/api/4.0/looks', (c) => c.json(withFields(visibleLooks(c).map((l) => asLook(c, l)), c.req.query('fields'))));

  app.get('/api/4.0/looks/search', (c) => c.json(withFields(search(c, visibleLooks(c), LOOK_COLUMNS).map((l) => asLook(c, l)), c.req.query('fields'))));

  app.get('/api/4.0/looks/:id', (c) => {
    const look = visibleLook(c);
    return look === undefined ? notFound(c) : c.json(withFields(presentLook(content, look, webOrigin(sim, c)), c.req.query('fields')));
  });

  app.get('/api/4.0/looks/:id/run/:format', (c) => {
    const look = visibleLook(c);
    return look === undefined ? notFound(c) : answerRun(sim, c, content.queries.get(look.queryId)!, c.req.param('format'), c.req.query('limit'));
  });

  /**
   * create_look from a saved query (`query_id`), into a folder the caller sees. A title
   * already used in that folder is refused: Looker's exact answer is not known, so this one
   * is a guess in Looker's 422 shape (make_look checks titles itself before it asks).
   */
  app.post('/api/4.0/looks', async (c) => {
    const user = authenticatedCaller(sim, c);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      body = null;
    }
    const given = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const title = typeof given.title === 'string' ? given.title.trim() : '';
    const folderId = given.folder_id === undefined || given.folder_id === null ? undefined : String(given.folder_id);
    const queryId = given.query_id === undefined || given.query_id === null ? undefined : String(given.query_id);
    const errors = [
      ...(title === '' ? [{ field: 'title', code: 'missing', message: 'title is required' }] : []),
      ...(folderId === undefined
        ? [{ field: 'folder_id', code: 'missing', message: 'folder_id is required' }]
        : content.folders.has(folderId) && content.canSee(user.id, folderId)
          ? []
          : [{ field: 'folder_id', code: 'not_found', message: `No folder ${folderId} that you can see` }]),
      ...(queryId === undefined
        ? [{ field: 'query_id', code: 'missing', message: 'query_id is required' }]
        : content.queries.has(queryId)
          ? []
          : [{ field: 'query_id', code: 'not_found', message: `No query ${queryId}` }]),
    ];
    if (errors.length === 0 && [...content.looks.values()].some((l) => l.folderId === folderId && l.title === title)) {
      errors.push({ field: 'title', code: 'already_exists', message: `A look titled ${JSON.stringify(title)} is already in folder ${folderId}` });
    }
    if (errors.length > 0) return validationFailed(c, errors);
    const look = content.addLook({
      title,
      description: typeof given.description === 'string' ? given.description : '',
      userId: user.id,
      folderId: folderId!,
      queryId: queryId!,
      createdAt: new Date(sim.state.now()).toISOString(),
    });
    return c.json(withFields(presentLook(content, look, webOrigin(sim, c)), c.req.query('fields')));
  });

  app.get('/api/4.0/folders/:id/looks', (c) => {
    const folderId = c.req.param('id');
    if (!content.folders.has(folderId) || !content.canSee(authenticatedCaller(sim, c).id, folderId)) return notFound(c);
    return c.json(withFields(visibleLooks(c).filter((l) => l.folderId === folderId).map((l) => asLook(c, l)), c.req.query('fields')));
  });

  app.get('/api/4.0/dashboards', (c) => {
    const base = visibleDashboards(c).map((d) => Object.fromEntries(Object.entries(presentDashboard(content, d)).filter(([key]) => DASHBOARD_BASE.includes(key))));
    return c.json(withFields(base, c.req.query('fields')));
  });

  app.get('/api/4.0/dashboards/search', (c) =>
    c.json(withFields(search(c, visibleDashboards(c), DASHBOARD_COLUMNS).map((d) => presentDashboard(content, d)), c.req.query('fields'))),
  );
}
