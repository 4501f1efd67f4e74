/** get_looks and run_look: saved Looks, found by title or description, and run for their rows. */
import * as z from 'zod';
import { lookerJson, queryString, segment } from '../looker.ts';
import { parseRows, runInline } from '../query-args.ts';
import { asJson, defineTool } from '../tool.ts';

interface Look {
  id?: string;
  title?: string;
  description?: string | null;
  model?: { id?: string } | null;
  query?: Record<string, unknown> | null;
}

export const getLooks = defineTool({
  name: 'get_looks',
  description:
    'Searches the saved Looks (queries with a visualization) the caller can see, by title and description (case-insensitive; `%` and `_` are SQL LIKE wildcards). Returns each one\'s id, title, description and model_id.',
  input: z.object({
    title: z.string().default('').describe('The title of the look.'),
    desc: z.string().default('').describe('The description of the look.'),
    limit: z.number().int().default(100).describe('The number of looks to fetch. Default 100'),
    offset: z.number().int().default(0).describe('The number of looks to skip before fetching. Default 0'),
  }),
  async run({ title, desc, limit, offset }, { looker }) {
    const looks = await lookerJson<Look[]>(looker, 'GET', `/looks/search${queryString({ title, description: desc, limit, offset })}`);
    return asJson(looks.map((l) => ({ id: l.id, title: l.title, description: l.description, model_id: l.model?.id })));
  },
});

/** What run_look copies from the Look's query (as the Toolbox does); the limit is the tool's. */
const LOOK_QUERY = ['model', 'view', 'fields', 'pivots', 'filters', 'sorts', 'query_timezone'] as const;

export const runLook = defineTool({
  name: 'run_look',
  description: "Runs a saved Look's query and returns its rows as JSON objects. Parameters: look_id (required), from get_looks; limit (default 500).",
  input: z.object({
    look_id: z.string().describe('The id of the look to run.'),
    limit: z.number().int().default(500).describe('The row limit. Default 500'),
  }),
  async run({ look_id, limit }, { looker }) {
    const look = await lookerJson<Look>(looker, 'GET', `/looks/${segment('look_id', look_id)}`);
    const saved = look.query ?? {};
    const query = Object.fromEntries(LOOK_QUERY.filter((key) => saved[key] !== undefined && saved[key] !== null).map((key) => [key, saved[key]]));
    return asJson(parseRows(await runInline(looker, { ...query, limit: String(limit) }, 'json')));
  },
});
