/**
 * The demo model's part of Looker's API 4.0: what Google's MCP Toolbox for Looker
 * (googleapis/genai-toolbox, now googleapis/mcp-toolbox: internal/tools/looker/*, through
 * the Go SDK of looker-open-source/sdk-codegen) calls for its tools, so an agent sees
 * real-looking data. This module serves the LookML metadata and registers the queries
 * (sim/query-api.ts) and the saved content (sim/content-api.ts); all sit behind the API's
 * token check (sim/api.ts).
 *
 * What each tool calls, and what it reads of the answer (response shapes: @looker/sdk's
 * models, ILookmlModel, ILookmlModelExplore, ILookmlModelExploreField, IQuery, ILook…):
 *
 * - get_models (lookergetmodels): GET /lookml_models?exclude_empty=false
 *   &exclude_hidden=…&include_internal=true; reads label, name, project_name,
 *   allowed_db_connection_names of each (it dereferences all four: none may be absent).
 * - get_explores (lookergetexplores): GET /lookml_models/{model}
 *   ?fields=explores(name,description,label,group_label,hidden); reads those five.
 * - get_dimensions / get_measures / get_filters / get_parameters: GET
 *   /lookml_models/{model}/explores/{explore}?fields=fields(dimensions(name,type,label,
 *   label_short,description,synonyms,tags,hidden,suggestable,suggestions,suggest_dimension,
 *   suggest_explore,value_format,value_format_name)) (measures(…), filters(…),
 *   parameters(…) alike: lookercommon's DimensionsFields…ParametersFields); reads those
 *   fields, skipping names ending in `_raw` and, unless configured, hidden ones.
 * - query, query_sql, run_look, and (for the escaping below) query_url and make_look: first
 *   GET /lookml_models/{model}/explores/{explore}?fields=fields(parameters(…)) when the
 *   query has filters, to escape values of `unquoted` parameters (`_` → `^_`). Then
 *   (query: json, query_sql: sql, run_look: json) lookercommon.RunInlineQuery: POST
 *   /queries/run_inline {query: WriteQuery, render_options: {format},
 *   query_api_client_context: {name: "MCP Toolbox"}}, and if that fails POST
 *   /queries/run/{format} with the WriteQuery: model, view (the tool's `explore`), fields,
 *   pivots, filters, sorts, limit (a string, default "500"), query_timezone,
 *   filter_expression, dynamic_fields. json is parsed as an array of row objects; sql is
 *   passed on as text.
 * - query_url (lookerqueryurl): POST /queries?fields=id,slug,share_url,expanded_share_url
 *   with the WriteQuery and vis_config; reads id, slug, share_url, expanded_share_url.
 * - get_looks (lookergetlooks): GET /looks/search?title=&description=&limit=&offset=
 *   (empty title or description left out); reads id, title, description, model.id (always
 *   dereferenced).
 * - run_look (lookerrunlook): GET /looks/{id}; reads query.model, view, fields, pivots,
 *   filters, sorts, query_timezone, then runs them inline (above) with the tool's limit.
 * - get_dashboards (lookergetdashboards): GET /dashboards/search?title=&description=
 *   &limit=&offset=; reads id, title, description.
 * - make_look (lookermakelook): GET /user?fields=id,personal_folder_id (the folder when
 *   the tool gets none); GET /folders/{folder}/looks?fields=title (refuses a title already
 *   there); POST /queries?fields=id; POST /looks {title, user_id, description, query_id,
 *   folder_id}; reads id and short_url, which it prefixes with web_server_url from GET
 *   /versions.
 *
 * Also served, as Looker has them: GET /queries/{id}, GET /queries/{id}/run/{format},
 * GET /looks, GET /looks/{id}/run/{format}, GET /dashboards. Result formats: json, csv, sql.
 */
import type { Hono } from 'hono';
import { registerContentApi } from './content-api.ts';
import type { SimContext } from './context.ts';
import { MODELS, fieldsOf, titleCase, type Explore, type Field, type LookmlModel } from './demo-model.ts';
import { withFields } from './fields-param.ts';
import { notFound } from './http.ts';
import { columnLabel } from './query-engine.ts';
import { registerQueryApi } from './query-api.ts';

export function registerModelApi(app: Hono, sim: SimContext): void {
  /** all_lookml_models; `limit` and `offset` page, the rest of the switches change nothing for one visible model. */
  app.get('/api/4.0/lookml_models', (c) => {
    const offset = Math.max(0, Number(c.req.query('offset') ?? 0) || 0);
    const limit = Number(c.req.query('limit') ?? Number.POSITIVE_INFINITY) || Number.POSITIVE_INFINITY;
    const models = [...MODELS.values()].slice(offset, offset + limit).map(presentModel);
    return c.json(withFields(models, c.req.query('fields')));
  });

  app.get('/api/4.0/lookml_models/:model', (c) => {
    const model = MODELS.get(c.req.param('model'));
    return model === undefined ? notFound(c) : c.json(withFields(presentModel(model), c.req.query('fields')));
  });

  app.get('/api/4.0/lookml_models/:model/explores/:explore', (c) => {
    const model = MODELS.get(c.req.param('model'));
    const explore = model?.explores.find((e) => e.name === c.req.param('explore'));
    if (model === undefined || explore === undefined) return notFound(c);
    return c.json(withFields(presentExplore(model, explore), c.req.query('fields')));
  });

  registerQueryApi(app, sim);
  registerContentApi(app, sim);
}

/** ILookmlModel, with its explores as ILookmlModelNavExplore. */
function presentModel(model: LookmlModel): Record<string, unknown> {
  return {
    name: model.name,
    label: model.label,
    project_name: model.projectName,
    allowed_db_connection_names: [model.connection],
    unlimited_db_connections: false,
    has_content: true,
    explores: model.explores.map((e) => ({ name: e.name, description: e.description, label: e.label, hidden: false, group_label: model.label })),
    can: { index: true, show: true, create: false, update: false, destroy: false },
  };
}

/** ILookmlModelExplore. */
function presentExplore(model: LookmlModel, explore: Explore): Record<string, unknown> {
  const fields = [...fieldsOf(explore).values()];
  const ofKind = (kind: Field['kind']) => fields.filter((f) => f.kind === kind).map((f) => presentField(model, explore, f));
  const views = [explore.base, ...explore.joins.map((j) => j.view)];
  return {
    id: `${model.name}::${explore.name}`,
    name: explore.name,
    label: explore.label,
    title: explore.label,
    description: explore.description,
    group_label: model.label,
    hidden: false,
    model_name: model.name,
    view_name: explore.base.name,
    project_name: model.projectName,
    connection_name: model.connection,
    dialect_name: 'bigquery_standard_sql',
    sql_table_name: `\`${explore.base.table}\` AS ${explore.base.name}`,
    source_file: `${model.name}.model.lkml`,
    files: [`${model.name}.model.lkml`, ...views.map((v) => `views/${v.name}.view.lkml`)],
    scopes: views.map((v) => v.name),
    can_total: true,
    can_save: true,
    can_explain: false,
    can_pivot_in_db: true,
    can_subtotal: true,
    can_develop: false,
    can_see_lookml: true,
    has_timezone_support: true,
    supports_cost_estimate: true,
    null_sort_treatment: 'low',
    always_filter: [],
    conditionally_filter: [],
    access_filters: [],
    access_filter_fields: [],
    aliases: [],
    always_join: [],
    index_fields: [],
    sets: [],
    tags: [],
    errors: [],
    joins: explore.joins.map((j) => ({
      name: j.view.name,
      from: null,
      relationship: j.relationship,
      type: 'left_outer',
      sql_on: `\${${explore.base.name}.${j.foreignKey}} = \${${j.view.name}.${j.view.primaryKey}}`,
      dependent_fields: [],
      required_joins: [],
      outer_only: false,
    })),
    fields: { dimensions: ofKind('dimension'), measures: ofKind('measure'), filters: ofKind('filter'), parameters: ofKind('parameter') },
  };
}

/** ILookmlModelExploreField. */
function presentField(model: LookmlModel, explore: Explore, field: Field): Record<string, unknown> {
  const isDimension = field.kind === 'dimension';
  const numeric = (isDimension && field.type === 'number') || field.kind === 'measure';
  const group = isDimension ? field.group : null;
  const textual = (isDimension && ['string', 'tier', 'yesno'].includes(field.type)) || (field.kind === 'filter' && field.type === 'string');
  const suggestions = isDimension ? field.suggestions : field.kind === 'parameter' ? field.allowedValues.map((a) => a.value) : null;
  return {
    name: field.name,
    label: columnLabel(field),
    label_short: field.labelShort,
    description: field.description,
    type: field.type,
    category: field.kind,
    view: field.view,
    view_label: titleCase(field.view),
    original_view: field.view,
    scope: field.view,
    sql: field.lookmlSql,
    hidden: field.hidden,
    measure: field.kind === 'measure',
    parameter: field.kind === 'parameter',
    is_filter: field.kind === 'filter',
    is_numeric: numeric,
    is_timeframe: group !== null,
    can_time_filter: group !== null || (field.kind === 'filter' && field.type === 'date'),
    dimension_group: group === null ? null : `${field.view}.${group.name}`,
    field_group_label: group === null ? null : titleCase(group.name),
    field_group_variant: group === null ? null : titleCase(group.timeframe),
    primary_key: isDimension && field.primaryKey,
    align: numeric ? 'right' : 'left',
    sortable: isDimension || field.kind === 'measure',
    can_filter: true,
    suggestable: textual || field.kind === 'parameter',
    suggestions,
    suggest_dimension: field.name,
    suggest_explore: explore.name,
    enumerations: field.kind === 'parameter' ? field.allowedValues : null,
    has_allowed_values: field.kind === 'parameter',
    default_filter_value: field.kind === 'parameter' ? field.defaultValue : null,
    value_format: null,
    value_format_name: isDimension || field.kind === 'measure' ? field.valueFormatName : null,
    synonyms: [],
    tags: [],
    project_name: model.projectName,
    source_file: `views/${field.view}.view.lkml`,
    lookml_link: `/projects/${model.projectName}/files/views/${field.view}.view.lkml`,
    dynamic: false,
  };
}
