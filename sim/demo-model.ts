/**
 * The simulator's one LookML model, `demo` ("Demo e-commerce"): three views over the rows of
 * sim/demo-data.ts and three explores (`orders`, which joins `users`; `users`; `products`).
 * Each field carries what the API shows of it (name, type, labels, LookML `sql`) and what the
 * query engine needs (sim/query-engine.ts): its value for a row, its SQL in a generated
 * query, and, for timeframes, the timestamp column a date filter tests.
 *
 * Field types are the API's: `string`, `number`, `yesno`, `tier`, `date_<timeframe>` for a
 * dimension group's timeframes; `count`, `sum`, `average`, `count_distinct` for measures;
 * a filter-only field's or a parameter's own type.
 */
import { ORDERS, PRODUCTS, USERS, timestampMs, type Cell, type TableRow } from './demo-data.ts';

/** The values a query gives its parameters (`orders.date_granularity` → `week`). */
export type ParameterValues = ReadonlyMap<string, string>;

/** How a filter expression on a field is read (sim/filters.ts). */
export type FilterKind = 'string' | 'number' | 'yesno' | 'date';

export type Timeframe = 'raw' | 'time' | 'date' | 'week' | 'month' | 'quarter' | 'year' | 'day_of_week';

interface FieldBase {
  /** `view.field`, as queries name it. */
  name: string;
  view: string;
  labelShort: string;
  description: string;
  /** The LookML `sql:` as the API shows it. */
  lookmlSql: string | null;
  hidden: boolean;
}

export interface Dimension extends FieldBase {
  kind: 'dimension';
  type: string;
  filterAs: FilterKind;
  primaryKey: boolean;
  /** For a timeframe of a dimension group: the group, and the column its date filters test. */
  group: { name: string; timeframe: Timeframe; column: string } | null;
  suggestions: readonly string[] | null;
  valueFormatName: string | null;
  value(row: TableRow, parameters: ParameterValues): Cell;
  /** Its SQL in a generated query, the view's alias in place of `${TABLE}`. */
  sql(parameters: ParameterValues): string;
}

export interface Measure extends FieldBase {
  kind: 'measure';
  type: 'count' | 'sum' | 'average' | 'count_distinct';
  /** The column summed, averaged or counted; null for `count` (the view's rows). */
  column: string | null;
  valueFormatName: string | null;
}

/** A filter-only field: a value for templated SQL, which here filters `appliesTo`. */
export interface FilterOnly extends FieldBase {
  kind: 'filter';
  type: 'date' | 'string';
  appliesTo: string;
}

export interface Parameter extends FieldBase {
  kind: 'parameter';
  type: 'unquoted';
  allowedValues: readonly { label: string; value: string }[];
  defaultValue: string;
}

export type Field = Dimension | Measure | FilterOnly | Parameter;

export interface View {
  name: string;
  label: string;
  /** The table in the demo warehouse. */
  table: string;
  primaryKey: string;
  rows: readonly TableRow[];
  fields: readonly Field[];
}

export interface Join {
  view: View;
  /** The base view's column that holds the joined view's primary key. */
  foreignKey: string;
  relationship: 'many_to_one';
}

export interface Explore {
  name: string;
  label: string;
  description: string;
  base: View;
  joins: readonly Join[];
}

export interface LookmlModel {
  name: string;
  label: string;
  projectName: string;
  connection: string;
  explores: readonly Explore[];
}

/** `created_date` → `Created Date`. */
export const titleCase = (snake: string): string => snake.split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');

const DAY_MS = 86_400_000;
const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;

/** A timestamp's value in one timeframe, as Looker's JSON results show it. */
export function inTimeframe(text: string, timeframe: Timeframe): Cell {
  const ms = timestampMs(text);
  const iso = new Date(ms).toISOString();
  const weekday = (new Date(ms).getUTCDay() + 6) % 7;
  switch (timeframe) {
    case 'raw':
    case 'time':
      return text;
    case 'date':
      return iso.slice(0, 10);
    case 'week':
      return new Date(Math.floor(ms / DAY_MS) * DAY_MS - weekday * DAY_MS).toISOString().slice(0, 10);
    case 'month':
      return iso.slice(0, 7);
    case 'quarter':
      return `${iso.slice(0, 4)}-Q${Math.floor(new Date(ms).getUTCMonth() / 3) + 1}`;
    case 'year':
      return new Date(ms).getUTCFullYear();
    case 'day_of_week':
      return WEEKDAYS[weekday]!;
  }
}

/** A timeframe's SQL in BigQuery's dialect, over a timestamp column. */
function timeframeSql(column: string, timeframe: Timeframe): string {
  switch (timeframe) {
    case 'raw':
      return column;
    case 'time':
      return `FORMAT_TIMESTAMP('%F %T', ${column})`;
    case 'date':
      return `DATE(${column})`;
    case 'week':
      return `FORMAT_TIMESTAMP('%F', TIMESTAMP_TRUNC(${column}, WEEK(MONDAY)))`;
    case 'month':
      return `FORMAT_TIMESTAMP('%Y-%m', ${column})`;
    case 'quarter':
      return `FORMAT_TIMESTAMP('%Y-Q%Q', ${column})`;
    case 'year':
      return `EXTRACT(YEAR FROM ${column})`;
    case 'day_of_week':
      return `FORMAT_TIMESTAMP('%A', ${column})`;
  }
}

interface DimensionOptions {
  description?: string;
  label?: string;
  hidden?: boolean;
  primaryKey?: boolean;
  suggestions?: readonly string[];
  valueFormatName?: string;
}

/** A dimension that shows one column as it is. */
function column(view: string, name: string, type: 'string' | 'number', options: DimensionOptions = {}): Dimension {
  return {
    kind: 'dimension',
    name: `${view}.${name}`,
    view,
    type,
    labelShort: options.label ?? titleCase(name),
    description: options.description ?? '',
    lookmlSql: `\${TABLE}.${name}`,
    hidden: options.hidden ?? false,
    filterAs: type,
    primaryKey: options.primaryKey ?? false,
    group: null,
    suggestions: options.suggestions ?? null,
    valueFormatName: options.valueFormatName ?? null,
    value: (row) => row[name] ?? null,
    sql: () => `${view}.${name}`,
  };
}

/** A yes/no dimension over a boolean column. */
function yesno(view: string, name: string, description: string): Dimension {
  return {
    ...column(view, name, 'string', { description }),
    type: 'yesno',
    filterAs: 'yesno',
    suggestions: ['Yes', 'No'],
    value: (row) => (row[name] === null || row[name] === undefined ? null : row[name] ? 'Yes' : 'No'),
    sql: () => `CASE WHEN ${view}.${name} THEN 'Yes' ELSE 'No' END`,
  };
}

/** A tier dimension: `Below 20`, `20 to 29`, … `70 or Above`. */
function tier(view: string, name: string, of: string, tiers: readonly number[], description: string): Dimension {
  const labelOf = (value: number): string => {
    const upper = tiers.findIndex((t) => value < t);
    if (upper === 0) return `Below ${tiers[0]}`;
    if (upper < 0) return `${tiers.at(-1)} or Above`;
    return `${tiers[upper - 1]} to ${tiers[upper]! - 1}`;
  };
  const cases = tiers.map((t, i) => `WHEN ${view}.${of} < ${t} THEN '${i === 0 ? `Below ${t}` : `${tiers[i - 1]} to ${t - 1}`}'`);
  return {
    ...column(view, name, 'string', { description }),
    type: 'tier',
    lookmlSql: `\${${of}}`,
    value: (row) => (typeof row[of] === 'number' ? labelOf(row[of]) : null),
    sql: () => `CASE ${cases.join(' ')} ELSE '${tiers.at(-1)} or Above' END`,
  };
}

/** A dimension group of type time: one dimension per timeframe, `created_date`, `created_month`… */
function timeGroup(view: string, group: string, timestampColumn: string, timeframes: readonly Timeframe[], description: string): Dimension[] {
  return timeframes.map((timeframe) => ({
    ...column(view, `${group}_${timeframe}`, 'string', { description, label: `${titleCase(group)} ${titleCase(timeframe)}` }),
    type: `date_${timeframe}`,
    lookmlSql: `\${TABLE}.${timestampColumn}`,
    hidden: timeframe === 'raw',
    filterAs: 'date' as const,
    group: { name: group, timeframe, column: timestampColumn },
    value: (row: TableRow) => (typeof row[timestampColumn] === 'string' ? inTimeframe(row[timestampColumn], timeframe) : null),
    sql: () => timeframeSql(`${view}.${timestampColumn}`, timeframe),
  }));
}

function measure(view: string, name: string, type: Measure['type'], of: string | null, description: string, valueFormatName: string | null = null): Measure {
  return {
    kind: 'measure',
    name: `${view}.${name}`,
    view,
    type,
    labelShort: titleCase(name),
    description,
    lookmlSql: of === null ? null : `\${${of}}`,
    hidden: false,
    column: of,
    valueFormatName,
  };
}

function filterOnly(view: string, name: string, type: FilterOnly['type'], appliesTo: string, description: string): FilterOnly {
  return { kind: 'filter', name: `${view}.${name}`, view, type, labelShort: titleCase(name), description, lookmlSql: null, hidden: false, appliesTo };
}

const GRANULARITY = 'orders.date_granularity';
const GRANULARITIES = { day: 'date', week: 'week', month: 'month' } as const satisfies Record<string, Timeframe>;

/** `orders.created_dynamic`: the order's date by day, week or month, as the `date_granularity` parameter says. */
function createdDynamic(): Dimension {
  const timeframeOf = (parameters: ParameterValues): Timeframe =>
    GRANULARITIES[(parameters.get(GRANULARITY) ?? 'month') as keyof typeof GRANULARITIES] ?? 'month';
  return {
    ...column('orders', 'created_dynamic', 'string', { description: 'The order date by day, week or month, as Date Granularity chooses.' }),
    lookmlSql:
      "{% if date_granularity._parameter_value == 'day' %} ${created_date} {% elsif date_granularity._parameter_value == 'week' %} ${created_week} {% else %} ${created_month} {% endif %}",
    value: (row, parameters) => (typeof row.created_at === 'string' ? inTimeframe(row.created_at, timeframeOf(parameters)) : null),
    sql: (parameters) => timeframeSql('orders.created_at', timeframeOf(parameters)),
  };
}

const USERS_VIEW: View = {
  name: 'users',
  label: 'Users',
  table: 'demo_ecommerce.users',
  primaryKey: 'id',
  rows: USERS,
  fields: [
    column('users', 'id', 'number', { primaryKey: true, label: 'ID', description: 'The customer’s account number.' }),
    column('users', 'name', 'string', { description: 'First and last name.' }),
    column('users', 'email', 'string', { description: 'Where order confirmations go.' }),
    column('users', 'state', 'string', {
      description: 'State or province of the shipping address.',
      suggestions: [...new Set(USERS.map((u) => String(u.state)))].sort(),
    }),
    column('users', 'country', 'string', { suggestions: ['Canada', 'USA'] }),
    column('users', 'age', 'number', { description: 'Age in years at sign-up.' }),
    tier('users', 'age_tier', 'age', [20, 30, 40, 50, 60, 70], 'Age in ten-year bands.'),
    column('users', 'traffic_source', 'string', { description: 'How the customer first found the shop.', suggestions: ['Display', 'Email', 'Facebook', 'Organic', 'Search'] }),
    ...timeGroup('users', 'created', 'created_at', ['raw', 'date', 'week', 'month', 'year'], 'When the account was opened.'),
    measure('users', 'count', 'count', null, 'Number of customers.'),
    measure('users', 'average_age', 'average', 'age', 'Mean age of the customers.', 'decimal_1'),
  ],
};

const ORDERS_VIEW: View = {
  name: 'orders',
  label: 'Orders',
  table: 'demo_ecommerce.orders',
  primaryKey: 'id',
  rows: ORDERS,
  fields: [
    column('orders', 'id', 'number', { primaryKey: true, label: 'ID', description: 'The order number.' }),
    column('orders', 'user_id', 'number', { hidden: true, label: 'User ID' }),
    column('orders', 'status', 'string', {
      description: 'Where the order is: processing, shipped, complete, cancelled or returned.',
      suggestions: ['cancelled', 'complete', 'processing', 'returned', 'shipped'],
    }),
    column('orders', 'amount', 'number', { description: 'What the customer paid, in US dollars.', valueFormatName: 'usd' }),
    yesno('orders', 'is_first_order', 'Yes for each customer’s first order.'),
    ...timeGroup('orders', 'created', 'created_at', ['raw', 'time', 'date', 'week', 'month', 'quarter', 'year', 'day_of_week'], 'When the order was placed (UTC).'),
    createdDynamic(),
    filterOnly('orders', 'created_range', 'date', 'orders.created_date', 'Orders placed in this period (a date filter for templated SQL).'),
    {
      kind: 'parameter',
      name: GRANULARITY,
      view: 'orders',
      type: 'unquoted',
      labelShort: 'Date Granularity',
      description: 'Day, week or month for Created Dynamic.',
      lookmlSql: null,
      hidden: false,
      allowedValues: Object.keys(GRANULARITIES).map((value) => ({ label: titleCase(value), value })),
      defaultValue: 'month',
    },
    measure('orders', 'count', 'count', null, 'Number of orders.'),
    measure('orders', 'total_amount', 'sum', 'amount', 'Sum of the order amounts.', 'usd'),
    measure('orders', 'average_amount', 'average', 'amount', 'Mean order amount.', 'usd'),
    measure('orders', 'customer_count', 'count_distinct', 'user_id', 'Number of distinct customers who ordered.'),
  ],
};

const PRODUCTS_VIEW: View = {
  name: 'products',
  label: 'Products',
  table: 'demo_ecommerce.products',
  primaryKey: 'id',
  rows: PRODUCTS,
  fields: [
    column('products', 'id', 'number', { primaryKey: true, label: 'ID' }),
    column('products', 'name', 'string'),
    column('products', 'category', 'string', { suggestions: [...new Set(PRODUCTS.map((p) => String(p.category)))].sort() }),
    column('products', 'brand', 'string', { suggestions: [...new Set(PRODUCTS.map((p) => String(p.brand)))].sort() }),
    column('products', 'retail_price', 'number', { description: 'List price in US dollars.', valueFormatName: 'usd' }),
    column('products', 'cost', 'number', { description: 'What the shop paid, in US dollars.', valueFormatName: 'usd' }),
    yesno('products', 'is_on_sale', 'Yes while the product is discounted.'),
    filterOnly('products', 'category_select', 'string', 'products.category', 'Products of these categories (a string filter for templated SQL).'),
    measure('products', 'count', 'count', null, 'Number of products.'),
    measure('products', 'average_retail_price', 'average', 'retail_price', 'Mean list price.', 'usd'),
    measure('products', 'total_cost', 'sum', 'cost', 'Sum of the products’ costs.', 'usd'),
  ],
};

export const DEMO_MODEL: LookmlModel = {
  name: 'demo',
  label: 'Demo e-commerce',
  projectName: 'demo_ecommerce',
  connection: 'demo_warehouse',
  explores: [
    {
      name: 'orders',
      label: 'Orders',
      description: 'Every order, with the customer who placed it.',
      base: ORDERS_VIEW,
      joins: [{ view: USERS_VIEW, foreignKey: 'user_id', relationship: 'many_to_one' }],
    },
    { name: 'users', label: 'Customers', description: 'Customer accounts: where they live and how they found the shop.', base: USERS_VIEW, joins: [] },
    { name: 'products', label: 'Products', description: 'The catalogue: categories, brands, prices and costs.', base: PRODUCTS_VIEW, joins: [] },
  ],
};

/** The models the simulator knows, by name. */
export const MODELS: ReadonlyMap<string, LookmlModel> = new Map([[DEMO_MODEL.name, DEMO_MODEL]]);

/** An explore's views: its base, then its joins. */
export const viewsOf = (explore: Explore): View[] => [explore.base, ...explore.joins.map((j) => j.view)];

/** Every field an explore offers, by name. */
export function fieldsOf(explore: Explore): Map<string, Field> {
  return new Map(viewsOf(explore).flatMap((view) => view.fields.map((field) => [field.name, field] as const)));
}
