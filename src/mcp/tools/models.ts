/** get_models and get_explores: the LookML models the caller can see, and a model's explores. */
import * as z from 'zod';
import { lookerJson, queryString, segment } from '../looker.ts';
import { asJson, defineTool } from '../tool.ts';

interface LookmlModel {
  name?: string;
  label?: string;
  project_name?: string;
  allowed_db_connection_names?: string[];
}

export const getModels = defineTool({
  name: 'get_models',
  description:
    'Lists the LookML models of this Looker instance: the data structures and relationships that can be queried. Each has a `name` and `label`, to use with get_explores and query. Takes no parameters.',
  input: z.object({}),
  async run(_args, { looker }) {
    const models = await lookerJson<LookmlModel[]>(looker, 'GET', `/lookml_models${queryString({ exclude_empty: false, exclude_hidden: false, include_internal: true })}`);
    return asJson(models.map((m) => ({ label: m.label, name: m.name, project_name: m.project_name, connections: m.allowed_db_connection_names ?? [] })));
  },
});

interface ExploreSummary {
  name?: string;
  description?: string | null;
  label?: string;
  group_label?: string | null;
  hidden?: boolean;
}

export const getExplores = defineTool({
  name: 'get_explores',
  description:
    'Lists the explores of a LookML model: curated views of the data, usually joining several tables, for analysis of one subject. Each has a `name` and `label`. Parameters: model (required), from get_models.',
  input: z.object({ model: z.string().describe('The model containing the explores.') }),
  async run({ model }, { looker }) {
    const fields = encodeURIComponent('explores(name,description,label,group_label,hidden)');
    const found = await lookerJson<{ explores?: ExploreSummary[] }>(looker, 'GET', `/lookml_models/${segment('model', model)}?fields=${fields}`);
    return asJson((found.explores ?? []).map(({ name, description, label, group_label }) => ({ name, description, label, group_label })));
  },
});
