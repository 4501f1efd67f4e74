/** query, query_sql and query_url: one query, run for its rows, as SQL, or saved for a link to Looker. */
import * as z from 'zod';
import { lookerJson, queryString } from '../looker.ts';
import { escapeUnquotedParameters, parseRows, queryArgs, runInline, writeQuery } from '../query-args.ts';
import { asJson, defineTool } from '../tool.ts';

const ARGUMENTS =
  'model, explore and fields are required; pivots, filters ({"view.field": "Looker filter expression"}), filter_expression, dynamic_fields, sorts (["view.field desc"]), limit (default 500, -1 for as many as Looker allows) and tz are optional. Find fields with get_dimensions, get_measures, get_filters and get_parameters.';

export const query = defineTool({
  name: 'query',
  description: `Runs a query against a LookML model and returns its rows as JSON objects keyed by field name. ${ARGUMENTS}`,
  input: z.object(queryArgs),
  async run(args, { looker }) {
    return asJson(parseRows(await runInline(looker, await escapeUnquotedParameters(looker, writeQuery(args)), 'json')));
  },
});

export const querySql = defineTool({
  name: 'query_sql',
  description: `Returns the SQL Looker would run against the database for a query, without running it. Same parameters as query: ${ARGUMENTS} The result is the SQL text.`,
  input: z.object(queryArgs),
  async run(args, { looker }) {
    const sql = await runInline(looker, await escapeUnquotedParameters(looker, writeQuery(args)), 'sql');
    return { structured: { sql }, text: sql };
  },
});

interface CreatedQuery {
  id?: string;
  slug?: string;
  share_url?: string;
  expanded_share_url?: string;
}

export const queryUrl = defineTool({
  name: 'query_url',
  description: `Saves a query and returns a link to explore it further in Looker's UI: { id, slug, url, long_url }. Same parameters as query (${ARGUMENTS}), and vis_config (optional): the visualization settings, e.g. {"type": "looker_line"}.`,
  input: z.object({ ...queryArgs, vis_config: z.record(z.string(), z.unknown()).default({}).describe('The visualization config for the query') }),
  async run(args, { looker }) {
    const body = { ...(await escapeUnquotedParameters(looker, writeQuery(args))), vis_config: args.vis_config };
    const created = await lookerJson<CreatedQuery>(looker, 'POST', `/queries${queryString({ fields: 'id,slug,share_url,expanded_share_url' })}`, body);
    return asJson({ id: created.id, slug: created.slug, url: created.share_url, long_url: created.expanded_share_url });
  },
});
