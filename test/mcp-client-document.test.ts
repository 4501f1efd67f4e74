/**
 * A client described by a Client ID Metadata Document, as the MCP TypeScript SDK's own
 * client does it (`clientMetadataUrl`: its client_id is the document's https URL; it never
 * registers): in workerd, against the gateway app with the real MCP server and the Looker
 * simulator's demo model. The document is served by the test, through the gateway's
 * outbound fetch (a public https host cannot be served on this machine; the end-to-end
 * test proves that a document on this machine is refused unfetched). The person's part —
 * Looker's consent, then the gateway's — is played over HTTP.
 */
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { createHarness, GATEWAY } from './helpers.ts';
import { AgentProvider } from './mcp-agent.ts';
import { answer, REDIRECT, toConsent } from './oauth-helpers.ts';

const DOC = 'https://agent.example/oauth/client.json';
const CLIENT_NAME = 'Doc Agent';

describe('an MCP client described by a Client ID Metadata Document (the SDK client)', () => {
  it('is sent to the person with the name and redirect of its document, redeems the code, lists the tools, reads and queries', async () => {
    const documentFetches: Request[] = [];
    const h = createHarness({
      elsewhere: (request) => {
        documentFetches.push(request);
        if (request.url !== DOC) return new Response('not found', { status: 404 });
        return Response.json({
          client_id: DOC,
          client_name: CLIENT_NAME,
          redirect_uris: [REDIRECT],
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
        });
      },
    });
    /** What the agent sends, where, and the answer's status (no bodies: they hold tokens). */
    const sent: string[] = [];
    const agentFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      expect(url.origin).toBe(GATEWAY);
      const res = await h.request(url.pathname + url.search, {
        method: request.method,
        headers: request.headers,
        ...(request.body === null ? {} : { body: await request.text() }),
        withCookies: false,
      });
      sent.push(`${request.method} ${url.pathname} ${res.status}`);
      return res;
    };
    const provider = new AgentProvider({ clientName: CLIENT_NAME, redirectUrl: REDIRECT, clientMetadataUrl: DOC });
    const transport = () => new StreamableHTTPClientTransport(new URL(`${GATEWAY}/mcp`), { authProvider: provider, fetch: agentFetch });

    // Refused, the SDK discovers the gateway as its authorization server and, seeing that it
    // takes metadata documents, uses the document's URL as its client_id: no registration.
    const first = transport();
    await expect(new Client({ name: 'doc-agent', version: '1.0.0' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(sent).toContain('GET /.well-known/oauth-authorization-server 200');
    expect(sent.some((line) => line.startsWith('POST /oauth/register'))).toBe(false);
    const [at] = provider.authorizationUrls;
    expect(at?.searchParams.get('client_id')).toBe(DOC);
    expect(at?.searchParams.get('code_challenge_method')).toBe('S256');
    expect(at?.searchParams.get('resource')).toBe(`${GATEWAY}/mcp`);

    // The person: Looker's consent, then the gateway's page, which names the client as its document does.
    const consentPath = await toConsent(h, { path: at!.pathname + at!.search });
    const page = await (await h.request(consentPath)).text();
    expect(page).toContain(CLIENT_NAME);
    expect(page).toContain('a document at agent.example');
    expect(page).toContain('read your Looker data');
    const allowed = await answer(h, consentPath, 'allow');
    expect(allowed.status).toBe(303);
    const back = new URL(allowed.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
    expect(back.searchParams.get('state')).toBe(provider.lastState);
    expect(back.searchParams.get('iss')).toBe(GATEWAY);
    await first.finishAuth(back.searchParams);
    expect(provider.stored?.scope).toBe('looker:read');

    // Connected with its tokens: the tools, models and a query over the demo model.
    const client = new Client({ name: 'doc-agent', version: '1.0.0' });
    await client.connect(transport());
    const tools = (await client.listTools()).tools.map((tool) => tool.name);
    expect(tools).toContain('query');
    const models = await client.callTool({ name: 'get_models', arguments: {} });
    expect(models.isError).toBeFalsy();
    expect(JSON.stringify(models.structuredContent)).toContain('"name":"demo"');
    const rows = await client.callTool({ name: 'query', arguments: { model: 'demo', explore: 'orders', fields: ['orders.status', 'orders.count'], sorts: ['orders.status'] } });
    expect(rows.isError).toBeFalsy();
    expect(JSON.stringify(rows.structuredContent)).toContain('orders.count');
    await client.close();

    // The document was fetched from its URL only, without following redirects.
    expect(documentFetches.map((r) => r.url)).toContain(DOC);
    expect(documentFetches.every((r) => r.url === DOC && r.redirect === 'manual')).toBe(true);
  });
});
