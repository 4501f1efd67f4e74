/**
 * The simulator's demo model and the endpoints the MCP Toolbox's Looker tools call
 * (sim/model-api.ts lists them): shapes, results computed from the demo rows, Looker's
 * errors, and who sees which looks.
 */
import { describe, expect, it } from 'vitest';
import { ORDERS, USERS } from '../sim/demo-data.ts';
import { createLookerSimulator, type SimulatorOptions } from '../sim/simulator.ts';

const DANA = { id: '42', display_name: 'Dana Demo', email: 'dana.demo@example.com' };
const ROBIN = { id: '7', display_name: 'Robin Roe', email: 'robin.roe@example.com' };
/** 2024-06-20 12:00 UTC, a week before the demo's last order (they run from 2024-01-02 to 2024-06-27). */
const NOW = Date.UTC(2024, 5, 20, 12);
const API = 'https://looker.test/api/4.0';

/** The toolbox's field lists (lookercommon.go's DimensionsFields and the like). */
const FIELD_PROPERTIES = 'name,type,label,label_short,description,synonyms,tags,hidden,suggestable,suggestions,suggest_dimension,suggest_explore,value_format,value_format_name';

type Json = Record<string, unknown>;

async function setUp(options: SimulatorOptions = {}) {
  const sim = createLookerSimulator({
    users: [DANA, ROBIN],
    apiKeys: [
      { clientId: 'dana-key', clientSecret: 'dana-secret', admin: false, userId: DANA.id },
      { clientId: 'robin-key', clientSecret: 'robin-secret', admin: false, userId: ROBIN.id },
    ],
    now: () => NOW,
    ...options,
  });
  const login = async (clientId: string, clientSecret: string) => {
    const res = await sim.fetch(`${API}/login`, { method: 'POST', body: new URLSearchParams({ client_id: clientId, client_secret: clientSecret }) });
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const as = (token: string | null) => {
    const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
    return {
      get: (path: string) => sim.fetch(`${API}${path}`, { headers }),
      post: (path: string, body: unknown) =>
        sim.fetch(`${API}${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
    };
  };
  return { sim, dana: as(await login('dana-key', 'dana-secret')), robin: as(await login('robin-key', 'robin-secret')), nobody: as(null) };
}
type Caller = Awaited<ReturnType<typeof setUp>>['dana'];

const json = async <T = Json>(res: Response, status = 200): Promise<T> => {
  expect(res.status, await res.clone().text()).toBe(status);
  return (await res.json()) as T;
};
const run = async (caller: Caller, query: Json, format = 'json') => caller.post(`/queries/run/${format}`, { model: 'demo', ...query });
const rows = async (caller: Caller, query: Json) => json<Json[]>(await run(caller, query));
const errorOf = async (res: Response, status = 400) => (await json<{ message: string; documentation_url: string }>(res, status)).message;

describe('demo model: LookML metadata', () => {
  it('all_lookml_models: the demo model with what get_models reads; fields narrows the answer', async () => {
    const { dana } = await setUp();
    const [model] = await json<Json[]>(await dana.get('/lookml_models?exclude_empty=false&exclude_hidden=false&include_internal=true'));
    expect(model).toMatchObject({ name: 'demo', label: 'Demo e-commerce', project_name: 'demo_ecommerce', allowed_db_connection_names: ['demo_warehouse'] });
    expect(await json(await dana.get('/lookml_models?fields=name,label'))).toEqual([{ name: 'demo', label: 'Demo e-commerce' }]);
    expect(await json(await dana.get('/lookml_models?offset=1'))).toEqual([]);
  });

  it('lookml_model: its explores, as get_explores asks for them; 404 for an unknown model', async () => {
    const { dana } = await setUp();
    const model = await json<{ explores: Json[] }>(await dana.get('/lookml_models/demo?fields=explores(name,description,label,group_label,hidden)'));
    expect(Object.keys(model)).toEqual(['explores']);
    expect(model.explores.map((e) => e.name)).toEqual(['orders', 'users', 'products']);
    for (const explore of model.explores) {
      expect(Object.keys(explore).sort()).toEqual(['description', 'group_label', 'hidden', 'label', 'name']);
      expect(explore).toMatchObject({ hidden: false, group_label: 'Demo e-commerce' });
    }
    const missing = await dana.get('/lookml_models/thelook');
    expect(await json(missing, 404)).toEqual({ message: 'Not found', documentation_url: expect.stringMatching(/^https:\/\//) });
  });

  it('lookml_model_explore: dimensions, measures, filters and parameters with the properties the toolbox reads', async () => {
    const { dana } = await setUp();
    const fieldsOf = async (kind: string) => {
      const explore = await json<{ fields: Record<string, Json[]> }>(await dana.get(`/lookml_models/demo/explores/orders?fields=fields(${kind}(${FIELD_PROPERTIES}))`));
      expect(Object.keys(explore.fields)).toEqual([kind]);
      return new Map(explore.fields[kind]!.map((f) => [f.name as string, f]));
    };
    const dimensions = await fieldsOf('dimensions');
    // The orders explore joins users: both views' fields are in it.
    expect([...dimensions.keys()]).toEqual(expect.arrayContaining(['orders.status', 'orders.amount', 'orders.created_date', 'orders.created_month', 'users.state', 'users.age_tier']));
    expect(dimensions.get('orders.status')).toEqual({
      name: 'orders.status',
      type: 'string',
      label: 'Orders Status',
      label_short: 'Status',
      description: expect.any(String),
      synonyms: [],
      tags: [],
      hidden: false,
      suggestable: true,
      suggestions: ['cancelled', 'complete', 'processing', 'returned', 'shipped'],
      suggest_dimension: 'orders.status',
      suggest_explore: 'orders',
      value_format: null,
      value_format_name: null,
    });
    expect(dimensions.get('orders.created_month')).toMatchObject({ type: 'date_month', label: 'Orders Created Month', label_short: 'Created Month' });
    expect(dimensions.get('orders.is_first_order')).toMatchObject({ type: 'yesno', suggestions: ['Yes', 'No'] });
    expect(dimensions.get('orders.created_raw')).toMatchObject({ type: 'date_raw', hidden: true });
    expect(dimensions.get('orders.amount')).toMatchObject({ type: 'number', value_format_name: 'usd', suggestable: false });

    const measures = await fieldsOf('measures');
    expect(Object.fromEntries([...measures].map(([name, f]) => [name, f.type]))).toEqual({
      'orders.count': 'count',
      'orders.total_amount': 'sum',
      'orders.average_amount': 'average',
      'orders.customer_count': 'count_distinct',
      'users.count': 'count',
      'users.average_age': 'average',
    });
    expect([...(await fieldsOf('filters')).values()]).toEqual([expect.objectContaining({ name: 'orders.created_range', type: 'date' })]);
    expect([...(await fieldsOf('parameters')).values()]).toEqual([expect.objectContaining({ name: 'orders.date_granularity', type: 'unquoted', suggestions: ['day', 'week', 'month'] })]);
  });

  it('lookml_model_explore whole: Looker’s explore shape with the join and each field’s LookML sql', async () => {
    const { dana } = await setUp();
    const explore = await json<Json & { fields: { dimensions: Json[] }; joins: Json[] }>(await dana.get('/lookml_models/demo/explores/orders'));
    expect(explore).toMatchObject({ id: 'demo::orders', name: 'orders', model_name: 'demo', view_name: 'orders', connection_name: 'demo_warehouse', sql_table_name: '`demo_ecommerce.orders` AS orders' });
    expect(explore.joins).toEqual([expect.objectContaining({ name: 'users', relationship: 'many_to_one', type: 'left_outer', sql_on: '${orders.user_id} = ${users.id}' })]);
    expect(explore.fields.dimensions.find((f) => f.name === 'orders.status')).toMatchObject({ sql: '${TABLE}.status', view: 'orders', category: 'dimension' });
    expect(explore.fields.dimensions.find((f) => f.name === 'users.state')).toMatchObject({ view: 'users', view_label: 'Users' });
  });

  it('404 for an unknown explore or model, 401 without a token', async () => {
    const { dana, nobody } = await setUp();
    expect(await errorOf(await dana.get('/lookml_models/demo/explores/inventory'), 404)).toBe('Not found');
    expect(await errorOf(await dana.get('/lookml_models/thelook/explores/orders'), 404)).toBe('Not found');
    for (const path of ['/lookml_models', '/lookml_models/demo', '/lookml_models/demo/explores/orders']) {
      expect(await errorOf(await nobody.get(path), 401)).toBe('Requires authentication.');
    }
  });
});

describe('demo model: queries computed from the demo rows', () => {
  it('groups and aggregates: customers by country (exact rows, default sort by the first measure)', async () => {
    const { dana } = await setUp();
    expect(await rows(dana, { view: 'users', fields: ['users.country', 'users.count', 'users.average_age'] })).toEqual([
      { 'users.country': 'USA', 'users.count': 22, 'users.average_age': 37.318182 },
      { 'users.country': 'Canada', 'users.count': 8, 'users.average_age': 38.5 },
    ]);
  });

  it('orders by month (exact rows, newest month first as Looker sorts a time dimension), matching the rows one by one', async () => {
    const { dana } = await setUp();
    const result = await rows(dana, { view: 'orders', fields: ['orders.created_month', 'orders.count', 'orders.total_amount', 'orders.average_amount'] });
    expect(result).toEqual([
      { 'orders.created_month': '2024-06', 'orders.count': 11, 'orders.total_amount': 1291.5, 'orders.average_amount': 117.409091 },
      { 'orders.created_month': '2024-05', 'orders.count': 13, 'orders.total_amount': 1333.5, 'orders.average_amount': 102.576923 },
      { 'orders.created_month': '2024-04', 'orders.count': 12, 'orders.total_amount': 1150.5, 'orders.average_amount': 95.875 },
      { 'orders.created_month': '2024-03', 'orders.count': 12, 'orders.total_amount': 1402.5, 'orders.average_amount': 116.875 },
      { 'orders.created_month': '2024-02', 'orders.count': 12, 'orders.total_amount': 1294.5, 'orders.average_amount': 107.875 },
      { 'orders.created_month': '2024-01', 'orders.count': 12, 'orders.total_amount': 1006.5, 'orders.average_amount': 83.875 },
    ]);
    for (const row of result) {
      const inMonth = ORDERS.filter((o) => String(o.created_at).startsWith(row['orders.created_month'] as string));
      expect(row['orders.count']).toBe(inMonth.length);
      expect(row['orders.total_amount']).toBeCloseTo(inMonth.reduce((sum, o) => sum + (o.amount as number), 0), 6);
    }
  });

  it('a joined view’s measure counts each of its rows once per group (no fan-out)', async () => {
    const { dana } = await setUp();
    const result = await rows(dana, { view: 'orders', fields: ['orders.status', 'orders.count', 'users.count', 'orders.customer_count'], sorts: ['orders.status'] });
    expect(result.map((r) => r['orders.status'])).toEqual(['cancelled', 'complete', 'processing', 'returned', 'shipped']);
    for (const row of result) {
      const orders = ORDERS.filter((o) => o.status === row['orders.status']);
      const customers = new Set(orders.map((o) => o.user_id)).size;
      expect(row).toEqual({ 'orders.status': row['orders.status'], 'orders.count': orders.length, 'users.count': customers, 'orders.customer_count': customers });
    }
    // No dimension: one row of totals.
    expect(await rows(dana, { view: 'orders', fields: ['orders.count', 'users.count'] })).toEqual([{ 'orders.count': ORDERS.length, 'users.count': USERS.length }]);
  });

  it('dimensions alone: their distinct values, first dimension ascending', async () => {
    const { dana } = await setUp();
    expect(await rows(dana, { view: 'products', fields: ['products.category'] })).toEqual(
      ['Accessories', 'Jackets', 'Jeans', 'Shoes', 'Swim', 'Tops'].map((c) => ({ 'products.category': c })),
    );
  });

  it('string filters: equality, lists, negation, LIKE, and a joined view’s field', async () => {
    const { dana } = await setUp();
    const countWhere = async (filters: Json) => (await rows(dana, { view: 'orders', fields: ['orders.count'], filters }))[0]!['orders.count'];
    const byStatus = (...statuses: string[]) => ORDERS.filter((o) => statuses.includes(o.status as string)).length;
    expect(await countWhere({ 'orders.status': 'complete' })).toBe(byStatus('complete'));
    expect(await countWhere({ 'orders.status': 'complete,shipped' })).toBe(byStatus('complete', 'shipped'));
    expect(await countWhere({ 'orders.status': '-complete' })).toBe(ORDERS.length - byStatus('complete'));
    expect(await countWhere({ 'orders.status': '-complete,-cancelled' })).toBe(ORDERS.length - byStatus('complete', 'cancelled'));
    expect(await countWhere({ 'orders.status': '%ed' })).toBe(byStatus('shipped', 'cancelled', 'returned'));
    expect(await countWhere({ 'orders.status': 'Complete' })).toBe(0);
    const canadians = new Set(USERS.filter((u) => u.country === 'Canada').map((u) => u.id));
    expect(await countWhere({ 'users.country': 'Canada' })).toBe(ORDERS.filter((o) => canadians.has(o.user_id)).length);
    // Empty filters are no filters, as in Looker's UI.
    expect(await countWhere({ 'orders.status': '' })).toBe(ORDERS.length);
  });

  it('number, yes/no and date filters, and a filter-only field', async () => {
    const { dana } = await setUp();
    const countWhere = async (filters: Json, view = 'orders') => (await rows(dana, { view, fields: [`${view}.count`], filters }))[0]![`${view}.count`];
    const amounts = ORDERS.map((o) => o.amount as number);
    expect(await countWhere({ 'orders.amount': '>100' })).toBe(amounts.filter((a) => a > 100).length);
    expect(await countWhere({ 'orders.amount': '<=50' })).toBe(amounts.filter((a) => a <= 50).length);
    expect(await countWhere({ 'orders.amount': '[50, 100]' })).toBe(amounts.filter((a) => a >= 50 && a <= 100).length);
    expect(await countWhere({ 'orders.amount': 'NOT 15' })).toBe(amounts.filter((a) => a !== 15).length);
    const ageOf = (o: (typeof ORDERS)[number]) => USERS.find((u) => u.id === o.user_id)!.age as number;
    expect(await countWhere({ 'users.age': '>=30 AND <40' })).toBe(ORDERS.filter((o) => ageOf(o) >= 30 && ageOf(o) < 40).length);
    expect(await countWhere({ 'orders.is_first_order': 'Yes' })).toBe(new Set(ORDERS.map((o) => o.user_id)).size);

    const placed = (from: string, to: string) => ORDERS.filter((o) => (o.created_at as string) >= from && (o.created_at as string) < to).length;
    expect(await countWhere({ 'orders.created_date': '2024-02-01 to 2024-03-01' })).toBe(placed('2024-02-01', '2024-03-01'));
    expect(await countWhere({ 'orders.created_month': '2024-03' })).toBe(placed('2024-03-01', '2024-04-01'));
    expect(await countWhere({ 'orders.created_date': 'before 2024-01-15' })).toBe(placed('0000', '2024-01-15'));
    expect(await countWhere({ 'orders.created_date': 'after 2024-06-01' })).toBe(placed('2024-06-01', '9999'));
    // Relative to the simulator's clock (2024-06-20 12:00): today and the 6 days before.
    expect(await countWhere({ 'orders.created_date': '7 days' })).toBe(placed('2024-06-14', '2024-06-21'));
    expect(await countWhere({ 'orders.created_date': 'last month' })).toBe(placed('2024-05-01', '2024-06-01'));
    // A filter-only field filters what it is declared for.
    expect(await countWhere({ 'orders.created_range': '2024-02' })).toBe(placed('2024-02-01', '2024-03-01'));
    expect(await countWhere({ 'products.category_select': 'Jeans,Swim' }, 'products')).toBe(8);
  });

  it('measure filters apply after aggregation (HAVING)', async () => {
    const { dana } = await setUp();
    const result = await rows(dana, { view: 'orders', fields: ['orders.status', 'orders.count'], filters: { 'orders.count': '>9' } });
    expect(result).toEqual([{ 'orders.status': 'complete', 'orders.count': ORDERS.filter((o) => o.status === 'complete').length }]);
  });

  it('a parameter changes what a dimension computes', async () => {
    const { dana } = await setUp();
    const dynamic = async (granularity?: string) =>
      (
        await rows(dana, {
          view: 'orders',
          fields: ['orders.created_dynamic', 'orders.count'],
          filters: { 'orders.created_date': '2024-01-01 to 2024-01-15', ...(granularity ? { 'orders.date_granularity': granularity } : {}) },
          sorts: ['orders.created_dynamic'],
        })
      ).map((r) => r['orders.created_dynamic']);
    expect(await dynamic()).toEqual(['2024-01']);
    expect(await dynamic('week')).toEqual(['2024-01-01', '2024-01-08']);
    expect(await dynamic('day')).toEqual(['2024-01-02', '2024-01-04', '2024-01-07', '2024-01-09', '2024-01-12', '2024-01-14']);
  });

  it('sorts (several, asc and desc, with the toolbox’s pivot index), limit, and the run’s limit parameter', async () => {
    const { dana } = await setUp();
    const query = { view: 'orders', fields: ['orders.status', 'orders.count', 'orders.total_amount'], sorts: ['orders.count desc 0', 'orders.total_amount'] };
    const sorted = await rows(dana, query);
    const expected = ['cancelled', 'complete', 'processing', 'returned', 'shipped']
      .map((status) => ({ status, n: ORDERS.filter((o) => o.status === status).length, sum: ORDERS.filter((o) => o.status === status).reduce((s, o) => s + (o.amount as number), 0) }))
      .sort((a, b) => b.n - a.n || a.sum - b.sum)
      .map((e) => e.status);
    expect(sorted.map((r) => r['orders.status'])).toEqual(expected);
    expect(await rows(dana, { ...query, limit: '2' })).toEqual(sorted.slice(0, 2));
    expect(await json(await dana.post('/queries/run/json?limit=3', { model: 'demo', ...query, limit: '2' }))).toEqual(sorted.slice(0, 3));
    // Default limit 500 (more than the 72 orders), -1 as many as Looker gives.
    expect(await rows(dana, { view: 'orders', fields: ['orders.id'] })).toHaveLength(ORDERS.length);
    expect(await (await run(dana, { view: 'orders', fields: ['orders.id'], limit: '-1' }, 'sql')).text()).toMatch(/\nLIMIT 5000$/);
    expect(await (await run(dana, { view: 'orders', fields: ['orders.id'], limit: '100000' }, 'sql')).text()).toMatch(/\nLIMIT 5000$/);
  });

  it('sql: the SELECT Looker would send, naming the tables, columns, join, filters, grouping, order and limit', async () => {
    const { dana } = await setUp();
    const sql = await (
      await run(dana, { view: 'orders', fields: ['orders.created_week', 'users.count'], filters: { 'orders.status': 'complete,shipped', 'orders.total_amount': '>200' }, sorts: ['users.count desc'], limit: '3' }, 'sql')
    ).text();
    expect(sql).toBe(
      [
        'SELECT',
        "    FORMAT_TIMESTAMP('%F', TIMESTAMP_TRUNC(orders.created_at, WEEK(MONDAY))) AS orders_created_week,",
        '    COUNT(DISTINCT users.id) AS users_count',
        'FROM `demo_ecommerce.orders` AS orders',
        'LEFT JOIN `demo_ecommerce.users` AS users ON orders.user_id = users.id',
        "WHERE (((orders.status) = 'complete' OR (orders.status) = 'shipped'))",
        'GROUP BY',
        '    1',
        'HAVING ((COALESCE(SUM(orders.amount), 0)) > 200)',
        'ORDER BY',
        '    2 DESC',
        'LIMIT 3',
      ].join('\n'),
    );
    // No join when no field of the joined view is used.
    const plain = await (await run(dana, { view: 'products', fields: ['products.brand', 'products.average_retail_price'], filters: { 'products.is_on_sale': 'Yes' } }, 'sql')).text();
    expect(plain).toContain('FROM `demo_ecommerce.products` AS products\nWHERE');
    expect(plain).toContain('AVG(products.retail_price) AS products_average_retail_price');
    expect(plain).toContain("(CASE WHEN products.is_on_sale THEN 'Yes' ELSE 'No' END) = 'Yes'");
    expect(plain).not.toContain('JOIN');
    expect((await run(dana, { view: 'products', fields: ['products.count'] }, 'sql')).headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('csv: labels as the header, then the rows', async () => {
    const { dana } = await setUp();
    const res = await run(dana, { view: 'users', fields: ['users.country', 'users.count'] }, 'csv');
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await res.text()).toBe('Users Country,Users Count\nUSA,22\nCanada,8\n');
  });

  it('400 naming what is wrong: an unknown field, filter, sort or value, a bad expression; 404 for an unknown model or explore', async () => {
    const { dana } = await setUp();
    const base = { view: 'orders', fields: ['orders.count'] };
    expect(await errorOf(await run(dana, { view: 'orders', fields: ['orders.count', 'orders.revenue'] }))).toMatch(/"orders\.revenue".*demo::orders/);
    expect(await errorOf(await run(dana, { ...base, filters: { 'orders.colour': 'red' } }))).toMatch(/"orders\.colour" in filters/);
    expect(await errorOf(await run(dana, { ...base, sorts: ['orders.colour desc'] }))).toMatch(/"orders\.colour" in sorts/);
    expect(await errorOf(await run(dana, { ...base, sorts: ['orders.status'] }))).toMatch(/orders\.status: it is not in the query's fields/);
    expect(await errorOf(await run(dana, { ...base, filters: { 'orders.created_date': 'next full moon' } }))).toBe('Unsupported filter expression "next full moon" for orders.created_date');
    expect(await errorOf(await run(dana, { ...base, filters: { 'orders.amount': 'lots' } }))).toBe('Unsupported filter expression "lots" for orders.amount');
    expect(await errorOf(await run(dana, { ...base, filters: { 'orders.is_first_order': 'maybe' } }))).toMatch(/"maybe" for orders\.is_first_order/);
    expect(await errorOf(await run(dana, { ...base, filters: { 'orders.date_granularity': 'fortnight' } }))).toMatch(/"fortnight" is not an allowed value of the parameter orders\.date_granularity/);
    expect(await errorOf(await run(dana, { view: 'orders', fields: ['orders.created_range'] }))).toMatch(/orders\.created_range is a filter-only field/);
    expect(await errorOf(await run(dana, { view: 'orders', fields: [] }))).toMatch(/at least one dimension or measure/);
    expect(await errorOf(await run(dana, { ...base, limit: 'many' }))).toMatch(/^limit must be/);
    expect(await errorOf(await run(dana, { ...base, pivots: ['orders.status'] }))).toMatch(/pivot/);
    expect(await errorOf(await run(dana, { ...base, filter_expression: '${orders.amount} > 10' }))).toMatch(/filter_expression/);
    expect(await errorOf(await run(dana, base, 'xlsx'))).toMatch(/^Unsupported result format "xlsx"/);
    expect(await errorOf(await run(dana, { view: 'inventory', fields: ['orders.count'] }), 404)).toBe('Not found');
    expect(await errorOf(await run(dana, { model: 'thelook', view: 'orders', fields: ['orders.count'] }), 404)).toBe('Not found');
    expect(await errorOf(await dana.post('/queries/run/json', '{"model":'))).toBe('The request body is not valid JSON.');
  });

  it('the toolbox’s run_inline: the WriteQuery under query, the format under render_options', async () => {
    const { dana } = await setUp();
    const query = { model: 'demo', view: 'products', fields: ['products.category', 'products.count'], filters: { 'products.category': 'Swim' } };
    const res = await dana.post('/queries/run_inline', { query, render_options: { format: 'json' }, query_api_client_context: { name: 'MCP Toolbox' } });
    expect(await json(res)).toEqual([{ 'products.category': 'Swim', 'products.count': 4 }]);
    expect(await (await dana.post('/queries/run_inline', { query, render_options: { format: 'sql' } })).text()).toMatch(/^SELECT\n/);
    expect(await errorOf(await dana.post('/queries/run_inline', { query: { ...query, fields: ['products.colour'] }, render_options: { format: 'json' } }))).toMatch(/products\.colour/);
  });
});

describe('demo model: saved queries', () => {
  it('create_query stores a demo query with its links (query_url’s fields); run_query runs it', async () => {
    const { dana } = await setUp({ webServerUrl: 'https://looker.example.com' });
    const query = { model: 'demo', view: 'orders', fields: ['orders.status', 'orders.count'], filters: { 'orders.status': '-cancelled' }, sorts: ['orders.count desc'], limit: '500', vis_config: { type: 'looker_bar' } };
    const created = await json(await dana.post('/queries?fields=id,slug,share_url,expanded_share_url', query));
    expect(Object.keys(created)).toEqual(['id', 'slug', 'share_url', 'expanded_share_url']);
    expect(created.share_url).toBe(`https://looker.example.com/x/${created.slug as string}`);
    const expanded = new URL(created.expanded_share_url as string);
    expect(expanded.origin + expanded.pathname).toBe('https://looker.example.com/explore/demo/orders');
    expect(Object.fromEntries(expanded.searchParams)).toEqual({
      fields: 'orders.status,orders.count',
      'f[orders.status]': '-cancelled',
      sorts: 'orders.count desc',
      limit: '500',
      origin: 'share-expanded',
    });

    const whole = await json(await dana.get(`/queries/${created.id as string}`));
    expect(whole).toMatchObject({ ...query, id: created.id, slug: created.slug, url: expect.stringMatching(/^\/explore\/demo\/orders\?/) });
    const ran = await json(await dana.get(`/queries/${created.id as string}/run/json`));
    expect(ran).toEqual(await rows(dana, query));
    expect(await json<Json[]>(await dana.get(`/queries/${created.id as string}/run/json?limit=1`))).toHaveLength(1);
    expect(await errorOf(await dana.get('/queries/9999/run/json'), 404)).toBe('Not found');
  });

  it('create_query refuses a demo query that cannot run, and stores nothing', async () => {
    const { dana } = await setUp();
    expect(await errorOf(await dana.post('/queries', { model: 'demo', view: 'orders', fields: ['orders.margin'] }))).toMatch(/"orders\.margin"/);
    expect(await errorOf(await dana.post('/queries', { model: 'demo', view: 'warehouse', fields: ['orders.count'] }), 404)).toBe('Not found');
    expect(await errorOf(await dana.get('/queries/1'), 404)).toBe('Not found');
  });

  it('a query on a model the simulator does not have is stored as given, and running it is 404', async () => {
    const { dana } = await setUp();
    const created = await json(await dana.post('/queries', { model: 'thelook', view: 'orders', fields: ['orders.count'] }));
    expect(await errorOf(await dana.get(`/queries/${created.id as string}/run/json`), 404)).toBe('Not found');
  });
});

describe('demo model: looks, folders and dashboards', () => {
  it('search_looks as get_looks calls it: Looker’s whole-value, case-blind match with % wildcards; model.id in every look', async () => {
    const { dana } = await setUp();
    const titles = async (query: string) => (await json<Json[]>(await dana.get(`/looks/search?${query}`))).map((l) => l.title);
    expect(await titles('limit=100&offset=0')).toEqual(['Weekly revenue', 'Active users', 'Orders by status']);
    expect(await titles('title=weekly%20REVENUE&limit=100&offset=0')).toEqual(['Weekly revenue']);
    expect(await titles('title=revenue')).toEqual([]);
    expect(await titles('title=%25revenue%25')).toEqual(['Weekly revenue']);
    expect(await titles('description=%25customers%25')).toEqual(['Active users']);
    expect(await titles('title=Active%25&description=%25status%25&filter_or=true')).toEqual(['Active users', 'Orders by status']);
    expect(await titles('limit=1&offset=1')).toEqual(['Active users']);
    expect(await titles('sorts=title')).toEqual(['Active users', 'Orders by status', 'Weekly revenue']);
    const [look] = await json<Json[]>(await dana.get('/looks/search?title=Weekly%25&fields=id,title,description,model(id)'));
    expect(look).toEqual({ id: '1', title: 'Weekly revenue', description: 'Order revenue per week.', model: { id: 'demo' } });
    expect(await json(await dana.get('/looks?fields=id,query_id'))).toEqual([
      { id: '1', query_id: '101' },
      { id: '2', query_id: '102' },
      { id: '3', query_id: '103' },
    ]);
  });

  it('look and run_look: the look with its query (what run_look reads); its rows; 404 for an unknown look', async () => {
    const { dana } = await setUp();
    const look = await json<Json & { query: Json }>(await dana.get('/looks/3'));
    expect(look).toMatchObject({ id: '3', title: 'Orders by status', model: { id: 'demo', label: 'Demo e-commerce' }, folder_id: '7', user_id: DANA.id, url: '/looks/3' });
    expect(look.query).toMatchObject({ id: '103', model: 'demo', view: 'orders', fields: ['orders.status', 'orders.count', 'orders.average_amount'], sorts: ['orders.count desc'] });
    const viaLook = await json<Json[]>(await dana.get('/looks/3/run/json'));
    expect(viaLook).toEqual(await rows(dana, { view: 'orders', fields: look.query.fields, sorts: look.query.sorts }));
    expect(viaLook[0]).toMatchObject({ 'orders.status': 'complete' });
    expect(await json<Json[]>(await dana.get('/looks/3/run/json?limit=2'))).toHaveLength(2);
    expect(await (await dana.get('/looks/3/run/csv')).text()).toMatch(/^Orders Status,Orders Count,Orders Average Amount\ncomplete,36,/);
    expect(await errorOf(await dana.get('/looks/99'), 404)).toBe('Not found');
    expect(await errorOf(await dana.get('/looks/99/run/json'), 404)).toBe('Not found');
  });

  it('make_look’s calls: personal folder, its titles, a query, the look; it is the caller’s, and no one else sees it', async () => {
    const { dana, robin } = await setUp({ webServerUrl: 'https://looker.example.com' });
    const me = await json<{ id: string; personal_folder_id: string }>(await dana.get('/user?fields=id,personal_folder_id'));
    expect(me).toEqual({ id: DANA.id, personal_folder_id: expect.any(String) });
    const folder = me.personal_folder_id;
    expect(await json(await dana.get(`/folders/${folder}/looks?fields=title`))).toEqual([]);
    const { id: queryId } = await json<{ id: string }>(await dana.post('/queries?fields=id', { model: 'demo', view: 'users', fields: ['users.state', 'users.count'] }));
    const created = await json<Json>(await dana.post('/looks', { title: 'Customers by state', user_id: me.id, description: 'Mine', query_id: queryId, folder_id: folder }));
    expect(created).toMatchObject({ title: 'Customers by state', description: 'Mine', user_id: DANA.id, folder_id: folder, query_id: queryId, short_url: expect.stringMatching(/^\/x\//) });
    const lookId = created.id as string;
    expect(await json(await dana.get(`/folders/${folder}/looks?fields=title`))).toEqual([{ title: 'Customers by state' }]);
    expect(await json<Json[]>(await dana.get(`/looks/${lookId}/run/json`))).toEqual(await rows(dana, { view: 'users', fields: ['users.state', 'users.count'] }));

    // Robin has a personal folder of his own, and sees none of Dana's.
    const robinsFolder = (await json<{ personal_folder_id: string }>(await robin.get('/user'))).personal_folder_id;
    expect(robinsFolder).not.toBe(folder);
    expect(await errorOf(await robin.get(`/looks/${lookId}`), 404)).toBe('Not found');
    expect(await errorOf(await robin.get(`/looks/${lookId}/run/json`), 404)).toBe('Not found');
    expect(await errorOf(await robin.get(`/folders/${folder}/looks`), 404)).toBe('Not found');
    expect((await json<Json[]>(await robin.get('/looks'))).map((l) => l.id)).toEqual(['1', '2', '3']);
    expect(await json(await robin.get('/looks/search?title=Customers%25'))).toEqual([]);
    // …but the shared folder's looks, yes.
    expect(await json(await robin.get('/folders/7/looks?fields=id'))).toEqual([{ id: '1' }, { id: '2' }, { id: '3' }]);
    expect((await json<Json[]>(await dana.get('/looks'))).map((l) => l.id)).toEqual(['1', '2', '3', lookId]);
  });

  it('create_look refuses a missing title, an unknown query, a folder the caller cannot see, a title already in the folder', async () => {
    const { dana, robin } = await setUp();
    const folder = (await json<{ personal_folder_id: string }>(await dana.get('/user'))).personal_folder_id;
    const fieldsOfErrors = async (body: Json, caller = dana) => (await json<{ message: string; errors: { field: string; code: string }[] }>(await caller.post('/looks', body), 422)).errors.map((e) => `${e.field}:${e.code}`);
    expect(await fieldsOfErrors({ query_id: '101', folder_id: folder })).toEqual(['title:missing']);
    expect(await fieldsOfErrors({ title: 'X', query_id: '999', folder_id: folder })).toEqual(['query_id:not_found']);
    expect(await fieldsOfErrors({ title: 'X', query_id: '101' })).toEqual(['folder_id:missing']);
    expect(await fieldsOfErrors({ title: 'X', query_id: '101', folder_id: folder }, robin)).toEqual(['folder_id:not_found']);
    expect(await fieldsOfErrors({ title: 'Weekly revenue', query_id: '101', folder_id: '7' })).toEqual(['title:already_exists']);
    expect((await dana.post('/looks', { title: 'Weekly revenue', query_id: '101', folder_id: folder })).status).toBe(200);
  });

  it('dashboards: search_dashboards as get_dashboards calls it, all_dashboards in IDashboardBase’s shape; the conditional-GET probe still answers', async () => {
    const { dana } = await setUp();
    const found = await json<Json[]>(await dana.get('/dashboards/search?title=Sales&limit=100&offset=0'));
    expect(found).toEqual([expect.objectContaining({ id: '1', title: 'Sales', description: expect.any(String), folder_id: '7', user_id: DANA.id })]);
    expect((await json<Json[]>(await dana.get('/dashboards/search?description=%25brands%25'))).map((d) => d.title)).toEqual(['Product catalogue']);
    const all = await json<Json[]>(await dana.get('/dashboards'));
    expect(all.map((d) => d.title)).toEqual(['Sales', 'Customers', 'Product catalogue']);
    expect(Object.keys(all[0]!).sort()).toEqual(['can', 'content_metadata_id', 'description', 'folder', 'hidden', 'id', 'preferred_viewer', 'query_timezone', 'readonly', 'refresh_interval', 'slug', 'title', 'user_id']);
    const probe = await dana.get('/dashboards/1');
    expect(probe.headers.get('etag')).toBe('"d1"');
  });

  it('every demo endpoint needs a token', async () => {
    const { nobody } = await setUp();
    const gets = ['/looks', '/looks/search', '/looks/1', '/looks/1/run/json', '/folders/7/looks', '/dashboards', '/dashboards/search', '/queries/101', '/queries/101/run/json'];
    for (const path of gets) expect(await errorOf(await nobody.get(path), 401), path).toBe('Requires authentication.');
    const posts = ['/queries', '/queries/run/json', '/queries/run_inline', '/looks'];
    for (const path of posts) expect(await errorOf(await nobody.post(path, { model: 'demo', view: 'orders', fields: ['orders.count'] }), 401), path).toBe('Requires authentication.');
  });
});
