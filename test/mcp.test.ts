/**
 * The MCP server (src/mcp/handler.ts) against the simulator's demo model, driven by the
 * MCP SDK's own client over a fetch function that calls handleMcp in-process (the
 * 2025-era initialize handshake by default, the 2026-07-28 revision pinned), and by raw
 * JSON-RPC for what a client library hides: status codes, headers, parse errors.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import type { GrantScope } from '../src/grants/scope.ts';
import { handleMcp, type LookerCall, type McpCaller } from '../src/mcp/handler.ts';
import { createLookerSimulator } from '../sim/simulator.ts';

const DANA = { id: '42', display_name: 'Dana Demo', email: 'dana.demo@example.com' };
const NOW = Date.UTC(2024, 5, 20, 12);
const API = 'https://looker.test/api/4.0';
const MCP = 'https://gw.test/mcp';
const RESOURCE_METADATA = 'https://gw.test/.well-known/oauth-protected-resource/mcp';

type Json = Record<string, unknown>;

/** A simulator, Dana's Looker token, and the Looker calls made through the tools (method and path). */
async function setUp() {
  const sim = createLookerSimulator({
    users: [DANA],
    apiKeys: [{ clientId: 'dana-key', clientSecret: 'dana-secret', admin: false, userId: DANA.id }],
    now: () => NOW,
    webServerUrl: 'https://looker.example.com',
  });
  const login = await sim.fetch(`${API}/login`, { method: 'POST', body: new URLSearchParams({ client_id: 'dana-key', client_secret: 'dana-secret' }) });
  const token = ((await login.json()) as { access_token: string }).access_token;
  const calls: string[] = [];
  const looker: LookerCall = (method, path, body) => {
    calls.push(`${method} ${path.split('?')[0]}`);
    return sim.fetch(`${API}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  };
  const caller = (scope: GrantScope): McpCaller => ({ looker, scope, resourceMetadataUrl: RESOURCE_METADATA });
  return { calls, caller };
}

/** The SDK's client, connected through handleMcp. */
async function connect(caller: McpCaller, modern = false): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(MCP), { fetch: (url, init) => handleMcp(new Request(url, init), caller) });
  const client = new Client({ name: 'test-agent', version: '1.0.0' }, modern ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {});
  await client.connect(transport);
  return client;
}

interface ToolAnswer {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: unknown;
}
const call = async (client: Client, name: string, args: Json = {}) => (await client.callTool({ name, arguments: args })) as ToolAnswer;
const textOf = (answer: ToolAnswer) => answer.content.map((c) => c.text ?? '').join('');
/** The structured value (2025-era clients see a non-object wrapped as { result }). */
const valueOf = (answer: ToolAnswer): unknown => {
  expect(answer.isError, textOf(answer)).toBeFalsy();
  const value = answer.structuredContent as Json;
  return Object.keys(value).length === 1 && 'result' in value ? value.result : value;
};

/** A raw JSON-RPC POST, as a 2025-era client sends it after initialize. */
const post = (caller: McpCaller, body: unknown, headers: Record<string, string> = {}) =>
  handleMcp(
    new Request(MCP, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
    caller,
  );

/** A JSON-RPC answer, from a JSON body or the one event of an SSE stream. */
async function rpc(res: Response): Promise<Json> {
  const text = await res.text();
  if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) return JSON.parse(text) as Json;
  const data = text.split('\n').find((line) => line.startsWith('data: '));
  return JSON.parse(data!.slice(6)) as Json;
}

const READ_ONLY_TOOLS = ['get_models', 'get_explores', 'get_dimensions', 'get_measures', 'get_filters', 'get_parameters', 'query', 'query_sql', 'query_url', 'get_looks', 'run_look', 'get_dashboards'];

describe('MCP server: the protocol', () => {
  it('initialize (2025 era) and tools/list: every tool, its annotations and required arguments', async () => {
    const { caller } = await setUp();
    const client = await connect(caller('read'));
    expect(client.getServerVersion()).toMatchObject({ name: 'looker-oauth-gateway' });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual([...READ_ONLY_TOOLS, 'make_look']);
    for (const tool of tools) {
      expect(tool.annotations, tool.name).toEqual({ readOnlyHint: tool.name !== 'make_look', destructiveHint: false, openWorldHint: false });
      expect(tool.description, tool.name).toBeTruthy();
    }
    const schema = (name: string) => tools.find((t) => t.name === name)!.inputSchema as { properties: Json; required?: string[] };
    expect(schema('get_models').required ?? []).toEqual([]);
    expect(schema('get_explores').required).toEqual(['model']);
    expect(schema('get_dimensions').required).toEqual(['model', 'explore']);
    expect(schema('query').required).toEqual(['model', 'explore', 'fields']);
    expect(Object.keys(schema('query').properties)).toEqual(['model', 'explore', 'fields', 'filters', 'pivots', 'sorts', 'limit', 'tz', 'filter_expression', 'dynamic_fields']);
    expect(Object.keys(schema('query_url').properties)).toContain('vis_config');
    expect(Object.keys(schema('get_looks').properties)).toEqual(['title', 'desc', 'limit', 'offset']);
    expect(schema('run_look').required).toEqual(['look_id']);
    expect(schema('make_look').required).toEqual(['model', 'explore', 'fields', 'title']);
    await client.close();
  });

  it('the 2026-07-28 revision (no initialize, per-request envelope) lists and calls the same tools', async () => {
    const { caller } = await setUp();
    const client = await connect(caller('read'), true);
    expect((await client.listTools()).tools).toHaveLength(13);
    expect(valueOf(await call(client, 'get_models'))).toEqual([expect.objectContaining({ name: 'demo' })]);
    await client.close();
  });

  it('raw HTTP: GET and DELETE 405, a notification 202, bad JSON a parse error, an unknown tool and method JSON-RPC errors', async () => {
    const { caller } = await setUp();
    const read = caller('read');
    for (const method of ['GET', 'DELETE']) {
      const res = await handleMcp(new Request(MCP, { method, headers: { accept: 'text/event-stream' } }), read);
      expect(res.status, method).toBe(405);
    }
    const notified = await post(read, { jsonrpc: '2.0', method: 'notifications/initialized' });
    expect(notified.status).toBe(202);
    expect(await notified.text()).toBe('');

    const bad = await post(read, '{"jsonrpc": "2.0", "method": ');
    expect(bad.status).toBe(400);
    expect((await rpc(bad)).error).toMatchObject({ code: -32700 });

    const unknownTool = await rpc(await post(read, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'drop_database', arguments: {} } }));
    expect(JSON.stringify(unknownTool)).toMatch(/drop_database/);
    expect(unknownTool.error ?? (unknownTool.result as Json).isError).toBeTruthy();

    const unknownMethod = await rpc(await post(read, { jsonrpc: '2.0', id: 2, method: 'resources/explode' }));
    expect(unknownMethod.error).toMatchObject({ code: -32601 });

    const wrongType = await post(read, '{}', { 'content-type': 'text/plain' });
    expect(wrongType.status).toBe(415);
  });

  it('Accept and MCP-Protocol-Version: a POST that accepts no JSON, or names an unknown version, is refused', async () => {
    const { caller } = await setUp();
    const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
    const notAcceptable = await post(caller('read'), list, { accept: 'text/html' });
    expect(notAcceptable.status).toBe(406);
    const unknownVersion = await post(caller('read'), list, { 'mcp-protocol-version': '1999-01-01' });
    expect(unknownVersion.status).toBe(400);
  });
});

describe('MCP server: the tools against the demo model', () => {
  it('metadata: get_models, get_explores, get_dimensions, get_measures, get_filters, get_parameters', async () => {
    const { caller } = await setUp();
    const client = await connect(caller('read'));
    const models = valueOf(await call(client, 'get_models'));
    expect(models).toEqual([{ label: 'Demo e-commerce', name: 'demo', project_name: 'demo_ecommerce', connections: ['demo_warehouse'] }]);
    const models_ = await call(client, 'get_models');
    expect(JSON.parse(textOf(models_))).toEqual(models);

    const explores = valueOf(await call(client, 'get_explores', { model: 'demo' })) as Json[];
    expect(explores.map((e) => e.name)).toEqual(['orders', 'users', 'products']);
    expect(Object.keys(explores[0]!).sort()).toEqual(['description', 'group_label', 'label', 'name']);

    const dimensions = valueOf(await call(client, 'get_dimensions', { model: 'demo', explore: 'orders' })) as Json[];
    const byName = new Map(dimensions.map((d) => [d.name, d]));
    expect(byName.get('orders.created_date')).toMatchObject({ type: 'date_date', label_short: 'Created Date' });
    expect(byName.get('orders.status')).toMatchObject({ suggestable: true, suggestions: ['cancelled', 'complete', 'processing', 'returned', 'shipped'], suggest_explore: 'orders' });
    expect(byName.has('orders.created_raw')).toBe(false);
    expect(byName.get('orders.status')).not.toHaveProperty('tags');

    const measures = valueOf(await call(client, 'get_measures', { model: 'demo', explore: 'orders' })) as Json[];
    expect(measures.map((m) => m.name)).toContain('orders.total_amount');
    expect(valueOf(await call(client, 'get_filters', { model: 'demo', explore: 'orders' }))).toEqual([expect.objectContaining({ name: 'orders.created_range' })]);
    expect(valueOf(await call(client, 'get_parameters', { model: 'demo', explore: 'orders' }))).toEqual([
      expect.objectContaining({ name: 'orders.date_granularity', type: 'unquoted', suggestions: ['day', 'week', 'month'] }),
    ]);
    await client.close();
  });

  it('query: computed rows, filters (quotes stripped), sorts and limit; query_sql: the SQL; query_url: a share URL', async () => {
    const { caller, calls } = await setUp();
    const client = await connect(caller('read'));
    const rows = valueOf(
      await call(client, 'query', { model: 'demo', explore: 'orders', fields: ['orders.status', 'orders.count'], filters: { 'orders.status': '"complete,shipped"' }, sorts: ['orders.status'] }),
    );
    expect(rows).toEqual([
      { 'orders.status': 'complete', 'orders.count': 36 },
      { 'orders.status': 'shipped', 'orders.count': expect.any(Number) },
    ]);
    // The unquoted-parameter lookup, then the inline run: reads only.
    expect(calls.slice(-2)).toEqual(['GET /lookml_models/demo/explores/orders', 'POST /queries/run_inline']);
    expect(valueOf(await call(client, 'query', { model: 'demo', explore: 'orders', fields: ['orders.id'], limit: 3 }))).toHaveLength(3);

    const sql = await call(client, 'query_sql', { model: 'demo', explore: 'orders', fields: ['orders.status', 'orders.count'] });
    expect(textOf(sql)).toMatch(/^SELECT[\s\S]*`demo_ecommerce\.orders` AS orders/);
    expect(valueOf(sql)).toEqual({ sql: textOf(sql) });

    const url = valueOf(await call(client, 'query_url', { model: 'demo', explore: 'orders', fields: ['orders.count'], vis_config: { type: 'single_value' } })) as Json;
    expect(url).toEqual({ id: expect.any(String), slug: expect.any(String), url: expect.stringMatching(/^https:\/\/.+\/x\//), long_url: expect.stringMatching(/^https:\/\/.+\/explore\/demo\/orders\?/) });
    await client.close();
  });

  it('get_looks, run_look and get_dashboards', async () => {
    const { caller } = await setUp();
    const client = await connect(caller('read'));
    expect(valueOf(await call(client, 'get_looks'))).toEqual([
      { id: '1', title: 'Weekly revenue', description: 'Order revenue per week.', model_id: 'demo' },
      expect.objectContaining({ id: '2', title: 'Active users' }),
      expect.objectContaining({ id: '3', title: 'Orders by status' }),
    ]);
    expect(valueOf(await call(client, 'get_looks', { title: 'orders%' }))).toEqual([expect.objectContaining({ id: '3' })]);
    const rows = valueOf(await call(client, 'run_look', { look_id: '3', limit: 2 })) as Json[];
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ 'orders.status': 'complete', 'orders.count': 36 });
    expect(valueOf(await call(client, 'get_dashboards', { desc: '%brands%' }))).toEqual([{ id: '3', title: 'Product catalogue', description: 'Categories, brands and prices.' }]);
    await client.close();
  });

  it('make_look with a write grant: a look in the personal folder, found by get_looks after; a used title is refused', async () => {
    const { caller } = await setUp();
    const client = await connect(caller('write'));
    const args = { title: 'Customers by state', description: 'Mine', model: 'demo', explore: 'users', fields: ['users.state', 'users.count'] };
    const made = valueOf(await call(client, 'make_look', args)) as Json;
    expect(made).toEqual({ id: expect.any(String), short_url: expect.stringMatching(/^https:\/\/looker\.example\.com\/x\//) });
    expect(valueOf(await call(client, 'get_looks', { title: 'Customers by state' }))).toEqual([{ id: made.id, title: 'Customers by state', description: 'Mine', model_id: 'demo' }]);
    const again = await call(client, 'make_look', args);
    expect(again.isError).toBe(true);
    expect(textOf(again)).toMatch(/"Customers by state" is already used/);
    await client.close();
  });

  it('make_look with a read grant: 403 insufficient_scope naming both scopes and the resource metadata, in both eras; nothing reaches Looker', async () => {
    const { caller, calls } = await setUp();
    const call = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'make_look', arguments: { title: 'T', model: 'demo', explore: 'users', fields: ['users.count'] } } };
    const res = await post(caller('read'), call);
    expect(res.status).toBe(403);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain('scope="looker:read looker:write"');
    expect(challenge).toContain(`resource_metadata="${RESOURCE_METADATA}"`);
    expect(calls).toEqual([]);
    // The SDK's client, modern era: the same challenge stops the call (it has no OAuth provider to step up with).
    const client = await connect(caller('read'), true);
    await expect(client.callTool({ name: 'make_look', arguments: call.params.arguments })).rejects.toThrow(/insufficient_scope|403|scope/i);
    expect(calls).toEqual([]);
    await client.close();
  });
});

describe('MCP server: errors', () => {
  it("Looker's errors are tool errors with Looker's message; no stack trace", async () => {
    const { caller } = await setUp();
    const client = await connect(caller('read'));
    const unknownModel = await call(client, 'get_explores', { model: 'thelook' });
    expect(unknownModel.isError).toBe(true);
    expect(textOf(unknownModel)).toBe('Looker answered 404: Not found');
    const badField = await call(client, 'query', { model: 'demo', explore: 'orders', fields: ['orders.nope'] });
    expect(badField.isError).toBe(true);
    expect(textOf(badField)).toMatch(/^Looker answered 4\d\d: .*orders\.nope/);
    expect(textOf(badField)).not.toMatch(/\bat .*\.ts:\d+/);
    const unknownLook = await call(client, 'run_look', { look_id: '99' });
    expect(textOf(unknownLook)).toBe('Looker answered 404: Not found');
    await client.close();
  });

  it('bad arguments: a missing required argument is named; a name that is not a path segment is refused before Looker', async () => {
    const { caller, calls } = await setUp();
    const client = await connect(caller('read'));
    const missing = await call(client, 'get_dimensions', { model: 'demo' });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toMatch(/explore/);
    const wrongType = await call(client, 'query', { model: 'demo', explore: 'orders', fields: 'orders.count' });
    expect(wrongType.isError).toBe(true);
    expect(textOf(wrongType)).toMatch(/fields/);
    const before = calls.length;
    const traversal = await call(client, 'get_explores', { model: '../sql_queries' });
    expect(textOf(traversal)).toMatch(/^model must be a Looker name or id/);
    expect(calls.length).toBe(before);
    await client.close();
  });

  it('the read scope holds at the Looker-call level: a read grant cannot write through any tool', async () => {
    const { caller } = await setUp();
    const { scopedLooker } = await import('../src/mcp/looker.ts');
    const { looker } = caller('read');
    const read = scopedLooker(looker, 'read');
    await expect(read('POST', '/looks', {})).rejects.toThrow(/needs looker:write/);
    await expect(read('GET', '/sql_queries/1')).rejects.toThrow(/needs looker:write/);
    await expect(read('PATCH', '/looks/1', {})).rejects.toThrow(/needs looker:write/);
    expect((await read('POST', '/queries/run_inline', { query: { model: 'demo', view: 'orders', fields: ['orders.count'] }, render_options: { format: 'json' } })).status).toBe(200);
    expect((await scopedLooker(looker, 'write')('POST', '/queries?fields=id', { model: 'demo', view: 'orders', fields: ['orders.count'] })).status).toBe(200);
  });
});
