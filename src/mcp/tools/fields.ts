/**
 * get_dimensions, get_measures, get_filters and get_parameters: an explore's fields of one
 * kind, with the properties the Toolbox reads (lookercommon.ExtractLookerFieldProperties):
 * `_raw` fields left out, empty lists and formats left out, suggestions only for
 * suggestable fields. Hidden fields are kept (the Toolbox's prebuilt default).
 */
import * as z from 'zod';
import { lookerJson, segment } from '../looker.ts';
import { asJson, defineTool, type Tool } from '../tool.ts';

const PROPERTIES = 'name,type,label,label_short,description,synonyms,tags,hidden,suggestable,suggestions,suggest_dimension,suggest_explore,value_format,value_format_name';

interface Field {
  name?: string;
  type?: string;
  label?: string;
  label_short?: string;
  description?: string | null;
  synonyms?: string[] | null;
  tags?: string[] | null;
  suggestable?: boolean;
  suggestions?: string[] | null;
  suggest_dimension?: string | null;
  suggest_explore?: string | null;
  value_format?: string | null;
  value_format_name?: string | null;
}

function present(field: Field): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['name', 'type', 'label', 'label_short', 'description'] as const) if (field[key] !== undefined && field[key] !== null) out[key] = field[key];
  if (field.tags?.length) out.tags = field.tags;
  if (field.synonyms?.length) out.synonyms = field.synonyms;
  if (field.value_format) out.value_format = field.value_format;
  if (field.value_format_name) out.value_format_name = field.value_format_name;
  if (field.suggestable !== undefined) out.suggestable = field.suggestable;
  if (field.suggestable) {
    if (field.suggestions?.length) out.suggestions = field.suggestions;
    if (field.suggest_explore && field.suggest_dimension) {
      out.suggest_explore = field.suggest_explore;
      out.suggest_dimension = field.suggest_dimension;
    }
  }
  return out;
}

type Kind = 'dimensions' | 'measures' | 'filters' | 'parameters';

function fieldsTool(kind: Kind, description: string): Tool {
  return defineTool({
    name: `get_${kind}`,
    description: `${description} Parameters: model (required), from get_models; explore (required), from get_explores.`,
    input: z.object({
      model: z.string().describe('The model containing the explore.'),
      explore: z.string().describe('The explore containing the fields.'),
    }),
    async run({ model, explore }, { looker }) {
      const path = `/lookml_models/${segment('model', model)}/explores/${segment('explore', explore)}?fields=${encodeURIComponent(`fields(${kind}(${PROPERTIES}))`)}`;
      const found = await lookerJson<{ fields?: Partial<Record<Kind, Field[]>> }>(looker, 'GET', path);
      return asJson((found.fields?.[kind] ?? []).filter((f) => !f.name?.endsWith('_raw')).map(present));
    },
  });
}

export const getDimensions = fieldsTool(
  'dimensions',
  'Lists the dimensions of a Looker explore: attributes to group, filter or segment by (product name, order date, city). `suggestions`, when present, are valid filter values; `suggest_explore` and `suggest_dimension` name where to query more.',
);
export const getMeasures = fieldsTool(
  'measures',
  'Lists the measures of a Looker explore: aggregated metrics (total sales, average price, count of users). `suggestions`, when present, are valid filter values.',
);
export const getFilters = fieldsTool(
  'filters',
  'Lists the filter-only fields of a Looker explore (LookML `filter:`): user-facing filter controls that do not change the GROUP BY, often used with Liquid. Dimensions and measures can be filtered on too.',
);
export const getParameters = fieldsTool(
  'parameters',
  'Lists the parameters of a Looker explore: dynamic inputs (LookML `parameter:`) that change what a query computes, usually through Liquid. Pass a value with the `filters` of query.',
);
