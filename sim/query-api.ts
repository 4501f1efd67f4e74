/**
 * Queries: create_query (`POST /queries`), query (`GET /queries/{id}`), run_query (`GET
 * /queries/{id}/run/{format}`), run_inline_query (`POST /queries/run/{format}`) and the
 * MCP Toolbox's `POST /queries/run_inline` (a WriteQuery under `query`, the format under
 * `render_options.format`). Queries on the demo model are checked when created and
 * computed when run (sim/query-engine.ts); a query on another model is stored as given,
 * and running it answers 404, as for a model that does not exist.
 */
import type { Context, Hono } from 'hono';
import { webOrigin } from './caller.ts';
import { presentQuery, type StoredQuery } from './content.ts';
import type { SimContext } from './context.ts';
import { MODELS } from './demo-model.ts';
import { withFields } from './fields-param.ts';
import { lookerError, notFound, validationFailed } from './http.ts';
import { isResultFormat, QueryError, renderResult, RESULT_FORMATS, runQuery, type QueryBody } from './query-engine.ts';

/** A JSON object body, `{}` for other JSON; a Response for a body that is not JSON. */
async function jsonObject(c: Context): Promise<Record<string, unknown> | Response> {
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    return lookerError(c, 400, 'The request body is not valid JSON.');
  }
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

const queryFailed = (c: Context, error: unknown) => {
  if (!(error instanceof QueryError)) throw error;
  return error.status === 404 ? notFound(c) : lookerError(c, 400, error.message);
};

/** Runs `query` and answers in `format`; `limit` (the request's) replaces the query's own. */
export function answerRun(sim: SimContext, c: Context, query: QueryBody, format: string, limit: string | undefined): Response {
  if (!isResultFormat(format)) return lookerError(c, 400, `Unsupported result format ${JSON.stringify(format)}: the Looker simulator answers ${RESULT_FORMATS.join(', ')}`);
  try {
    const { body, contentType } = renderResult(runQuery(query, sim.state.now(), limit), format);
    return c.body(body, 200, { 'content-type': contentType });
  } catch (error) {
    return queryFailed(c, error);
  }
}

export function registerQueryApi(app: Hono, sim: SimContext): void {
  const { content } = sim;

  /** create_query: `model` and `view` are required strings; a demo-model query must run. */
  app.post('/api/4.0/queries', async (c) => {
    const given = await jsonObject(c);
    if (given instanceof Response) return given;
    const invalid = (['model', 'view'] as const).filter((field) => typeof given[field] !== 'string');
    if (invalid.length > 0) {
      return validationFailed(c, invalid.map((field) => ({ field, code: 'missing', message: `${field} is required and must be a string` })));
    }
    if (MODELS.has(given.model as string)) {
      try {
        runQuery(given, sim.state.now());
      } catch (error) {
        return queryFailed(c, error);
      }
    }
    const query = content.addQuery(given);
    return c.json(withFields(presentQuery(query, webOrigin(sim, c)), c.req.query('fields')));
  });

  app.post('/api/4.0/queries/run_inline', async (c) => {
    const given = await jsonObject(c);
    if (given instanceof Response) return given;
    const query = typeof given.query === 'object' && given.query !== null ? (given.query as QueryBody) : {};
    const options = typeof given.render_options === 'object' && given.render_options !== null ? (given.render_options as Record<string, unknown>) : {};
    return answerRun(sim, c, query, typeof options.format === 'string' ? options.format : 'json', c.req.query('limit'));
  });

  app.post('/api/4.0/queries/run/:format', async (c) => {
    const given = await jsonObject(c);
    if (given instanceof Response) return given;
    return answerRun(sim, c, given, c.req.param('format'), c.req.query('limit'));
  });

  const stored = (c: Context): StoredQuery | undefined => content.queries.get(c.req.param('id') ?? '');

  app.get('/api/4.0/queries/:id', (c) => {
    const query = stored(c);
    return query === undefined ? notFound(c) : c.json(withFields(presentQuery(query, webOrigin(sim, c)), c.req.query('fields')));
  });

  app.get('/api/4.0/queries/:id/run/:format', (c) => {
    const query = stored(c);
    return query === undefined ? notFound(c) : answerRun(sim, c, query, c.req.param('format'), c.req.query('limit'));
  });
}
