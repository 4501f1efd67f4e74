/**
 * make_look: saves a query as a new Look, in the caller's personal folder unless told
 * another; refuses a title already used in that folder. The one tool that writes: with a
 * read-only grant the SDK answers its call with a scope challenge (tool.ts).
 */
import * as z from 'zod';
import { ArgumentError, lookerJson, queryString, segment } from '../looker.ts';
import { escapeUnquotedParameters, queryArgs, writeQuery } from '../query-args.ts';
import { asJson, defineTool } from '../tool.ts';

export const makeLook = defineTool({
  name: 'make_look',
  writes: true,
  description:
    "Creates a new Look (a saved query with its visualization) in Looker, in the caller's personal folder unless `folder` says another; its title must be unused there. title, model, explore and fields are required; description, folder, vis_config, and query's pivots, filters, sorts, limit and tz are optional. Returns the new Look's id and short_url.",
  input: z.object({
    ...queryArgs,
    title: z.string().describe('The title of the Look'),
    description: z.string().default('').describe('The description of the Look'),
    folder: z.string().default('').describe("The folder id where the Look will be created. Leave blank to use the user's personal folder"),
    vis_config: z.record(z.string(), z.unknown()).default({}).describe('The visualization config for the query'),
  }),
  async run(args, { looker }) {
    const query = await escapeUnquotedParameters(looker, writeQuery(args));
    const me = await lookerJson<{ id?: string; personal_folder_id?: string | null }>(looker, 'GET', `/user${queryString({ fields: 'id,personal_folder_id' })}`);
    const folder = args.folder !== '' ? args.folder : me.personal_folder_id;
    if (!folder) throw new ArgumentError('You have no personal folder in Looker: give a folder id');
    const existing = await lookerJson<{ title?: string }[]>(looker, 'GET', `/folders/${segment('folder', folder)}/looks${queryString({ fields: 'title' })}`);
    const titles = existing.map((l) => l.title);
    if (titles.includes(args.title)) {
      throw new ArgumentError(`The title ${JSON.stringify(args.title)} is already used in folder ${folder} (its looks: ${JSON.stringify(titles)}); call again with another title`);
    }
    const created = await lookerJson<{ id?: string }>(looker, 'POST', `/queries${queryString({ fields: 'id' })}`, { ...query, vis_config: args.vis_config });
    const look = await lookerJson<{ id?: string; short_url?: string }>(looker, 'POST', '/looks', {
      title: args.title,
      user_id: me.id,
      description: args.description,
      query_id: created.id,
      folder_id: folder,
    });
    const webServer = await lookerJson<{ web_server_url?: string }>(looker, 'GET', '/versions').catch(() => ({ web_server_url: undefined }));
    const shortUrl = look.short_url === undefined ? undefined : `${webServer.web_server_url ?? ''}${look.short_url}`;
    return asJson({ id: look.id, short_url: shortUrl });
  },
});
