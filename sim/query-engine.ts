/**
 * Runs a query (the API's WriteQuery: model, view, fields, filters, sorts, limit) on the
 * demo model's rows, as Looker's SQL would: the explore's base rows left-joined to its
 * joined views, dimension filters (WHERE), the selected dimensions grouped, measures
 * aggregated without fan-out (each row of a measure's view counted once per group, as
 * Looker's symmetric aggregates do), measure filters (HAVING), sorts, limit. It also writes
 * the SQL such a query would send to BigQuery, for `result_format=sql`.
 *
 * Errors are QueryErrors: 404 for an unknown model or explore, 400 naming the field, filter,
 * sort or limit at fault, and for what the simulator does not do (pivots, custom filter
 * expressions, dynamic fields).
 */
import type { Cell, TableRow } from './demo-data.ts';
import { MODELS, fieldsOf, titleCase, viewsOf, type Dimension, type Explore, type Field, type LookmlModel, type Measure } from './demo-model.ts';
import { FilterError, parseFilter, type Filter } from './filters.ts';

export const DEFAULT_LIMIT = 500;
/** The most rows Looker returns for a query (`limit: -1` asks for that many). */
export const MAX_LIMIT = 5000;

export class QueryError extends Error {
  readonly status: 400 | 404;
  constructor(status: 400 | 404, message: string) {
    super(message);
    this.status = status;
  }
}

/** A query as a client sends it (IWriteQuery), not yet checked. */
export interface QueryBody {
  model?: unknown;
  view?: unknown;
  fields?: unknown;
  filters?: unknown;
  sorts?: unknown;
  limit?: unknown;
  pivots?: unknown;
  filter_expression?: unknown;
  dynamic_fields?: unknown;
}

export type Selectable = Dimension | Measure;
export type ResultRow = Record<string, Cell>;

export interface QueryResult {
  model: LookmlModel;
  explore: Explore;
  fields: readonly Selectable[];
  rows: ResultRow[];
  sql: string;
}

/** One row of an explore: each view's row (null where the left join found none). */
type ExploreRow = Readonly<Record<string, TableRow | null>>;

interface DimensionFilter {
  dimension: Dimension;
  filter: Filter;
  /** Date filters test the timeframe's timestamp, not its formatted value. */
  onTimestamp: boolean;
}
interface MeasureFilter {
  measure: Measure;
  filter: Filter;
}
interface Sort {
  field: Selectable;
  descending: boolean;
}

export function findExplore(modelName: unknown, exploreName: unknown): { model: LookmlModel; explore: Explore } | null {
  const model = typeof modelName === 'string' ? MODELS.get(modelName) : undefined;
  const explore = model?.explores.find((e) => e.name === exploreName);
  return model === undefined || explore === undefined ? null : { model, explore };
}

const bad = (message: string) => new QueryError(400, message);

function stringList(value: unknown, name: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw bad(`${name} must be an array of strings`);
  return value as string[];
}

function refuseUnsupported(body: QueryBody): void {
  if (stringList(body.pivots, 'pivots').length > 0) throw bad('The Looker simulator does not pivot: leave pivots empty');
  if (typeof body.filter_expression === 'string' && body.filter_expression.trim() !== '') {
    throw bad('The Looker simulator does not read custom filter expressions (filter_expression): use filters');
  }
  const dynamic = body.dynamic_fields;
  if ((typeof dynamic === 'string' && !['', '[]'].includes(dynamic.trim())) || (Array.isArray(dynamic) && dynamic.length > 0)) {
    throw bad('The Looker simulator has no table calculations or custom fields (dynamic_fields)');
  }
}

function readLimit(value: unknown): number {
  if (value === undefined || value === null || value === '') return DEFAULT_LIMIT;
  const n = Number(value);
  if (!Number.isInteger(n) || (n < 1 && n !== -1)) throw bad(`limit must be a positive whole number or -1, not ${JSON.stringify(value)}`);
  return n === -1 ? MAX_LIMIT : Math.min(n, MAX_LIMIT);
}

/**
 * Runs `body` on the demo data. `now` anchors relative date filters (`7 days`); `limit`,
 * when given, replaces the query's own (the run endpoints' `limit` parameter).
 */
export function runQuery(body: QueryBody, now: number, limit?: string): QueryResult {
  const found = findExplore(body.model, body.view);
  if (found === null) throw new QueryError(404, 'Not found');
  const { model, explore } = found;
  const known = fieldsOf(explore);
  const exploreId = `${model.name}::${explore.name}`;
  const lookUp = (name: string, where: string): Field => {
    const field = known.get(name);
    if (field === undefined) throw bad(`Unknown field ${JSON.stringify(name)} in ${where}: explore ${exploreId} has no such field`);
    return field;
  };

  refuseUnsupported(body);
  const names = [...new Set(stringList(body.fields, 'fields'))];
  if (names.length === 0) throw bad('A query needs at least one dimension or measure in fields');
  const selected = names.map((name): Selectable => {
    const field = lookUp(name, 'fields');
    if (field.kind === 'filter' || field.kind === 'parameter') {
      throw bad(`${name} is a ${field.kind === 'filter' ? 'filter-only field' : 'parameter'}: use it in filters, not in fields`);
    }
    return field;
  });

  // Filters: parameters first (a dimension's value may depend on them), then the rest.
  const parameters = new Map<string, string>();
  const dimensionFilters: DimensionFilter[] = [];
  const measureFilters: MeasureFilter[] = [];
  if (body.filters !== undefined && body.filters !== null && (typeof body.filters !== 'object' || Array.isArray(body.filters))) {
    throw bad('filters must be an object of field names to filter expressions');
  }
  for (const [name, raw] of Object.entries((body.filters ?? {}) as Record<string, unknown>)) {
    if (raw === null || raw === undefined) continue;
    if (typeof raw === 'object') throw bad(`The filter on ${name} must be a string`);
    const expression = String(raw);
    if (expression.trim() === '') continue;
    const field = lookUp(name, 'filters');
    try {
      if (field.kind === 'parameter') {
        const value = expression.replaceAll(/\^(.)/g, '$1');
        if (!field.allowedValues.some((a) => a.value === value)) {
          throw bad(`${JSON.stringify(value)} is not an allowed value of the parameter ${name} (${field.allowedValues.map((a) => a.value).join(', ')})`);
        }
        parameters.set(name, value);
      } else if (field.kind === 'measure') {
        measureFilters.push({ measure: field, filter: parseFilter('number', expression, name, now) });
      } else {
        const dimension = field.kind === 'filter' ? (known.get(field.appliesTo) as Dimension) : field;
        const filter = parseFilter(dimension.filterAs, expression, name, now);
        dimensionFilters.push({ dimension, filter, onTimestamp: dimension.group !== null });
      }
    } catch (error) {
      if (error instanceof FilterError) throw bad(error.message);
      throw error;
    }
  }

  const sorts = stringList(body.sorts, 'sorts').map((text): Sort => {
    const m = /^(\S+)(?:\s+(asc|desc))?(?:\s+\d+)?$/i.exec(text.trim());
    if (!m) throw bad(`Unreadable sort ${JSON.stringify(text)}: write "view.field" or "view.field desc"`);
    const field = lookUp(m[1]!, 'sorts');
    if (!selected.includes(field as Selectable)) throw bad(`Cannot sort by ${field.name}: it is not in the query's fields`);
    return { field: field as Selectable, descending: m[2]?.toLowerCase() === 'desc' };
  });
  const rowLimit = readLimit(limit ?? body.limit);

  const dimensions = selected.filter((f): f is Dimension => f.kind === 'dimension');
  const measures = selected.filter((f): f is Measure => f.kind === 'measure');
  const primaryKeyOf = new Map(viewsOf(explore).map((v) => [v.name, v.primaryKey]));
  const valueOf = (dimension: Dimension, row: ExploreRow): Cell => {
    const own = row[dimension.view];
    return own === null || own === undefined ? null : dimension.value(own, parameters);
  };
  const aggregate = (measure: Measure, members: readonly ExploreRow[]): Cell => {
    // Each row of the measure's view once, however many base rows it joined to.
    const distinct = new Map<Cell, TableRow>();
    for (const member of members) {
      const own = member[measure.view];
      if (own !== null && own !== undefined) distinct.set(own[primaryKeyOf.get(measure.view)!] ?? null, own);
    }
    const values = [...distinct.values()].map((r) => (measure.column === null ? null : (r[measure.column] ?? null)));
    const numbers = values.filter((v): v is number => typeof v === 'number');
    const round = (x: number) => Math.round(x * 1e6) / 1e6;
    switch (measure.type) {
      case 'count':
        return distinct.size;
      case 'count_distinct':
        return new Set(values.filter((v) => v !== null)).size;
      case 'sum':
        return round(numbers.reduce((a, b) => a + b, 0));
      case 'average':
        return numbers.length === 0 ? null : round(numbers.reduce((a, b) => a + b, 0) / numbers.length);
    }
  };

  const rows = joinedRows(explore).filter((row) =>
    dimensionFilters.every(({ dimension, filter, onTimestamp }) =>
      filter.matches(onTimestamp ? (row[dimension.view]?.[dimension.group!.column] ?? null) : valueOf(dimension, row)),
    ),
  );
  const groups = new Map<string, ExploreRow[]>();
  if (dimensions.length === 0) groups.set('[]', []);
  for (const row of rows) {
    const key = JSON.stringify(dimensions.map((d) => valueOf(d, row)));
    const members = groups.get(key);
    if (members === undefined) groups.set(key, [row]);
    else members.push(row);
  }
  const results: ResultRow[] = [];
  for (const members of groups.values()) {
    if (!measureFilters.every(({ measure, filter }) => filter.matches(aggregate(measure, members)))) continue;
    const result: ResultRow = {};
    for (const field of selected) result[field.name] = field.kind === 'dimension' ? valueOf(field, members[0]!) : aggregate(field, members);
    results.push(result);
  }

  const order = sorts.length > 0 ? sorts : defaultSort(dimensions, measures);
  results.sort((a, b) => {
    for (const { field, descending } of order) {
      const c = compareCells(a[field.name] ?? null, b[field.name] ?? null);
      if (c !== 0) return descending ? -c : c;
    }
    return 0;
  });

  return {
    model,
    explore,
    fields: selected,
    rows: results.slice(0, rowLimit),
    sql: generatedSql(explore, selected, parameters, dimensionFilters, measureFilters, order, rowLimit),
  };
}

function joinedRows(explore: Explore): ExploreRow[] {
  const indexes = explore.joins.map((join) => ({ join, byKey: new Map(join.view.rows.map((r) => [r[join.view.primaryKey], r])) }));
  return explore.base.rows.map((row) => {
    const joined: Record<string, TableRow | null> = { [explore.base.name]: row };
    for (const { join, byKey } of indexes) joined[join.view.name] = byKey.get(row[join.foreignKey] ?? null) ?? null;
    return joined;
  });
}

/** Looker's order when a query names none: the first time dimension descending, else the first measure descending, else the first dimension. */
function defaultSort(dimensions: readonly Dimension[], measures: readonly Measure[]): Sort[] {
  const time = dimensions.find((d) => d.group !== null);
  if (time !== undefined) return [{ field: time, descending: true }];
  if (measures.length > 0) return [{ field: measures[0]!, descending: true }];
  return dimensions.length > 0 ? [{ field: dimensions[0]!, descending: false }] : [];
}

/** Nulls first, numbers by value, text by code unit (as a binary collation would). */
function compareCells(a: Cell, b: Cell): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

// --- SQL -------------------------------------------------------------------------------

const sqlAlias = (field: Field) => field.name.replace('.', '_');

function generatedSql(
  explore: Explore,
  selected: readonly Selectable[],
  parameters: ReadonlyMap<string, string>,
  dimensionFilters: readonly DimensionFilter[],
  measureFilters: readonly MeasureFilter[],
  order: readonly Sort[],
  limit: number,
): string {
  const used = new Set([...selected.map((f) => f.view), ...dimensionFilters.map((f) => f.dimension.view), ...measureFilters.map((f) => f.measure.view)]);
  const joins = explore.joins.filter((j) => used.has(j.view.name));
  const primaryKeyOf = new Map(viewsOf(explore).map((v) => [v.name, v.primaryKey]));
  const measureSql = (m: Measure): string => {
    switch (m.type) {
      case 'count':
        return joins.length === 0 ? 'COUNT(*)' : `COUNT(DISTINCT ${m.view}.${primaryKeyOf.get(m.view)})`;
      case 'count_distinct':
        return `COUNT(DISTINCT ${m.view}.${m.column})`;
      case 'sum':
        return `COALESCE(SUM(${m.view}.${m.column}), 0)`;
      case 'average':
        return `AVG(${m.view}.${m.column})`;
    }
  };
  const fieldSql = (f: Selectable) => (f.kind === 'dimension' ? f.sql(parameters) : measureSql(f));
  const dimensionCount = selected.filter((f) => f.kind === 'dimension').length;
  const lines = [
    'SELECT',
    selected.map((f) => `    ${fieldSql(f)} AS ${sqlAlias(f)}`).join(',\n'),
    `FROM \`${explore.base.table}\` AS ${explore.base.name}`,
    ...joins.map((j) => `LEFT JOIN \`${j.view.table}\` AS ${j.view.name} ON ${explore.base.name}.${j.foreignKey} = ${j.view.name}.${j.view.primaryKey}`),
  ];
  if (dimensionFilters.length > 0) {
    const expressionOf = ({ dimension, onTimestamp }: DimensionFilter) =>
      onTimestamp ? `${dimension.view}.${dimension.group!.column}` : dimension.sql(parameters);
    lines.push(`WHERE ${dimensionFilters.map((f) => `(${f.filter.sql(expressionOf(f))})`).join(' AND ')}`);
  }
  if (dimensionCount > 0) lines.push(`GROUP BY\n    ${Array.from({ length: dimensionCount }, (_, i) => i + 1).join(',\n    ')}`);
  if (measureFilters.length > 0) lines.push(`HAVING ${measureFilters.map((f) => `(${f.filter.sql(measureSql(f.measure))})`).join(' AND ')}`);
  if (order.length > 0) lines.push(`ORDER BY\n    ${order.map((s) => `${selected.indexOf(s.field) + 1}${s.descending ? ' DESC' : ''}`).join(',\n    ')}`);
  lines.push(`LIMIT ${limit}`);
  return lines.join('\n');
}

// --- result formats ----------------------------------------------------------------------

export const RESULT_FORMATS = ['json', 'csv', 'sql'] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];
export const isResultFormat = (format: string): format is ResultFormat => (RESULT_FORMATS as readonly string[]).includes(format);

/** `Orders Created Month`: the view's label and the field's, as Looker heads a column. */
export const columnLabel = (field: Field) => `${titleCase(field.view)} ${field.labelShort}`;

const csvCell = (value: Cell) => {
  const text = value === null ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/** A result as Looker sends it in `format`: its body and content type. */
export function renderResult(result: QueryResult, format: ResultFormat): { body: string; contentType: string } {
  switch (format) {
    case 'json':
      return { body: JSON.stringify(result.rows), contentType: 'application/json; charset=utf-8' };
    case 'csv': {
      const lines = [result.fields.map((f) => csvCell(columnLabel(f))).join(','), ...result.rows.map((row) => result.fields.map((f) => csvCell(row[f.name] ?? null)).join(','))];
      return { body: `${lines.join('\n')}\n`, contentType: 'text/csv; charset=utf-8' };
    }
    case 'sql':
      return { body: result.sql, contentType: 'text/plain; charset=utf-8' };
  }
}
