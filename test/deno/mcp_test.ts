/**
 * The MCP server runs in Deno as in workerd (the SDK resolves its Node shims there):
 * initialize, tools/list, a tool call against the simulator, and a read grant's scope
 * challenge on make_look. The protocol and the tools are covered in test/mcp.test.ts.
 */
import { handleMcp, type McpCaller } from '../../src/mcp/handler.ts';
import { createLookerSimulator } from '../../sim/simulator.ts';
import { equal } from '../contract/contract.ts';

const API = 'https://looker.test/api/4.0';

async function caller(scope: McpCaller['scope']): Promise<McpCaller> {
  const sim = createLookerSimulator({ users: [{ id: '42', display_name: 'Dana Demo', email: 'dana.demo@example.com' }], apiKeys: [{ clientId: 'k', clientSecret: 's', admin: false, userId: '42' }] });
  const login = await sim.fetch(`${API}/login`, { method: 'POST', body: new URLSearchParams({ client_id: 'k', client_secret: 's' }) });
  const { access_token } = (await login.json()) as { access_token: string };
  return {
    scope,
    resourceMetadataUrl: 'https://gw.test/.well-known/oauth-protected-resource/mcp',
    looker: (method, path, body) =>
      sim.fetch(`${API}${path}`, { method, headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }),
  };
}

async function rpc(who: McpCaller, message: Record<string, unknown>): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await handleMcp(
    new Request('https://gw.test/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, ...message }),
    }),
    who,
  );
  const text = await res.text();
  const data = text.split('\n').find((line) => line.startsWith('data: '))?.slice(6) ?? text;
  return { status: res.status, headers: res.headers, body: JSON.parse(data) as Record<string, unknown> };
}

Deno.test('MCP in Deno: initialize, tools/list, get_models; make_look with a read grant is a scope challenge', async () => {
  const read = await caller('read');
  const init = await rpc(read, { method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'deno-test', version: '1' } } });
  equal((init.body.result as { serverInfo: { name: string } }).serverInfo.name, 'looker-oauth-gateway', 'initialize');
  const list = await rpc(read, { method: 'tools/list' });
  equal((list.body.result as { tools: unknown[] }).tools.length, 13, 'tools/list');
  const models = await rpc(read, { method: 'tools/call', params: { name: 'get_models', arguments: {} } });
  equal((models.body.result as { structuredContent: { result: { name: string }[] } }).structuredContent.result.map((m) => m.name), ['demo'], 'get_models');
  const refused = await rpc(read, { method: 'tools/call', params: { name: 'make_look', arguments: { title: 'T', model: 'demo', explore: 'users', fields: ['users.count'] } } });
  equal(refused.status, 403, 'make_look, read grant');
  equal(/error="insufficient_scope"/.test(refused.headers.get('www-authenticate') ?? ''), true, 'the challenge');
});
