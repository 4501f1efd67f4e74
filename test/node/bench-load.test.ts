/**
 * The load generator's requests (a GET, or a POST with its body) against a local server,
 * and what counts as a success: a 200, unless the request says which 200s carry an error
 * (an MCP tool's failure comes back as a 200). And the MCP tool call the benchmark sends,
 * judged on answers as the gateway's MCP server writes them.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type LoadClient } from '../../bench/load.ts';
import { MCP_FAILURE, MCP_PROTOCOL_VERSION, mcpToolCall } from '../../bench/workers.ts';

/** An MCP answer as the SDK's stateless handler sends it: one SSE event. */
const sse = (message: unknown) => `event: message\ndata: ${JSON.stringify(message)}\n\n`;
const MODELS = [{ label: 'Demo e-commerce', name: 'demo', project_name: 'demo_ecommerce', connections: ['demo_warehouse'] }];
const SUCCESS = sse({ result: { content: [{ type: 'text', text: JSON.stringify(MODELS) }], structuredContent: { result: MODELS } }, jsonrpc: '2.0', id: 1 });
const TOOL_ERROR = sse({ result: { content: [{ type: 'text', text: 'Looker answered 404: Not found' }], isError: true }, jsonrpc: '2.0', id: 1 });
const RPC_ERROR = sse({ jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'Tool drop not found' } });

describe('MCP_FAILURE', () => {
  it('finds a tool error and a JSON-RPC error, in SSE or in plain JSON', () => {
    expect(MCP_FAILURE.test(TOOL_ERROR)).toBe(true);
    expect(MCP_FAILURE.test(RPC_ERROR)).toBe(true);
    expect(MCP_FAILURE.test('{"jsonrpc":"2.0","id":1,"error": {"code":-32601}}')).toBe(true);
    expect(MCP_FAILURE.test('{"result":{"content":[],"isError" : true}}')).toBe(true);
  });

  it("does not take a success for one, even when the tool's output mentions errors (its JSON is inside a string)", () => {
    expect(MCP_FAILURE.test(SUCCESS)).toBe(false);
    const mentions = sse({ result: { content: [{ type: 'text', text: JSON.stringify([{ name: 'error', isError: true, error: {} }]) }], isError: false }, jsonrpc: '2.0', id: 1 });
    expect(MCP_FAILURE.test(mentions)).toBe(false);
  });
});

describe('mcpToolCall', () => {
  it('is a stateless tools/call of get_models: the agent token, both media types accepted, the protocol version, no session', () => {
    const request = mcpToolCall('lgwat_x');
    expect(request).toMatchObject({ method: 'POST', path: '/mcp', failsIf: MCP_FAILURE });
    expect(request.headers).toEqual({
      authorization: 'Bearer lgwat_x',
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MCP_PROTOCOL_VERSION,
    });
    expect(JSON.parse(request.body ?? '')).toEqual({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_models', arguments: {} } });
  });
});

describe('createClient().send', () => {
  let server: Server;
  let origin: string;
  let client: LoadClient;
  const seen: Array<{ method: string | undefined; headers: IncomingHttpHeaders; body: string }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        seen.push({ method: req.method, headers: req.headers, body });
        const answers: Record<string, [number, string]> = { '/ok': [200, SUCCESS], '/tool-error': [200, TOOL_ERROR], '/refused': [401, '{}'] };
        const [status, text] = answers[req.url ?? ''] ?? [404, ''];
        res.writeHead(status, { 'content-type': 'text/event-stream' }).end(text);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = createClient();
  });

  afterAll(async () => {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends a GET by default, and a 200 is a success', async () => {
    expect(await client.send({ url: `${origin}/tool-error`, headers: { 'x-test': '1' } })).toEqual({ status: 200, ok: true });
    expect(seen.at(-1)).toMatchObject({ method: 'GET', body: '', headers: { 'x-test': '1' } });
  });

  it('sends a POST with its body and Content-Length', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_models', arguments: { é: 1 } } });
    await client.send({ url: `${origin}/ok`, method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(seen.at(-1)).toMatchObject({ method: 'POST', body, headers: { 'content-length': String(Buffer.byteLength(body)), 'content-type': 'application/json' } });
  });

  it('with failsIf: a 200 whose body matches is no success; one that does not is', async () => {
    const post = (path: string) => client.send({ url: `${origin}${path}`, method: 'POST', headers: {}, body: '{}', failsIf: MCP_FAILURE });
    expect(await post('/ok')).toEqual({ status: 200, ok: true });
    expect(await post('/tool-error')).toEqual({ status: 200, ok: false });
    expect(await post('/refused')).toEqual({ status: 401, ok: false });
  });
});
