/** get_dashboards: the dashboards the caller can see, by title and description. */
import * as z from 'zod';
import { lookerJson, queryString } from '../looker.ts';
import { asJson, defineTool } from '../tool.ts';

export const getDashboards = defineTool({
  name: 'get_dashboards',
  description:
    'Searches the saved dashboards the caller can see, by title and description (case-insensitive; `%` and `_` are SQL LIKE wildcards). Returns each one\'s id, title and description.',
  input: z.object({
    title: z.string().default('').describe('The title of the dashboard.'),
    desc: z.string().default('').describe('The description of the dashboard.'),
    limit: z.number().int().default(100).describe('The number of dashboards to fetch. Default 100'),
    offset: z.number().int().default(0).describe('The number of dashboards to skip before fetching. Default 0'),
  }),
  async run({ title, desc, limit, offset }, { looker }) {
    const found = await lookerJson<{ id?: string; title?: string; description?: string | null }[]>(
      looker,
      'GET',
      `/dashboards/search${queryString({ title, description: desc, limit, offset })}`,
    );
    return asJson(found.map((d) => ({ id: d.id, title: d.title, description: d.description })));
  },
});
