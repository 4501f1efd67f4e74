/**
 * The arguments every query tool shares, named as the MCP Toolbox for Looker names them
 * (lookercommon.GetQueryParameters): model, explore, fields, filters, pivots, sorts, limit,
 * tz, filter_expression, dynamic_fields. And what the Toolbox does with them: Looker's
 * WriteQuery, values of `unquoted` LookML parameters escaped, run inline.
 */
import * as z from 'zod';
import { lookerJson, lookerText, LookerError, segment, type LookerCall } from './looker.ts';

export const queryArgs = {
  model: z.string().describe('The model containing the explore.'),
  explore: z.string().describe('The explore to be queried.'),
  fields: z.array(z.string().describe('A field to be returned in the query')).describe('The fields to be retrieved.'),
  filters: z
    .record(z.string(), z.unknown())
    .default({})
    .describe(
      'The filters for the query. Keys are fully-qualified field names (e.g. "view.field") and values are Looker filter expressions or parameter values, passed bare (not wrapped in extra quotes).',
    ),
  pivots: z.array(z.string().describe('A field to be used as a pivot in the query')).default([]).describe('The query pivots (must be included in fields as well).'),
  sorts: z.array(z.string().describe('A field to be used as a sort in the query')).default([]).describe('The sorts like "field.id desc 0".'),
  limit: z.number().int().default(500).describe('The row limit.'),
  tz: z.string().optional().describe('The query timezone.'),
  filter_expression: z.string().optional().describe('An optional filter expression string.'),
  dynamic_fields: z
    .array(z.record(z.string(), z.unknown()).describe('A dynamic field definition'))
    .default([])
    .describe('An optional array of dynamic fields (table calculations, custom measures, custom dimensions).'),
};

const QueryArgs = z.object(queryArgs);
export type QueryArgs = z.output<typeof QueryArgs>;

/** Looker's WriteQuery, as the Toolbox sends it. */
export type WriteQuery = Record<string, unknown>;

/** One layer of matching quotes off a string ('x' or "x"), as the Toolbox strips them. */
function unquote(value: string): string {
  return value.length >= 2 && (value[0] === "'" || value[0] === '"') && value[0] === value[value.length - 1] ? value.slice(1, -1) : value;
}

export function writeQuery(args: QueryArgs): WriteQuery {
  const filters = Object.fromEntries(Object.entries(args.filters).map(([key, value]) => [unquote(key), typeof value === 'string' ? unquote(value) : value]));
  return {
    model: args.model,
    view: args.explore,
    fields: args.fields,
    pivots: args.pivots,
    filters,
    sorts: args.sorts,
    limit: String(args.limit),
    // Without tz, Looker's own default (the user's or the instance's time zone) applies.
    ...(args.tz === undefined ? {} : { query_timezone: args.tz }),
    ...(args.filter_expression === undefined ? {} : { filter_expression: args.filter_expression }),
    ...(args.dynamic_fields.length === 0 ? {} : { dynamic_fields: JSON.stringify(args.dynamic_fields) }),
  };
}

/**
 * Escapes Looker's filter metacharacters (`_ % ,` and `^` itself) in a value for an
 * `unquoted` parameter, leaving escaped ones (`^_ ^% ^, ^^`) as they are: Looker would
 * otherwise read `first_touch` as a pattern and refuse it.
 */
export function escapeUnquoted(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const char = value[i]!;
    if (char === '^') {
      const next = value[i + 1];
      if (next === '_' || next === '%' || next === ',' || next === '^') {
        out += `^${next}`;
        i++;
      } else out += '^^';
      continue;
    }
    out += '_%,'.includes(char) ? `^${char}` : char;
  }
  return out;
}

/** The query with its `unquoted` parameters' filter values escaped (one metadata read, only when it has filters; a failed read escapes nothing). */
export async function escapeUnquotedParameters(looker: LookerCall, query: WriteQuery): Promise<WriteQuery> {
  const filters = query.filters as Record<string, unknown>;
  if (Object.keys(filters).length === 0) return query;
  let parameters: { name?: string; type?: string }[] = [];
  try {
    const explore = await lookerJson<{ fields?: { parameters?: { name?: string; type?: string }[] } }>(
      looker,
      'GET',
      `/lookml_models/${segment('model', String(query.model))}/explores/${segment('explore', String(query.view))}?fields=${encodeURIComponent('fields(parameters(name,type))')}`,
    );
    parameters = explore.fields?.parameters ?? [];
  } catch (error) {
    if (!(error instanceof LookerError)) throw error;
    return query; // As the Toolbox: the query may still run without the escaping.
  }
  const unquoted = new Set(parameters.filter((p) => p.type === 'unquoted').map((p) => p.name));
  const escaped = Object.fromEntries(Object.entries(filters).map(([key, value]) => [key, unquoted.has(key) && typeof value === 'string' ? escapeUnquoted(value) : value]));
  return { ...query, filters: escaped };
}

/** A JSON result's rows (Looker's json format: an array of objects keyed by field name). */
export function parseRows(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new LookerError(502, 'Looker answered the query with something that is not JSON');
  }
}

/**
 * Runs a query inline in `format` (json, sql…), as the Toolbox does: POST
 * /queries/run_inline, and POST /queries/run/{format} where that endpoint does not exist.
 */
export async function runInline(looker: LookerCall, query: WriteQuery, format: string): Promise<string> {
  try {
    return await lookerText(looker, 'POST', '/queries/run_inline', { query, render_options: { format }, query_api_client_context: { name: 'looker-oauth-gateway MCP' } });
  } catch (error) {
    if (!(error instanceof LookerError) || ![404, 405, 501].includes(error.status)) throw error;
    return lookerText(looker, 'POST', `/queries/run/${segment('format', format)}`, query);
  }
}
