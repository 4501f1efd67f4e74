/**
 * More attacks on the agents' OAuth server and /mcp (after test/oauth-attacks.test.ts): the
 * code-replay mark, refresh scopes, CORS, hostile MCP tool arguments, the "where is /mcp"
 * 404, and hostile client ids on "Your access". End to end in workerd with the simulator.
 */
import { describe, expect, it } from 'vitest';
import { createHarness, GATEWAY, type Harness, type HarnessOptions, ledgerWith } from './helpers.ts';
import { agentRequest, agentsListed, allowedCode, authorizedAgent, harness, harnessPausingOnce, mcp, redeem, registeredClient, REDIRECT, token, type Tokens, toConsent, answer } from './oauth-helpers.ts';

const MARK = 'agent-code-replayed:';
const broken = (): never => {
  throw new Error('storage down');
};

function refresh(h: Harness, refreshToken: string, clientId: string, extra: Record<string, string> = {}) {
  return token(h, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, ...extra });
}

async function errorOf(res: Response): Promise<string> {
  return ((await res.json()) as { error: string }).error;
}

describe('the code-replay mark', () => {
  it('three redemptions of one code, the replays landing before the grant exists: no tokens, nothing listed, and the marks break no later authorization', async () => {
    const { h, held } = harnessPausingOnce('createGrant');
    await h.signIn();
    const clientId = await registeredClient(h);
    const request = await agentRequest(clientId);
    const code = await allowedCode(h, request);
    const first = redeem(h, request, code);
    await held.reached;
    const [b, c] = await Promise.all([redeem(h, request, code), redeem(h, request, code)]);
    expect([b.status, c.status]).toEqual([400, 400]);
    held.open();
    expect((await first).status).toBe(400);
    expect(await agentsListed(h)).toBe(0);
    // The same client, the same person, a new code: a single use works.
    const again = await agentRequest(clientId);
    const ok = await redeem(h, again, await allowedCode(h, again));
    expect(ok.status).toBe(200);
    expect((await mcp(h, ((await ok.json()) as Tokens).access_token)).status).toBe(200);
    expect(await agentsListed(h)).toBe(1);
  });

  it('a replay after the first redemption answered: its tokens end, the mark it leaves does not touch the next authorization', async () => {
    const { h } = harness();
    await h.signIn();
    const clientId = await registeredClient(h);
    const request = await agentRequest(clientId);
    const code = await allowedCode(h, request);
    const first = await redeem(h, request, code);
    const tokens = (await first.json()) as Tokens;
    expect((await redeem(h, request, code)).status).toBe(400);
    expect((await mcp(h, tokens.access_token)).status).toBe(401);
    expect((await refresh(h, tokens.refresh_token, clientId)).status).toBe(400);
    const next = await agentRequest(clientId);
    const res = await redeem(h, next, await allowedCode(h, next));
    expect(res.status).toBe(200);
    const fresh = (await res.json()) as Tokens;
    expect((await mcp(h, fresh.access_token)).status).toBe(200);
    expect((await refresh(h, fresh.refresh_token, clientId)).status).toBe(200);
  });

  it("a replay of one agent's code ends that agent only: another agent of the same person and client keeps working", async () => {
    const { h } = harness();
    await h.signIn();
    const clientId = await registeredClient(h);
    const one = await agentRequest(clientId);
    const oneCode = await allowedCode(h, one);
    const oneTokens = (await (await redeem(h, one, oneCode)).json()) as Tokens;
    const two = await agentRequest(clientId);
    const twoTokens = (await (await redeem(h, two, await allowedCode(h, two))).json()) as Tokens;
    expect(await agentsListed(h)).toBe(2);
    for (let i = 0; i < 3; i++) expect((await redeem(h, one, oneCode)).status).toBe(400);
    expect((await mcp(h, oneTokens.access_token)).status).toBe(401);
    expect((await mcp(h, twoTokens.access_token)).status).toBe(200);
    expect((await refresh(h, twoTokens.refresh_token, clientId)).status).toBe(200);
    expect(await agentsListed(h)).toBe(1);
  });

  it("a spent code seen long after (browser history, a log) cannot end the agent's grant; soon after its use it still does", async () => {
    // The code travels in the redirect URL, so it outlives its use in places others may read.
    // A second use that can matter (a thief racing the client) comes within the code's minute;
    // long after, ending the grant would only let whoever saw the URL revoke the agent.
    const { h } = harness();
    const request = await agentRequest(await registeredClient(h));
    const code = await allowedCode(h, request);
    const tokens = (await (await redeem(h, request, code)).json()) as Tokens;
    h.clock.advance(24 * 3600);
    const refreshed = await refresh(h, tokens.refresh_token, request.clientId);
    expect(refreshed.status).toBe(200);
    const next = (await refreshed.json()) as Tokens;
    const late = await redeem(h, request, code, { client_id: 'lgwi_someone', code_verifier: 'x' });
    expect(await errorOf(late)).toBe('invalid_grant');
    expect((await mcp(h, next.access_token)).status).toBe(200);
    expect(h.logs.some((line) => line.includes('"agent_code_replayed"'))).toBe(false);

    const soon = await agentRequest(request.clientId);
    const soonCode = await allowedCode(h, soon);
    const soonTokens = (await (await redeem(h, soon, soonCode)).json()) as Tokens;
    h.clock.advance(5 * 60);
    expect((await redeem(h, soon, soonCode)).status).toBe(400);
    expect((await mcp(h, soonTokens.access_token)).status).toBe(401);
  });

  // A storage fault at each step of a redemption: a clear 503, the code spent, nothing alive, no tokens.
  // `down()` says whether storage is failing now (only during the redemption under test).
  const faults: [string, (down: () => boolean) => Parameters<typeof ledgerWith>[1]][] = [
    ['taking the code', (down) => ({ takeBox: (original, key, now) => (down() && key.startsWith('agent-code:') ? broken() : original(key, now)) })],
    ['creating the grant', (down) => ({ createGrant: (original, entry) => (down() && entry.kind === 'agent' ? broken() : original(entry)) })],
    ['issuing the first tokens', (down) => ({ issuePair: (original, pair, now) => (down() ? broken() : original(pair, now)) })],
    ['looking for the replay mark', (down) => ({ takeBox: (original, key, now) => (down() && key.startsWith(MARK) ? broken() : original(key, now)) })],
  ];
  for (const [step, overrides] of faults) {
    it(`a storage fault ${step}: 503, nothing alive`, async () => {
      let failing = false;
      const options: HarnessOptions = { wrapLedger: (ledger) => ledgerWith(ledger, overrides(() => failing)) };
      const { h } = harness(options);
      await h.signIn();
      const request = await agentRequest(await registeredClient(h));
      const code = await allowedCode(h, request);
      failing = true;
      const res = await redeem(h, request, code);
      failing = false;
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: 'temporarily_unavailable' });
      expect(res.headers.get('retry-after')).not.toBeNull();
      expect(await agentsListed(h)).toBe(0);
      // Taking the code failed before it was taken: it may still be redeemed; otherwise it is spent.
      const retry = await redeem(h, request, code);
      expect(retry.status).toBe(step === 'taking the code' ? 200 : 400);
    });
  }
});

describe('refresh with a scope', () => {
  /** A refresh with the form written by hand (to send `+`, `%20` and repeated fields as they are). */
  const rawRefresh = (h: Harness, body: string) =>
    h.request('/oauth/token', { method: 'POST', withCookies: false, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });

  it('odd spellings of more than was granted, or of no scope here, are invalid_scope; the token stays unspent and then works exactly once', async () => {
    const { h } = harness();
    const { request, tokens } = await authorizedAgent(h);
    const base = `grant_type=refresh_token&client_id=${encodeURIComponent(request.clientId)}&refresh_token=${encodeURIComponent(tokens.refresh_token)}`;
    const refused = [
      'scope=looker:write',
      'scope=+looker:write+',
      'scope=looker:read+looker:write',
      'scope=looker:read%20%20looker:write',
      'scope=looker%3Awrite',
      'scope=looker:write+looker:write',
      'scope=looker:read%09looker:write', // a tab is not OAuth's separator
      'scope=LOOKER:WRITE',
      'scope=Looker:Read',
      'scope=looker:wr%C4%B1te', // dotless i
      'scope=%C2%A0looker:read', // no-break space
      'scope=looker:read,looker:write',
      'scope=looker:read%00',
      'scope=*',
      `scope=${'looker:read+'.repeat(50)}looker:write`,
      'scope=looker:write&scope=looker:read',
    ];
    for (const scope of refused) {
      const res = await rawRefresh(h, `${base}&${scope}`);
      expect(res.status, scope.slice(0, 60)).toBe(400);
      expect(await errorOf(res), scope.slice(0, 60)).toBe('invalid_scope');
    }
    // A form too large to read is refused before anything else.
    const huge = await rawRefresh(h, `${base}&scope=${'looker:read+'.repeat(2000)}looker:write`);
    expect(await errorOf(huge)).toBe('invalid_request');
    // Read only, however spelled (an empty scope asks for nothing more).
    const same = await rawRefresh(h, `${base}&scope=+looker:read++looker:read+`);
    expect(same.status).toBe(200);
    const next = (await same.json()) as Tokens;
    expect(next.scope).toBe('looker:read');
    // The original token was spent by that one refresh: presented again, the whole grant ends.
    const replay = await rawRefresh(h, base);
    expect(await errorOf(replay)).toBe('invalid_grant');
    expect((await mcp(h, next.access_token)).status).toBe(401);
  });

  it('an empty scope, or one of spaces, is a refresh as granted', async () => {
    const { h } = harness();
    const { request, tokens } = await authorizedAgent(h, { write: true });
    const base = `grant_type=refresh_token&client_id=${encodeURIComponent(request.clientId)}`;
    let current = tokens.refresh_token;
    for (const scope of ['scope=', 'scope=+++', 'scope=looker:write', 'scope=looker:read']) {
      const res = await rawRefresh(h, `${base}&refresh_token=${encodeURIComponent(current)}&${scope}`);
      expect(res.status, scope).toBe(200);
      const next = (await res.json()) as Tokens;
      expect(next.scope, scope).toBe('looker:read looker:write');
      current = next.refresh_token;
    }
  });
});

describe('CORS', () => {
  const EVIL = 'https://evil.example';

  function expectNoCors(res: Response, what: string) {
    for (const name of ['access-control-allow-origin', 'access-control-allow-credentials', 'access-control-allow-methods', 'access-control-allow-headers', 'access-control-expose-headers']) {
      expect(res.headers.get(name), `${what}: ${name}`).toBeNull();
    }
  }

  it('nothing that reads a cookie answers another origin: pages, sign-in, consent pages, /api/*; nor their preflights; nor near spellings of the open paths', async () => {
    const { h } = harness();
    await h.signIn();
    // A consent page waiting for this browser (its cookie in the jar).
    const consentPath = await toConsent(h, await agentRequest(await registeredClient(h)));
    const authorize = (await agentRequest(await registeredClient(h))).path;
    const cookieBearing: [string, string][] = [
      ['GET', '/'],
      ['GET', '/access'],
      ['GET', '/access/sign-out-everywhere'],
      ['POST', '/access/revoke'],
      ['POST', '/access/credentials'],
      ['GET', '/login'],
      ['GET', '/callback?code=x&state=y'],
      ['POST', '/logout'],
      ['GET', authorize],
      ['GET', consentPath],
      ['GET', '/cli/credential'],
      ['GET', '/cli/consent/x'],
      ['GET', '/device'],
      ['GET', '/api/4.0/user'],
      ['POST', '/api/4.0/looks'],
      ['GET', '/mcp/'],
      ['POST', '/MCP'],
      ['POST', '/oauth/token/'],
      ['GET', '/.well-known/oauth-protected-resource/mcp/'],
    ];
    for (const [method, path] of cookieBearing) {
      const preflight = await h.request(path, { method: 'OPTIONS', headers: { origin: EVIL, 'access-control-request-method': method, 'access-control-request-headers': 'content-type' } });
      expectNoCors(preflight, `OPTIONS ${path}`);
      const headers: Record<string, string> = { origin: EVIL, accept: 'application/json' };
      if (method === 'POST') headers['content-type'] = 'application/x-www-form-urlencoded';
      const res = await h.request(path, { method, headers, ...(method === 'POST' ? { body: 'x=1' } : {}) });
      expectNoCors(res, `${method} ${path}`);
    }
    // The consent answer (POST) last: it uses up the consent.
    expectNoCors(await answer(h, consentPath, 'allow'), `POST ${consentPath}`);
  });

  it('the open endpoints: any origin, never credentials, no cookie set; a preflight for any method or headers grants only GET, POST, DELETE', async () => {
    const { h, seen } = harness();
    await h.signIn();
    for (const path of ['/mcp', '/oauth/token', '/oauth/register', '/oauth/revoke', '/.well-known/oauth-authorization-server', '/.well-known/oauth-protected-resource/mcp']) {
      const preflight = await h.request(path, {
        method: 'OPTIONS',
        headers: { origin: 'null', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-anything, authorization, mcp-session-id' },
      });
      expect(preflight.headers.get('access-control-allow-origin'), path).toBe('*');
      expect(preflight.headers.get('access-control-allow-credentials'), path).toBeNull();
      expect(preflight.headers.get('access-control-allow-methods'), path).toBe('GET,POST,DELETE');
      expect(preflight.headers.getSetCookie(), path).toEqual([]);
      const res = await h.request(path, { method: path.startsWith('/.well') ? 'GET' : 'POST', headers: { origin: EVIL, 'content-type': 'application/x-www-form-urlencoded' }, body: path.startsWith('/.well') ? undefined : 'token=x' });
      expect(res.headers.get('access-control-allow-origin'), path).toBe('*');
      expect(res.headers.get('access-control-allow-credentials'), path).toBeNull();
      expect(res.headers.getSetCookie(), path).toEqual([]);
    }
    expect(seen).toEqual([]);
  });

  it('a cross-origin request to /mcp carrying the browser\'s session cookie gets nothing from it: 401, the MCP server never asked', async () => {
    const { h, seen } = harness();
    await h.signIn();
    const session = [...h.jar].find(([name]) => name.includes('session'));
    expect(session).toBeDefined();
    const body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_models","arguments":{}}}';
    for (const authorization of [undefined, `Bearer ${session![1]}`, 'Bearer ', 'Basic eDp5']) {
      const headers: Record<string, string> = { origin: EVIL, 'content-type': 'text/plain' };
      if (authorization !== undefined) headers.authorization = authorization;
      const res = await h.request('/mcp', { method: 'POST', headers, body });
      expect(res.status, String(authorization)).toBe(401);
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    }
    expect(seen).toEqual([]);
  });
});

describe("hostile tool arguments through /mcp", () => {
  type Json = Record<string, unknown>;

  /** A tools/call as an agent sends it (2025 era, stateless); the JSON-RPC answer. */
  async function callTool(h: Harness, accessToken: string, name: string, args: Json): Promise<{ status: number; body: Json }> {
    const res = await h.request('/mcp', {
      method: 'POST',
      withCookies: false,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
    });
    const text = await res.text();
    const data = (res.headers.get('content-type') ?? '').includes('text/event-stream') ? text.split('\n').find((l) => l.startsWith('data: '))!.slice(6) : text;
    return { status: res.status, body: JSON.parse(data) as Json };
  }

  const HOSTILE = [
    '../login',
    '..',
    '.',
    '%2e%2e',
    '%2e%2e%2flogin',
    '..%2flogin',
    'x?y=z',
    'x#y',
    'a/b',
    'a\\b',
    'a;b',
    'a b',
    '/',
    '',
    'ℓogin',
    'ｌｏｇｉｎ/../x',
    'x\u0000',
    'x\r\nX-Injected: 1',
    `${'../'.repeat(20_000)}login`,
    `${'a'.repeat(50_000)}/login`,
    '../../../../api/login',
    'https://evil.example/',
  ];

  it('ids and names that are not one path segment never reach Looker; Looker sees only /api/4.0 paths the tool built', async () => {
    const h = createHarness();
    const { tokens } = await authorizedAgent(h, { write: true });
    const calls: [string, (v: string) => Json][] = [
      ['get_explores', (v) => ({ model: v })],
      ['get_dimensions', (v) => ({ model: v, explore: 'orders' })],
      ['get_measures', (v) => ({ model: 'demo', explore: v })],
      ['run_look', (v) => ({ look_id: v })],
      ['query', (v) => ({ model: v, explore: 'orders', fields: ['orders.count'], filters: { 'orders.status': 'x' } })],
      ['query', (v) => ({ model: 'demo', explore: v, fields: ['orders.count'], filters: { 'orders.status': 'x' } })],
      ['make_look', (v) => ({ model: 'demo', explore: 'orders', fields: ['orders.count'], title: `t-${crypto.randomUUID()}`, folder: v })],
    ];
    const before = h.upstream.length;
    // Every tool's ids and names go through one check: every hostile value on one argument,
    // and a few on each of the others (a full matrix is a hundred tool calls saying the same).
    const FEW = ['../login', '%2e%2e%2flogin', 'x?y=z', 'x#y', 'a/b'];
    for (const [index, [name, args]] of calls.entries()) {
      for (const value of index === 0 ? HOSTILE : FEW) {
        // The empty folder means "my personal folder": a legitimate call.
        if (name === 'make_look' && value === '') continue;
        const { status, body } = await callTool(h, tokens.access_token, name, args(value));
        const what = `${name} ${JSON.stringify(value).slice(0, 40)}`;
        expect(status, what).toBe(200);
        const result = body.result as { isError?: boolean; content: { text: string }[] };
        expect(result.isError, what).toBe(true);
        expect(result.content[0]!.text, what).toMatch(/must be a Looker name or id/);
      }
    }
    // Whatever did reach Looker (make_look reads the person's folder first): only /api/4.0 paths, none of the sign-in endpoints.
    for (const request of h.upstream.slice(before)) {
      const url = new URL(request.url);
      expect(url.pathname).toMatch(/^\/api\/4\.0\/(user|lookml_models\/demo\/explores\/orders)$/);
      expect(request.url).not.toContain('#');
    }
  });

  it('search words with query and fragment characters stay in their own query parameter', async () => {
    const h = createHarness();
    const { tokens } = await authorizedAgent(h);
    const before = h.upstream.length;
    for (const title of ['x&limit=1', 'x#y', 'x?fields=id', '%2e%2e/login', 'a b+c', '\u0000\r\n']) {
      for (const name of ['get_looks', 'get_dashboards']) {
        const { status } = await callTool(h, tokens.access_token, name, { title, desc: title });
        expect(status).toBe(200);
      }
    }
    const seen = h.upstream.slice(before).map((r) => new URL(r.url));
    expect(seen.length).toBe(12);
    for (const url of seen) {
      expect(url.pathname).toMatch(/^\/api\/4\.0\/(looks|dashboards)\/search$/);
      expect(url.hash).toBe('');
      expect([...url.searchParams.keys()].sort()).toEqual(['description', 'limit', 'offset', 'title']);
    }
  });
});

describe('the "where is /mcp" 404', () => {
  it('reflects only the method and the path as the URL parser wrote it, in JSON (nosniff), naming the configured origin whatever the Host', async () => {
    const { h } = harness();
    const cases: [string, string][] = [
      ['POST', '/mcp/<script>alert(1)</script>'],
      ['GET', '/mcp/"onmouseover="x'],
      ['POST', '/mcp/%0d%0aSet-Cookie:%20x=1'],
      ['DELETE', '/mcp/\u202egnp.exe'],
      ['PATCH', `/mcp/${'x'.repeat(8000)}`],
    ];
    for (const [method, path] of cases) {
      const res = await h.request(path, { method, withCookies: false, headers: { accept: 'text/html' }, ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}' }) });
      expect(res.status, path.slice(0, 40)).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.getSetCookie()).toEqual([]);
      const text = await res.text();
      const { message } = JSON.parse(text) as { message: string };
      expect(message).not.toMatch(/[<>"\r\n\u202e]/);
      expect(message).toBe(`Nothing at ${method} ${new URL(path, GATEWAY).pathname}. The MCP server is at ${GATEWAY}/mcp: give your AI client that address.`);
    }
    // Another Host: the configured origin is named, not the one the request claims.
    const elsewhere = await h.app.fetch(new Request('https://evil.example/mcp/sse', { method: 'POST', body: '{}' }), h.bindings);
    expect(((await elsewhere.json()) as { message: string }).message).toContain(`${GATEWAY}/mcp:`);
  });
});

describe('"Your access" and a hostile client id', () => {
  it("a metadata document's client_id with quotes, markup-like characters and 1,500 characters: escaped, and shown short (the whole in the title)", async () => {
    // The URL parser's normal form encodes < > " and spaces in a path, but leaves ' ( ) ! * & = and others as they are.
    const doc = `https://agent.example/o'x()!*&a=b/${'p'.repeat(1500)}.json`;
    expect(new URL(doc).href).toBe(doc);
    const { h } = harness({
      elsewhere: () => new Response(JSON.stringify({ client_id: doc, client_name: 'Doc Agent', redirect_uris: [REDIRECT] }), { headers: { 'content-type': 'application/json' } }),
    });
    await h.signIn();
    const request = await agentRequest(doc);
    const res = await redeem(h, request, await allowedCode(h, request));
    expect(res.status).toBe(200);
    const page = await (await h.request('/access')).text();
    const escaped = doc.replaceAll('&', '&amp;').replaceAll("'", '&#39;');
    const found = /<div class="muted client-id" title="([^"]*)">([^<]*)<\/div>/.exec(page);
    expect(found).not.toBeNull();
    expect(found![1]).toBe(escaped);
    expect(page).not.toContain("o'x");
    // Shown: the beginning of the URL (its host included), cut.
    const shown = found![2]!.replaceAll('&amp;', '&').replaceAll('&#39;', "'");
    expect(shown.length).toBeLessThanOrEqual(64);
    expect(shown.startsWith('https://agent.example/')).toBe(true);
    expect(shown.endsWith('…')).toBe(true);
  });

  it('a short metadata document URL and a registered client id are shown as before', async () => {
    const doc = 'https://agent.example/c.json';
    const { h } = harness({
      elsewhere: () => new Response(JSON.stringify({ client_id: doc, client_name: 'Doc Agent', redirect_uris: [REDIRECT] }), { headers: { 'content-type': 'application/json' } }),
    });
    await h.signIn();
    const request = await agentRequest(doc);
    expect((await redeem(h, request, await allowedCode(h, request))).status).toBe(200);
    await authorizedAgent(h);
    // Both made at the same instant (the test's clock stands still): in either order.
    const shown = [...(await (await h.request('/access')).text()).matchAll(/class="muted client-id" title="[^"]*">([^<]*)</g)].map((m) => m[1]!).sort();
    expect(shown).toHaveLength(2);
    expect(shown[0]).toBe(doc);
    expect(shown[1]).toMatch(/^lgwi_[\w-]{11}…$/);
  });
});

describe('the code-replay mark under storage faults', () => {
  it('a replay whose mark cannot be stored still ends the grant the first redemption made', async () => {
    let failing = false;
    const { h } = harness({
      wrapLedger: (ledger) => ledgerWith(ledger, { putBox: (original, key, box, expiresAt) => (failing && key.startsWith(MARK) ? broken() : original(key, box, expiresAt)) }),
    });
    const request = await agentRequest(await registeredClient(h));
    const code = await allowedCode(h, request);
    const first = await redeem(h, request, code);
    expect(first.status).toBe(200);
    const tokens = (await first.json()) as Tokens;
    failing = true;
    const replay = await redeem(h, request, code);
    failing = false;
    expect(replay.status).toBe(400);
    expect(await errorOf(replay)).toBe('invalid_grant');
    expect((await mcp(h, tokens.access_token)).status).toBe(401);
    expect((await refresh(h, tokens.refresh_token, request.clientId)).status).toBe(400);
  });
});
