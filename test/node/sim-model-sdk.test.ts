/**
 * The real @looker/sdk (through @looker/sdk-node, logging in with the simulator's admin API
 * key) against the simulator's demo model, served over HTTP: the SDK's own request shapes
 * and its parsing of the answers, for the calls the MCP Toolbox's Looker tools make.
 */
import { LookerNodeSDK, NodeSettings } from '@looker/sdk-node';
import type { Looker40SDK } from '@looker/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../sim/server.ts';
import { quietSdkDebugNoise } from '../e2e/harness.ts';

/** Settings from a URL, with the simulator's admin key where the SDK reads credentials (readConfig). */
class SimulatorSettings extends NodeSettings {
  constructor(baseUrl: string) {
    super('LOOKER_SIM_SDK_TEST', `[Looker]\nbase_url=${baseUrl}\nverify_ssl=false\ntimeout=30\n`);
  }
  override readConfig(): Record<string, string> {
    return { client_id: 'sim-admin-id', client_secret: 'sim-admin-secret' };
  }
}

/**
 * A run's rows: run_* methods are typed as strings, but the SDK parses a JSON answer
 * (by its content type) as it does any other.
 */
const rowsOf = (result: unknown): unknown => (typeof result === 'string' ? JSON.parse(result) : result);

describe('@looker/sdk against the simulator’s demo model', () => {
  let running: RunningSimulator;
  let sdk: Looker40SDK;
  let restoreConsole: () => void;

  beforeAll(async () => {
    restoreConsole = quietSdkDebugNoise();
    running = await startSimulator({ port: 0, registerApp: false, now: () => Date.UTC(2024, 5, 20, 12) });
    sdk = LookerNodeSDK.init40(new SimulatorSettings(running.url));
  });

  afterAll(async () => {
    await sdk?.authSession.logout();
    await running?.close();
    restoreConsole();
  });

  it('all_lookml_models, lookml_model, lookml_model_explore', async () => {
    const models = await sdk.ok(sdk.all_lookml_models({ exclude_empty: false, exclude_hidden: false, include_internal: true }));
    expect(models.map((m) => [m.name, m.label, m.project_name, m.allowed_db_connection_names])).toEqual([['demo', 'Demo e-commerce', 'demo_ecommerce', ['demo_warehouse']]]);
    const model = await sdk.ok(sdk.lookml_model('demo', 'explores(name,label,hidden)'));
    expect(model.explores?.map((e) => e.name)).toEqual(['orders', 'users', 'products']);
    const explore = await sdk.ok(sdk.lookml_model_explore({ lookml_model_name: 'demo', explore_name: 'orders', fields: 'fields(dimensions(name,type),measures(name,type))' }));
    expect(explore.fields?.dimensions?.find((d) => d.name === 'orders.created_month')?.type).toBe('date_month');
    expect(explore.fields?.measures?.map((m) => m.name)).toContain('orders.total_amount');
    await expect(sdk.ok(sdk.lookml_model_explore({ lookml_model_name: 'demo', explore_name: 'nope' }))).rejects.toThrow(/Not found/);
  });

  it('run_inline_query (json and sql), create_query and run_query', async () => {
    const body = { model: 'demo', view: 'users', fields: ['users.country', 'users.count'], filters: { 'users.country': 'Canada' }, sorts: ['users.count desc'], limit: '10' };
    const rows = rowsOf(await sdk.ok(sdk.run_inline_query({ result_format: 'json', body })));
    expect(rows).toEqual([{ 'users.country': 'Canada', 'users.count': 8 }]);
    expect(await sdk.ok(sdk.run_inline_query({ result_format: 'sql', body }))).toMatch(/FROM `demo_ecommerce\.users` AS users\nWHERE \(\(users\.country\) = 'Canada'\)/);
    const query = await sdk.ok(sdk.create_query(body, 'id,slug,share_url,expanded_share_url'));
    expect(query.share_url).toBe(`${running.url}/x/${query.slug}`);
    expect(rowsOf(await sdk.ok(sdk.run_query({ query_id: query.id!, result_format: 'json' })))).toEqual(rows);
    await expect(sdk.ok(sdk.run_inline_query({ result_format: 'json', body: { ...body, fields: ['users.shoe_size'] } }))).rejects.toThrow(/users\.shoe_size/);
  });

  it('search_looks, look, run_look, create_look into the personal folder, search_dashboards', async () => {
    const looks = await sdk.ok(sdk.search_looks({ title: 'Weekly%', limit: 100, offset: 0 }));
    expect(looks.map((l) => [l.id, l.title, l.model?.id])).toEqual([['1', 'Weekly revenue', 'demo']]);
    const look = await sdk.ok(sdk.look('1'));
    expect(look.query?.fields).toEqual(['orders.created_week', 'orders.total_amount']);
    const ran = rowsOf(await sdk.ok(sdk.run_look({ look_id: '1', result_format: 'json', limit: 2 })));
    expect(ran).toEqual([
      { 'orders.created_week': '2024-06-24', 'orders.total_amount': 208.25 },
      { 'orders.created_week': '2024-06-17', 'orders.total_amount': 394 },
    ]);
    const me = await sdk.ok(sdk.me('id,personal_folder_id'));
    const query = await sdk.ok(sdk.create_query({ model: 'demo', view: 'products', fields: ['products.brand', 'products.count'] }, 'id'));
    const made = await sdk.ok(sdk.create_look({ title: 'Brands', query_id: query.id!, folder_id: me.personal_folder_id! }));
    expect(made).toMatchObject({ title: 'Brands', folder_id: me.personal_folder_id, user_id: me.id });
    expect((await sdk.ok(sdk.folder_looks(me.personal_folder_id!, 'title'))).map((l) => l.title)).toEqual(['Brands']);
    const dashboards = await sdk.ok(sdk.search_dashboards({ title: 'Sales', limit: 100, offset: 0 }));
    expect(dashboards.map((d) => [d.id, d.title])).toEqual([['1', 'Sales']]);
  });
});
