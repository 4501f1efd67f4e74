/**
 * The gateway as an OAuth authorization server for AI agents, end to end in the Workers
 * runtime with the Looker simulator: discovery, registration, client metadata documents,
 * the authorization request, the agent's Looker sign-in and consent page, the token
 * endpoint (codes, refresh rotation and replay), revocation, /mcp's authentication, and the
 * agent's place on "Your access".
 */
import { describe, expect, it } from 'vitest';
import { bearerRequest, cliLogin, createHarness, GATEWAY, pkcePair, sdkLogin } from './helpers.ts';
import {
  REDIRECT,
  RESOURCE,
  CHALLENGE_HEADER,
  harness,
  register,
  registeredClient,
  agentRequest,
  toConsent,
  answer,
  token,
  type Tokens,
  allowedCode,
  redeem,
  authorizedAgent,
  mcp,
} from './oauth-helpers.ts';

describe('discovery', () => {
  it('serves the authorization server metadata and the protected resource metadata (at /mcp and at the root), readable from any origin', async () => {
    const { h } = harness();
    const as = await h.request('/.well-known/oauth-authorization-server', { withCookies: false });
    expect(as.status).toBe(200);
    expect(as.headers.get('access-control-allow-origin')).toBe('*');
    expect(await as.json()).toEqual({
      issuer: GATEWAY,
      authorization_endpoint: `${GATEWAY}/oauth/authorize`,
      token_endpoint: `${GATEWAY}/oauth/token`,
      registration_endpoint: `${GATEWAY}/oauth/register`,
      revocation_endpoint: `${GATEWAY}/oauth/revoke`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
      revocation_endpoint_auth_methods_supported: ['none'],
      scopes_supported: ['looker:read', 'looker:write'],
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: true,
    });
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const pr = await h.request(path, { withCookies: false });
      expect(await pr.json()).toMatchObject({ resource: RESOURCE, authorization_servers: [GATEWAY], scopes_supported: ['looker:read', 'looker:write'], bearer_methods_supported: ['header'] });
    }
    const preflight = await h.request('/oauth/token', { method: 'OPTIONS', withCookies: false, headers: { origin: 'https://inspector.example', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('/mcp without a token: 401 with the challenge that leads to the metadata', async () => {
    const { h, seen } = harness();
    const res = await mcp(h);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(CHALLENGE_HEADER);
    // A person who opens the address in a browser gets a page saying what it is for, with the same challenge.
    const page = await h.request('/mcp', { withCookies: false, headers: { accept: 'text/html,*/*;q=0.8' } });
    expect(page.status).toBe(401);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('www-authenticate')).toBe(CHALLENGE_HEADER);
    expect(await page.text()).toContain('This address is for your AI client');
    // A client's GET (an SSE stream it asks for) gets the JSON challenge.
    const stream = await h.request('/mcp', { withCookies: false, headers: { accept: 'text/event-stream' } });
    expect(stream.status).toBe(401);
    expect(stream.headers.get('content-type')).toMatch(/^application\/json/);
    expect(seen).toEqual([]);
  });

  it("the agent's Looker calls are judged as /api/* judges a person's: an ambiguous path or Looker's sign-in endpoints are refused before Looker is asked", async () => {
    const statuses: Record<string, number> = {};
    const refused = ['/../login', '/login', '/token', '/Logout', '/%2e%2e/token', '//user', '/user\\x', '/user%2f42', '/user;x', '/user%252e', '/user?fields=id#x'];
    const h = createHarness({
      mcp: async (_request, caller) => {
        for (const path of [...refused, '/user?fields=id']) statuses[path] = (await caller.looker('GET', path)).status;
        return Response.json({});
      },
    });
    const { tokens } = await authorizedAgent(h);
    const before = h.upstream.length;
    expect((await mcp(h, tokens.access_token)).status).toBe(200);
    expect(statuses).toEqual({ ...Object.fromEntries(refused.map((path) => [path, 400])), '/user?fields=id': 200 });
    // Only the one good call reached Looker.
    expect(h.upstream.slice(before).map((r) => new URL(r.url).pathname)).toEqual(['/api/4.0/user']);
  });

  it('an MCP client given the wrong address (the root, /mcp/, an SSE-era path) is told where the MCP server is', async () => {
    const { h } = harness();
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    for (const [method, path] of [['POST', '/'], ['POST', '/mcp/'], ['GET', '/sse'], ['POST', '/messages'], ['GET', '/mcp/sse']] as const) {
      const res = await h.request(path, { method, withCookies: false, headers, ...(method === 'POST' ? { body: '{}' } : {}) });
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { message: string }).message, path).toBe(`Nothing at ${method} ${path}. The MCP server is at ${GATEWAY}/mcp: give your AI client that address.`);
    }
    // Elsewhere, the plain answer.
    const other = await h.request('/nothing-here', { withCookies: false, headers });
    expect(await other.json()).toEqual({ message: 'Nothing at GET /nothing-here' });
  });

  it('/mcp is reachable from a browser-based client: the preflight passes before any token is asked for, and the 401 challenge is readable', async () => {
    const { h, seen } = harness();
    const origin = 'https://inspector.example';
    const preflight = await h.request('/mcp', {
      method: 'OPTIONS',
      withCookies: false,
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, mcp-protocol-version, mcp-method' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization,content-type,mcp-protocol-version,mcp-method');
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
    const refused = await h.request('/mcp', { method: 'POST', withCookies: false, headers: { origin, 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
    expect(refused.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('www-authenticate');
    // With a token, from that origin too.
    const { tokens } = await authorizedAgent(h);
    const answered = await h.request('/mcp', { method: 'POST', withCookies: false, headers: { origin, 'content-type': 'application/json', authorization: `Bearer ${tokens.access_token}` }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    expect(answered.status).toBe(200);
    expect(answered.headers.get('access-control-allow-origin')).toBe('*');
    expect(seen).toHaveLength(1);
  });

  it("with the gateway's own MCP server: an agent's token reaches the Looker tools as its person, and a read-only grant is challenged for more at make_look", async () => {
    const h = createHarness();
    const { tokens } = await authorizedAgent(h);
    const call = (id: number, name: string, args: Record<string, unknown>) =>
      h.request('/mcp', {
        method: 'POST',
        withCookies: false,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-06-18',
          authorization: `Bearer ${tokens.access_token}`,
        },
        body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }),
      });
    const models = await call(1, 'get_models', {});
    expect(models.status).toBe(200);
    const text = await models.text();
    expect(text).toContain('"demo"');
    expect(text).not.toMatch(/"isError":\s*true/);
    const write = await call(2, 'make_look', { model: 'demo', explore: 'orders', fields: ['orders.count'], title: 'Agent look' });
    expect(write.status).toBe(403);
    expect(write.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_scope".*scope="looker:read looker:write".*resource_metadata="https:\/\/[^"]+\/\.well-known\/oauth-protected-resource\/mcp"/);
  });
});

describe('dynamic client registration', () => {
  it('registers a public client: 201, a client_id, when, and what was kept (a name cleaned of controls)', async () => {
    const { h } = harness();
    const res = await register(h, { client_name: 'Claude\u202e\u0007 Desktop', redirect_uris: [REDIRECT, 'http://127.0.0.1:33418/cb', 'http://localhost/cb'], token_endpoint_auth_method: 'client_secret_post' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.client_id).toMatch(/^lgwi_/);
    expect(body.client_id_issued_at).toBe(Math.floor(h.clock.ms / 1000));
    expect(body).toMatchObject({ client_name: 'Claude Desktop', token_endpoint_auth_method: 'none', redirect_uris: [REDIRECT, 'http://127.0.0.1:33418/cb', 'http://localhost/cb'] });
    // KV holds a hash-keyed, sealed record: neither the client_id nor the name in the clear.
    const stored = [...(await (h.kv as unknown as { dump(): Promise<Map<string, string>> }).dump())];
    expect(stored).toHaveLength(1);
    expect(stored[0]![0]).toMatch(/^agent-client:[0-9a-f]{64}$/);
    expect(stored[0]![1]).not.toContain('Claude');
  });

  const refused: [string, unknown, number?][] = [
    ['http on another host', { redirect_uris: ['http://agent.example/cb'] }],
    ['a fragment', { redirect_uris: ['https://agent.example/cb#x'] }],
    ['a custom scheme', { redirect_uris: ['javascript:alert(1)'] }],
    ['userinfo', { redirect_uris: ['https://user@agent.example/cb'] }],
    ['no redirect URI', { redirect_uris: [] }],
    ['eleven redirect URIs', { redirect_uris: Array.from({ length: 11 }, (_, i) => `https://agent.example/cb${i}`) }],
    ['an implicit grant type', { redirect_uris: [REDIRECT], grant_types: ['implicit'] }],
    ['a body over 8 KiB', { redirect_uris: [REDIRECT], client_name: 'x'.repeat(9000) }, 413],
    ['not an object', ['https://agent.example/cb']],
  ];
  for (const [what, body, status] of refused) {
    it(`refuses ${what}, storing nothing`, async () => {
      const { h } = harness();
      const res = await register(h, body);
      expect(res.status).toBe(status ?? 400);
      expect(((await res.json()) as { error: string }).error).toMatch(/^invalid_(redirect_uri|client_metadata)$/);
      expect((await (h.kv as unknown as { dump(): Promise<Map<string, string>> }).dump()).size).toBe(0);
    });
  }
});

describe('the authorization request', () => {
  it('before the redirect_uri is known good, every error is a page, never a redirect', async () => {
    const { h } = harness();
    const clientId = await registeredClient(h, [REDIRECT, 'http://127.0.0.1:4000/cb']);
    const bad: Record<string, string | undefined>[] = [
      { client_id: undefined },
      { client_id: 'lgwi_madeup' },
      { redirect_uri: 'https://agent.example/callback/more' },
      { redirect_uri: 'https://agent.example/callbackx' },
      { redirect_uri: 'https://agent.example:8443/callback' },
      { redirect_uri: 'https://agent.example/callback#f' },
      { redirect_uri: 'https://evil.example/callback' },
      { redirect_uri: 'http://127.0.0.1:4000/other' },
    ];
    for (const overrides of bad) {
      const res = await h.request((await agentRequest(clientId, overrides)).path);
      expect(res.status, JSON.stringify(overrides)).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(res.headers.getSetCookie()).toEqual([]);
    }
    // A loopback redirect URI may come back on another port (RFC 8252).
    expect((await h.request((await agentRequest(clientId, { redirect_uri: 'http://127.0.0.1:5555/cb' })).path)).status).toBe(302);
  });

  it('after it, errors go back to the application with state and iss: PKCE plain or missing, bad scope, another resource, response_type', async () => {
    const { h } = harness();
    const clientId = await registeredClient(h);
    const cases: [Record<string, string | undefined>, string][] = [
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
      [{ code_challenge_method: undefined }, 'invalid_request'],
      [{ code_challenge: undefined }, 'invalid_request'],
      [{ scope: 'admin' }, 'invalid_scope'],
      [{ resource: `${GATEWAY}/api` }, 'invalid_target'],
      [{ resource: 'https://other.example/mcp' }, 'invalid_target'],
      [{ response_type: 'token' }, 'unsupported_response_type'],
    ];
    for (const [overrides, error] of cases) {
      const request = await agentRequest(clientId, overrides);
      const res = await h.request(request.path);
      expect(res.status, JSON.stringify(overrides)).toBe(302);
      const back = new URL(res.headers.get('location')!);
      expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
      expect(back.searchParams.get('error')).toBe(error);
      expect(back.searchParams.get('state')).toBe(request.state);
      expect(back.searchParams.get('iss')).toBe(GATEWAY);
    }
  });

  it('the consent page says what the person must judge; read-only unless they tick write; Deny answers access_denied', async () => {
    const { h } = harness();
    const request = await agentRequest(await registeredClient(h, [REDIRECT], 'Claude'));
    const consentPath = await toConsent(h, request);
    const page = await h.request(consentPath);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain('form-action \'self\' https://agent.example');
    const html = await page.text();
    expect(html).toContain('calls itself <strong id="client-name">Claude</strong>');
    expect(html).toContain('nobody checked it');
    expect(html).toContain('<dd id="redirect-host">agent.example</dd>');
    expect(html).toContain('registered itself');
    expect(html).toContain('read and change your Looker data');
    expect(html).toMatch(/<input type="checkbox" name="write" value="on" id="write"\/?>/);
    expect(html).not.toMatch(/<input[^>]*\schecked/);
    const denied = await answer(h, consentPath, 'deny');
    const back = new URL(denied.headers.get('location')!);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('iss')).toBe(GATEWAY);
    expect(back.searchParams.get('state')).toBe(request.state);
    expect(h.sim.hasAccessToken(h.tokenResponses.at(-1)!.access_token as string)).toBe(false);
    // The script consent page does not answer an agent's consent.
    expect((await h.request(consentPath.replace('/oauth/', '/cli/'))).status).toBe(410);
  });
});

describe('tokens', () => {
  it('code → tokens (read-only by default) → /mcp with the Looker API as the agent; write refused for a read-only grant', async () => {
    const { h, seen } = harness();
    const { tokens } = await authorizedAgent(h);
    expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'looker:read' });
    expect(tokens.access_token).toMatch(/^lgwat_/);
    expect(tokens.refresh_token).toMatch(/^lgwar_/);
    const res = await mcp(h, tokens.access_token);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { scope: string; userStatus: number; writeStatus: number };
    expect(body).toMatchObject({ scope: 'read', userStatus: 200, writeStatus: 403 });
    expect(seen[0]!.resourceMetadataUrl).toBe(`${GATEWAY}/.well-known/oauth-protected-resource/mcp`);
    // The Looker token never reached the MCP server: only the gateway's own.
    expect(JSON.stringify(seen)).not.toContain(h.tokenResponses.at(-1)!.access_token as string);
  });

  it('ticking write grants looker:write', async () => {
    const { h } = harness();
    const { tokens } = await authorizedAgent(h, { write: true });
    expect(tokens.scope).toBe('looker:read looker:write');
    const body = (await (await mcp(h, tokens.access_token)).json()) as { scope: string };
    expect(body.scope).toBe('write');
  });

  it('refresh rotates; a spent refresh token presented again ends the whole grant and its Looker token is revoked', async () => {
    const { h } = harness();
    const { request, tokens } = await authorizedAgent(h);
    const lookerToken = h.tokenResponses.at(-1)!.access_token as string;
    const first = await token(h, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: request.clientId });
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const next = (await first.json()) as Tokens;
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
    expect((await mcp(h, next.access_token)).status).toBe(200);
    // Another client's id: refused, and the token is not spent.
    expect((await token(h, { grant_type: 'refresh_token', refresh_token: next.refresh_token, client_id: 'lgwi_other' })).status).toBe(400);
    const replay = await token(h, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: request.clientId });
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { error: string }).error).toBe('invalid_grant');
    expect(h.logs.some((l) => l.includes('"agent_refresh_replayed"'))).toBe(true);
    expect(h.sim.hasAccessToken(lookerToken)).toBe(false);
    expect((await token(h, { grant_type: 'refresh_token', refresh_token: next.refresh_token, client_id: request.clientId })).status).toBe(400);
    h.clock.advance(6);
    expect((await mcp(h, next.access_token)).status).toBe(401);
  });

  it('a code is single use: presented again, it ends the grant it issued', async () => {
    const { h } = harness();
    const request = await agentRequest(await registeredClient(h));
    const code = await allowedCode(h, request);
    const first = await redeem(h, request, code);
    const tokens = (await first.json()) as Tokens;
    expect((await mcp(h, tokens.access_token)).status).toBe(200);
    const again = await redeem(h, request, code);
    expect(again.status).toBe(400);
    expect(((await again.json()) as { error: string }).error).toBe('invalid_grant');
    expect(h.logs.some((l) => l.includes('"agent_code_replayed"'))).toBe(true);
    expect((await mcp(h, tokens.access_token)).status).toBe(401);
    expect((await token(h, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: request.clientId })).status).toBe(400);
  });

  it('a code needs the right verifier, client, redirect_uri and resource; a refused redemption spends it and ends its Looker token', async () => {
    const { h } = harness();
    const clientId = await registeredClient(h);
    const other = await pkcePair();
    const wrong: Record<string, string>[] = [
      { code_verifier: other.verifier },
      { code_verifier: '' },
      { client_id: 'lgwi_someone' },
      { redirect_uri: 'https://agent.example/other' },
      { resource: `${GATEWAY}/api` },
    ];
    for (const overrides of wrong) {
      const request = await agentRequest(clientId);
      const code = await allowedCode(h, request);
      const lookerToken = h.tokenResponses.at(-1)!.access_token as string;
      const res = await redeem(h, request, code, overrides);
      expect(res.status, JSON.stringify(overrides)).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_grant');
      expect(h.sim.hasAccessToken(lookerToken)).toBe(false);
      expect((await redeem(h, request, code)).status).toBe(400);
    }
  });

  it('revocation (RFC 7009): a refresh or access token ends the grant; unknown tokens get 200 too', async () => {
    const { h } = harness();
    for (const which of ['refresh_token', 'access_token'] as const) {
      const { request, tokens } = await authorizedAgent(h);
      const res = await h.request('/oauth/revoke', {
        method: 'POST',
        withCookies: false,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: tokens[which], client_id: request.clientId }).toString(),
      });
      expect(res.status).toBe(200);
      expect((await mcp(h, tokens.access_token)).status).toBe(401);
      expect((await token(h, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: request.clientId })).status).toBe(400);
    }
    const unknown = await h.request('/oauth/revoke', { method: 'POST', withCookies: false, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=nothing' });
    expect(unknown.status).toBe(200);
  });
});

describe('audiences', () => {
  it("an agent's access token is refused at /api/*; a script's gateway token is refused at /mcp", async () => {
    const { h, seen } = harness();
    const { tokens } = await authorizedAgent(h);
    expect((await bearerRequest(h, tokens.access_token, '/api/4.0/user')).status).toBe(401);
    const { credential } = await cliLogin(h);
    const scriptToken = await sdkLogin(h, credential.client_id, credential.client_secret);
    const res = await mcp(h, scriptToken);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(seen).toEqual([]);
    // Nor does a refresh token work as an access token.
    expect((await mcp(h, tokens.refresh_token)).status).toBe(401);
  });
});

describe('Your access', () => {
  it('lists an agent under its own heading and revokes it', async () => {
    const { h } = harness();
    await h.signIn();
    const { tokens } = await authorizedAgent(h, { write: true });
    const page = await (await h.request('/access')).text();
    expect(page).toContain('<h2>AI agents</h2>');
    const row = page.slice(page.indexOf('<table id="agents">'));
    expect(row).toMatch(/<td>Claude<div class="muted client-id" title="lgw[\w-]+">lgw[\w-]{13}…<\/div><\/td><td>agent.example<\/td><td>read and change your Looker data<\/td>/);

    const grantId = /<table id="agents">[\s\S]*?name="grant" value="([^"]+)"/.exec(page)![1]!;
    const revoked = await h.request('/access/revoke', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: GATEWAY }, body: `grant=${grantId}` });
    expect(revoked.status).toBe(303);
    expect((await mcp(h, tokens.access_token)).status).toBe(401);
    expect(await (await h.request('/access')).text()).toContain('id="no-agents"');
    // Two agents of the same name (a client that registered itself twice) are told apart by their client ids.
    await authorizedAgent(h);
    await authorizedAgent(h);
    const ids = [...(await (await h.request('/access')).text()).matchAll(/class="muted client-id" title="([^"]+)">([^<]+)</g)];
    expect(ids).toHaveLength(2);
    expect(ids[0]![2]).not.toBe(ids[1]![2]);
  });

  it('sign out everywhere ends agents too', async () => {
    const { h } = harness();
    await h.signIn();
    const { request, tokens } = await authorizedAgent(h);
    expect(await (await h.request('/access/sign-out-everywhere')).text()).toContain('<strong id="agents-to-end">1</strong>');
    const res = await h.request('/access/sign-out-everywhere', { method: 'POST', headers: { origin: GATEWAY } });
    expect(res.status).toBe(303);
    expect((await mcp(h, tokens.access_token)).status).toBe(401);
    expect((await token(h, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: request.clientId })).status).toBe(400);
  });
});

describe('client metadata documents', () => {
  const DOC = 'https://agent.example/oauth/client.json';
  const document = (overrides: Record<string, unknown> = {}) => JSON.stringify({ client_id: DOC, client_name: 'Doc Agent', redirect_uris: [REDIRECT], ...overrides });

  it('a client_id that is a document URL: fetched (no redirects followed), its redirect_uris and name used; cached briefly', async () => {
    const fetched: Request[] = [];
    const { h } = harness({
      elsewhere: (request) => {
        fetched.push(request);
        return new Response(document(), { headers: { 'content-type': 'application/json' } });
      },
    });
    const request = await agentRequest(DOC);
    const consentPath = await toConsent(h, request);
    const html = await (await h.request(consentPath)).text();
    expect(html).toContain('Doc Agent');
    expect(html).toContain('a document at agent.example');
    expect(fetched[0]!.redirect).toBe('manual');
    const res = await redeem(h, request, await (async () => {
      const allowed = await answer(h, consentPath, 'allow');
      return new URL(allowed.headers.get('location')!).searchParams.get('code')!;
    })());
    expect(res.status).toBe(200);
    expect((await h.request((await agentRequest(DOC)).path)).status).toBe(302);
    expect(fetched).toHaveLength(1);
  });

  const refusals: [string, string, ((r: Request) => Response | Promise<Response>)?][] = [
    ['a private address', 'https://10.0.0.7/client.json'],
    ['a loopback address', 'https://127.0.0.1/client.json'],
    ['an IPv6 loopback', 'https://[::1]/client.json'],
    ['a link-local address (metadata services)', 'https://169.254.169.254/latest/client.json'],
    ['an IPv4-mapped private address', 'https://[::ffff:192.168.1.1]/client.json'],
    ['localhost', 'https://localhost/client.json'],
    ['plain http', 'http://agent.example/client.json'],
    ['no path', 'https://agent.example/'],
    ['a document naming another client_id', DOC, () => new Response(document({ client_id: 'https://other.example/c.json' }))],
    ['a document over 5 KiB', DOC, () => new Response(document({ padding: 'x'.repeat(6000) }))],
    ['a document over 5 KiB without a length', DOC, () => new Response(new Blob([document({ padding: 'x'.repeat(6000) })]).stream())],
    ['a redirect', DOC, () => new Response(null, { status: 302, headers: { location: 'https://agent.example/elsewhere.json' } })],
    ['a document that is not JSON', DOC, () => new Response('<html>')],
    ['a bad redirect URI in the document', DOC, () => new Response(document({ redirect_uris: ['http://agent.example/cb'] }))],
    ['no answer in time', DOC, (r) => new Promise<Response>((_, reject) => r.signal.addEventListener('abort', () => reject(new Error('aborted'))))],
  ];
  for (const [what, clientId, serve] of refusals) {
    it(`refuses ${what}: a page, no redirect`, async () => {
      const fetched: string[] = [];
      const { h } = harness({
        clientDocumentTimeoutMs: 50,
        elsewhere: (request) => {
          fetched.push(request.url);
          return serve?.(request) ?? new Response(document());
        },
      });
      const res = await h.request((await agentRequest(clientId)).path);
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('metadata document was refused');
      if (serve === undefined) expect(fetched).toEqual([]);
    });
  }
});
