/**
 * Attacks on the gateway's OAuth 2.1 authorization server for AI agents (src/site/oauth.tsx,
 * src/oauth/, callers/agent-*.ts, /mcp), end to end in the Workers runtime with the Looker
 * simulator. Each test is an attack: either it is refused, or the test pins behaviour that
 * is arguably fine, with a comment saying why.
 */
import { describe, expect, it } from 'vitest';
import { dumpKv, GATEWAY, type Harness, setCookies } from './helpers.ts';
import {
  agentRequest,
  agentsListed,
  allowedCode,
  answer,
  authorizedAgent,
  harness,
  harnessPausingOnce,
  mcp,
  redeem,
  register,
  registeredClient,
  REDIRECT,
  RESOURCE,
  toConsent,
  token,
  type Tokens,
} from './oauth-helpers.ts';

/** The authorization request's answer is an error page: no redirect, no cookie. */
async function expectErrorPage(h: Harness, path: string, what: string) {
  const res = await h.request(path);
  expect(res.status, what).toBe(400);
  expect(res.headers.get('location'), what).toBeNull();
  expect(res.headers.getSetCookie(), what).toEqual([]);
  return res;
}

function refresh(h: Harness, refreshToken: string, clientId: string, extra: Record<string, string> = {}) {
  return token(h, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, ...extra });
}

async function errorOf(res: Response): Promise<string> {
  return ((await res.json()) as { error: string }).error;
}

describe('redirect URI tricks', () => {
  const badRegistrations: [string, string][] = [
    ['non-loopback http', 'http://evil.example/cb'],
    ['http on a name that merely starts with a loopback address', 'http://127.0.0.1.evil.example/cb'],
    ['http on localhost with a trailing dot (not the loopback name as written)', 'http://localhost./cb'],
    ['userinfo that hides the real host', 'https://agent.example@evil.example/'],
    ['userinfo with a password', 'https://agent.example:x@evil.example/'],
    ['a fragment', 'https://agent.example/cb#'],
    ['a data: URL', 'data:text/html,hi'],
    ['a relative URL', '/callback'],
  ];
  for (const [what, uri] of badRegistrations) {
    it(`registration refuses ${what}`, async () => {
      const { h } = harness();
      const res = await register(h, { client_name: 'x', redirect_uris: [uri] });
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toBe('invalid_redirect_uri');
    });
  }

  it('authorize: only the registered URI, character for character; every near miss is a page, never a redirect', async () => {
    const { h } = harness();
    const clientId = await registeredClient(h, [REDIRECT, 'http://127.0.0.1:4000/cb', 'http://[::1]/v6']);
    const nearMisses = [
      'https://agent.example/callbac', // prefix
      'https://agent.example/callback/', // suffix
      'https://agent.example/callback?x=1',
      'http://agent.example/callback', // scheme
      'https://agent.example:443/callback', // the same place, written otherwise
      'https://agent.example:444/callback', // port
      'https://AGENT.example/callback', // host case
      'https://agent.example./callback', // trailing dot
      'https://agent.example@evil.example/callback', // userinfo
      'https://evil.example@agent.example/callback',
      'https://agent.example/%63allback', // encoded characters
      'https://agent.example/callback/../callback',
      'https://agent.example/callback#frag',
      'https://agent.example.evil.example/callback',
      'http://127.0.0.1:4000/cb/', // loopback: the path stays exact
      'http://127.0.0.1:4000/CB',
      'http://localhost:4000/cb', // loopback: the host stays exact
      'http://[::1]:4000/cb',
      'http://127.1:4000/cb', // another spelling of 127.0.0.1
      'http://[0:0:0:0:0:0:0:1]:5000/v6', // another spelling of [::1]
      'http://[::ffff:127.0.0.1]:5000/v6',
      'https://[::1]/v6', // scheme
    ];
    for (const redirectUri of nearMisses) {
      await expectErrorPage(h, (await agentRequest(clientId, { redirect_uri: redirectUri })).path, redirectUri);
    }
    // RFC 8252 §7.3: an http loopback one may come back on any port, and only that.
    expect((await h.request((await agentRequest(clientId, { redirect_uri: 'http://[::1]:5000/v6' })).path)).status).toBe(302);
  });

  it('authorize without a redirect_uri is a page, with several registered and with one', async () => {
    // OAuth 2.1 lets a client with a single registered URI omit it; refusing always is stricter,
    // and MCP clients always send it (the MCP authorization spec requires it).
    const { h } = harness();
    const several = await registeredClient(h, [REDIRECT, 'https://agent.example/other']);
    const one = await registeredClient(h, [REDIRECT]);
    for (const clientId of [several, one]) await expectErrorPage(h, (await agentRequest(clientId, { redirect_uri: undefined })).path, clientId);
  });

  it('the code goes back to the redirect_uri as registered: a query of its own is kept, a `code` or `iss` of its own is overwritten', async () => {
    const { h } = harness();
    const redirectUri = 'https://agent.example/callback?code=fake&iss=https%3A%2F%2Fevil.example&keep=1';
    const request = await agentRequest(await registeredClient(h, [redirectUri]), { redirect_uri: redirectUri });
    const allowed = await answer(h, await toConsent(h, request), 'allow');
    const back = new URL(allowed.headers.get('location')!);
    expect(back.searchParams.getAll('code')).toHaveLength(1);
    expect(back.searchParams.get('code')).toMatch(/^lgwac_/);
    expect(back.searchParams.getAll('iss')).toEqual([GATEWAY]);
    expect(back.searchParams.get('keep')).toBe('1');
  });
});

describe('PKCE and codes', () => {
  it('refuses a code_challenge that is not 43 base64url characters, at the authorization request', async () => {
    const { h } = harness();
    const clientId = await registeredClient(h);
    for (const challenge of ['a'.repeat(42), 'a'.repeat(44), `${'a'.repeat(42)}=`, `${'a'.repeat(42)}+`]) {
      const res = await h.request((await agentRequest(clientId, { code_challenge: challenge })).path);
      expect(res.status).toBe(302);
      expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
    }
  });

  it('a verifier too short, of other characters, or missing is refused even when its S256 hash is the challenge; the code is spent', async () => {
    const sha = async (v: string) => {
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(v)));
      return btoa(String.fromCharCode(...digest)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    };
    for (const verifier of ['short', `${'a'.repeat(42)}!`, 'a'.repeat(129), undefined]) {
      const { h } = harness();
      const clientId = await registeredClient(h);
      const real = await agentRequest(clientId, verifier === undefined ? {} : { code_challenge: await sha(verifier) });
      const request = { ...real, verifier: verifier ?? '' };
      const code = await allowedCode(h, request);
      const fields: Record<string, string> = verifier === undefined ? {} : { code_verifier: verifier };
      const res = verifier === undefined ? await token(h, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: clientId }) : await redeem(h, request, code, fields);
      expect(res.status, String(verifier)).toBe(400);
      expect(await errorOf(res)).toBe('invalid_grant');
      // Spent: the right verifier cannot use it afterwards.
      expect((await redeem(h, real, code)).status).toBe(400);
    }
  });

  it('a code replayed after its redemption ends the grant: access and refresh tokens stop working', async () => {
    const { h } = harness();
    const request = await agentRequest(await registeredClient(h));
    const code = await allowedCode(h, request);
    const first = await redeem(h, request, code);
    expect(first.status).toBe(200);
    const tokens = (await first.json()) as Tokens;
    expect((await mcp(h, tokens.access_token)).status).toBe(200);
    const again = await redeem(h, request, code);
    expect(again.status).toBe(400);
    expect(await errorOf(again)).toBe('invalid_grant');
    expect((await mcp(h, tokens.access_token)).status).toBe(401);
    expect((await refresh(h, tokens.refresh_token, request.clientId)).status).toBe(400);
  });

  it.each([
    ['before the first has created its grant', 'createGrant'],
    ['after its grant exists, before its first tokens are stored', 'issuePair'],
  ] as const)('a code redeemed twice at once, the second arriving %s: both refused (used twice, not a 503 to retry), no tokens survive', async (_when, step) => {
    // The first redemption pauses at that step until the second has had its answer.
    const { h, held } = harnessPausingOnce(step);
    await h.signIn();
    const request = await agentRequest(await registeredClient(h));
    const code = await allowedCode(h, request);
    const first = redeem(h, request, code);
    await held.reached;
    const second = await redeem(h, request, code);
    expect(second.status).toBe(400);
    expect(await errorOf(second)).toBe('invalid_grant');
    held.open();
    const answer = await first;
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({ error: 'invalid_grant', error_description: expect.stringContaining('used twice') });
    expect(h.logs.some((line) => line.includes('"agent_code_replayed"'))).toBe(true);
    // Nothing is left alive for the agent: no grant on the person's list, and the code stays spent.
    expect(await agentsListed(h)).toBe(0);
    expect((await redeem(h, request, code)).status).toBe(400);
  });

  it('a code redeemed by another client_id, or with another redirect_uri or resource, is refused and spent', async () => {
    const { h } = harness();
    const other = await registeredClient(h, [REDIRECT], 'Other');
    const cases: Record<string, string>[] = [{ client_id: other }, { redirect_uri: 'https://agent.example/other' }, { resource: `${GATEWAY}/api` }, { resource: 'https://other.example/mcp' }];
    for (const overrides of cases) {
      const request = await agentRequest(await registeredClient(h));
      const code = await allowedCode(h, request);
      const res = await redeem(h, request, code, overrides);
      expect(res.status, JSON.stringify(overrides)).toBe(400);
      expect(await errorOf(res)).toBe('invalid_grant');
      expect((await redeem(h, request, code)).status, 'spent').toBe(400);
    }
  });

  it('a made-up or tampered code costs nothing and is refused', async () => {
    const { h } = harness();
    const request = await agentRequest(await registeredClient(h));
    const code = await allowedCode(h, request);
    const tampered = `${code.slice(0, -2)}${code.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(await errorOf(await redeem(h, request, tampered))).toBe('invalid_grant');
    // The real code is still good: a tampered one is refused before anything is read or spent.
    expect((await redeem(h, request, code)).status).toBe(200);
  });
});

describe('refresh tokens', () => {
  it('a refresh may not widen the grant: write asked on a read-only grant is invalid_scope, the token unspent; less than granted gets the grant as it is', async () => {
    const { h } = harness();
    const read = await authorizedAgent(h);
    for (const scope of ['looker:read looker:write', 'looker:write']) {
      const wider = await refresh(h, read.tokens.refresh_token, read.request.clientId, { scope });
      expect(wider.status, scope).toBe(400);
      expect(await wider.json()).toMatchObject({ error: 'invalid_scope', error_description: expect.stringContaining('authorize again') });
    }
    const unknown = await refresh(h, read.tokens.refresh_token, read.request.clientId, { scope: 'looker:read openid' });
    expect(await unknown.json()).toMatchObject({ error: 'invalid_scope' });
    // Not spent by the refusals: the same token still refreshes, as read.
    const same = await refresh(h, read.tokens.refresh_token, read.request.clientId, { scope: 'looker:read' });
    expect(same.status).toBe(200);
    expect(((await same.json()) as Tokens).scope).toBe('looker:read');

    const write = await authorizedAgent(h, { write: true });
    const narrower = await refresh(h, write.tokens.refresh_token, write.request.clientId, { scope: 'looker:read' });
    expect(narrower.status).toBe(200);
    expect(((await narrower.json()) as Tokens).scope).toBe('looker:read looker:write');
  });

  it('replay of a spent refresh token ends the grant: the rotated pair stops working too', async () => {
    const { h } = harness();
    const { request, tokens } = await authorizedAgent(h);
    const rotated = await refresh(h, tokens.refresh_token, request.clientId);
    expect(rotated.status).toBe(200);
    const next = (await rotated.json()) as Tokens;
    expect((await mcp(h, next.access_token)).status).toBe(200);
    const replay = await refresh(h, tokens.refresh_token, request.clientId);
    expect(replay.status).toBe(400);
    expect(await errorOf(replay)).toBe('invalid_grant');
    expect((await mcp(h, next.access_token)).status).toBe(401);
    expect((await refresh(h, next.refresh_token, request.clientId)).status).toBe(400);
  });

  it('refresh with another client_id (or none) is refused without spending the token', async () => {
    const { h } = harness();
    const { request, tokens } = await authorizedAgent(h);
    const other = await registeredClient(h, [REDIRECT], 'Other');
    for (const clientId of [other, '', 'https://agent.example/client.json']) {
      const res = await refresh(h, tokens.refresh_token, clientId);
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toBe('invalid_grant');
    }
    expect((await token(h, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token })).status).toBe(400);
    expect((await refresh(h, tokens.refresh_token, request.clientId)).status).toBe(200);
  });

  it('refresh after revocation is refused', async () => {
    const { h } = harness();
    const { request, tokens } = await authorizedAgent(h);
    const revoked = await h.request('/oauth/revoke', { method: 'POST', withCookies: false, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${tokens.access_token}` });
    expect(revoked.status).toBe(200);
    expect((await refresh(h, tokens.refresh_token, request.clientId)).status).toBe(400);
    expect((await mcp(h, tokens.access_token)).status).toBe(401);
  });

  it('refresh asking for another resource is refused (RFC 8707 invalid_target) without spending the token', async () => {
    const { h } = harness();
    const { request, tokens } = await authorizedAgent(h);
    for (const resource of [`${GATEWAY}/api`, 'https://other.example/mcp']) {
      const res = await refresh(h, tokens.refresh_token, request.clientId, { resource });
      expect(res.status, resource).toBe(400);
      expect(await errorOf(res)).toBe('invalid_target');
    }
    expect((await refresh(h, tokens.refresh_token, request.clientId, { resource: RESOURCE })).status).toBe(200);
  });

  it('two refreshes of one token at once: exactly one gets new tokens; the other finds it spent, and the grant ends', async () => {
    // The ledger decides in one atomic step, so exactly one rotation wins. The loser presented
    // a spent token: the gateway cannot tell a client racing itself from a thief racing the
    // client, and OAuth 2.1 §4.3.1 / the Security BCP §4.14.2 name exactly this signal as the
    // breach to act on (revoke the active refresh token). So the whole grant ends, the
    // winner's new pair with it, and the client must authorize again. A client must not
    // refresh one token twice at once.
    const { h } = harness();
    const { request, tokens } = await authorizedAgent(h);
    const [a, b] = await Promise.all([refresh(h, tokens.refresh_token, request.clientId), refresh(h, tokens.refresh_token, request.clientId)]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 400]);
    const winner = (await (a.status === 200 ? a : b).json()) as Tokens;
    expect(await errorOf(a.status === 200 ? b : a)).toBe('invalid_grant');
    expect((await mcp(h, winner.access_token)).status).toBe(401);
    expect((await refresh(h, winner.refresh_token, request.clientId)).status).toBe(400);
  });
});

describe('client metadata documents', () => {
  const document = (url: string, overrides: Record<string, unknown> = {}) => JSON.stringify({ client_id: url, client_name: 'Doc Agent', redirect_uris: [REDIRECT], ...overrides });

  const neverFetched: [string, string][] = [
    ['decimal IPv4 (2130706433 is 127.0.0.1)', 'https://2130706433/c.json'],
    ['hex IPv4', 'https://0x7f000001/c.json'],
    ['octal IPv4', 'https://0177.0.0.1/c.json'],
    ['short IPv4', 'https://127.1/c.json'],
    ['10/8', 'https://10.1.2.3/c.json'],
    ['172.16/12', 'https://172.31.255.255/c.json'],
    ['192.168/16', 'https://192.168.0.1/c.json'],
    ['CGNAT', 'https://100.64.0.1/c.json'],
    ['0.0.0.0', 'https://0.0.0.0/c.json'],
    ['broadcast', 'https://255.255.255.255/c.json'],
    ['cloud metadata', 'https://169.254.169.254/latest/c.json'],
    ['[::1]', 'https://[::1]/c.json'],
    ['[::]', 'https://[::]/c.json'],
    ['unique local fc00::/7', 'https://[fc00::1]/c.json'],
    ['unique local fd..', 'https://[fd12:3456::1]/c.json'],
    ['link-local fe80::/10', 'https://[fe80::1]/c.json'],
    ['site-local fec0::/10 (deprecated, still routed on old networks)', 'https://[fec0::1]/c.json'],
    ['multicast ff02::1', 'https://[ff02::1]/c.json'],
    ['IPv4-mapped loopback', 'https://[::ffff:7f00:1]/c.json'],
    ['IPv4-mapped metadata service', 'https://[::ffff:a9fe:a9fe]/c.json'],
    ['IPv4-compatible', 'https://[::a00:1]/c.json'],
    ['NAT64 of 10.0.0.1', 'https://[64:ff9b::a00:1]/c.json'],
    ['6to4 of 127.0.0.1', 'https://[2002:7f00:1::]/c.json'],
    ['6to4 of 169.254.169.254', 'https://[2002:a9fe:a9fe::1]/c.json'],
    ['localhost', 'https://localhost/c.json'],
    ['localhost.', 'https://localhost./c.json'],
    ['a host under .localhost', 'https://agent.localhost/c.json'],
    ['userinfo', 'https://agent.example@evil.example/c.json'],
    ['http', 'http://agent.example/c.json'],
    ['a fragment', 'https://agent.example/c.json#x'],
    ['no path', 'https://agent.example'],
  ];
  for (const [what, clientId] of neverFetched) {
    it(`refuses ${what} without fetching it`, async () => {
      const fetched: string[] = [];
      const { h } = harness({ elsewhere: (r) => (fetched.push(r.url), new Response(document(clientId))) });
      const res = await expectErrorPage(h, (await agentRequest(clientId)).path, clientId);
      expect(await res.text()).toContain('metadata document was refused');
      expect(fetched).toEqual([]);
    });
  }

  it('a public 6to4 or global IPv6 address is fetched (only embedded non-public IPv4 is refused)', async () => {
    for (const clientId of ['https://[2002:808:808::1]/c.json', 'https://[2001:db8::1]/c.json']) {
      const fetched: string[] = [];
      const { h } = harness({ elsewhere: (r) => (fetched.push(r.url), new Response(document(clientId))) });
      expect((await h.request((await agentRequest(clientId)).path)).status, clientId).toBe(302);
      expect(fetched).toEqual([clientId]);
    }
  });

  it('refuses a document whose body never ends (the deadline covers the body too)', async () => {
    const url = 'https://agent.example/slow.json';
    const { h } = harness({
      clientDocumentTimeoutMs: 50,
      elsewhere: (r) => {
        // A real fetch's body errors when its signal aborts; this one does the same.
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"client_id":'));
            r.signal.addEventListener('abort', () => controller.error(new Error('aborted')));
          },
        });
        return new Response(body, { headers: { 'content-type': 'application/json' } });
      },
    });
    const res = await expectErrorPage(h, (await agentRequest(url)).path, url);
    expect(await res.text()).toContain('did not arrive in time');
  });

  it('a document claiming another client\'s name: shown as its claim, with the document\'s host and the redirect host', async () => {
    const url = 'https://evil.example/claude.json';
    const { h } = harness({ elsewhere: () => new Response(document(url, { client_name: 'Claude', redirect_uris: ['https://evil.example/cb'] })) });
    const request = await agentRequest(url, { redirect_uri: 'https://evil.example/cb' });
    const html = await (await h.request(await toConsent(h, request))).text();
    expect(html).toContain('calls itself <strong id="client-name">Claude</strong>');
    expect(html).toContain('nobody checked it');
    expect(html).toContain('<dd id="redirect-host">evil.example</dd>');
    expect(html).toContain('a document at evil.example');
  });

  it('a document with a client_id that differs only in case or a trailing slash is refused', async () => {
    const url = 'https://agent.example/c.json';
    for (const claimed of ['https://AGENT.example/c.json', 'https://agent.example/c.json/', 'https://agent.example/C.json']) {
      const { h } = harness({ elsewhere: () => new Response(document(claimed)) });
      const res = await expectErrorPage(h, (await agentRequest(url)).path, claimed);
      expect(await res.text()).toContain('names another client_id');
    }
  });
});

describe('names', () => {
  it('a registered client impersonating another: the consent page shows the name as its claim, beside the real redirect host', async () => {
    const { h } = harness();
    const clientId = await registeredClient(h, ['https://evil.example/cb'], 'Claude (by Anthropic) — sends you back to claude.ai');
    const html = await (await h.request(await toConsent(h, await agentRequest(clientId, { redirect_uri: 'https://evil.example/cb' })))).text();
    expect(html).toContain('An application that calls itself <strong id="client-name">Claude (by Anthropic) — sends you back to claude.ai</strong>');
    expect(html).toContain('nobody checked it');
    expect(html).toContain('<dd id="redirect-host">evil.example</dd>');
    expect(html).toContain('a client that registered itself');
  });

  it('controls, bidirectional overrides, zero-width characters, markup and very long names are cleaned and cut', async () => {
    const { h } = harness();
    const name = `\u202eevil\u202c\u200b\u2066 <script>alert(1)</script>\n\r\t\u0000${'ｗ'.repeat(300)}`;
    const res = await register(h, { client_name: name, redirect_uris: [REDIRECT] });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { client_name: string; client_id: string };
    expect(body.client_name).not.toMatch(/[\u0000-\u001f\u202a-\u202e\u2066-\u2069\u200b]/);
    expect(Array.from(body.client_name)).toHaveLength(100);
    const html = await (await h.request(await toConsent(h, await agentRequest(body.client_id)))).text();
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;script&gt;');
  });

  it('a name that is only invisible characters becomes "An unnamed client"', async () => {
    const { h } = harness();
    const res = await register(h, { client_name: '\u200b\u202e\u3164\u2800 ', redirect_uris: [REDIRECT] });
    expect(((await res.json()) as { client_name: string }).client_name).toBe('An unnamed client');
  });
});

describe('audiences', () => {
  it("an agent's access token at /api/* is refused (401)", async () => {
    const { h } = harness();
    const { tokens } = await authorizedAgent(h);
    const res = await h.request('/api/4.0/user', { withCookies: false, headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(res.status).toBe(401);
  });

  it("an agent's refresh token, a browser cookie, a code, or a client_id as the bearer at /mcp: 401 invalid_token or the challenge", async () => {
    const { h } = harness();
    const { request, tokens } = await authorizedAgent(h);
    expect((await mcp(h, tokens.refresh_token)).status).toBe(401);
    expect((await mcp(h, request.clientId)).status).toBe(401);
    expect((await mcp(h, `${tokens.access_token}x`)).status).toBe(401);
    // The browser's session cookie (after a sign-in) is never enough at /mcp.
    await h.signIn();
    expect([...h.jar.keys()].some((k) => k.includes('session'))).toBe(true);
    const withCookie = await h.request('/mcp', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    expect(withCookie.status).toBe(401);
    expect(withCookie.headers.get('www-authenticate')).toContain('resource_metadata=');
  });
});

describe('consent CSRF and framing', () => {
  function post(h: Harness, path: string, headers: Record<string, string>, withCookies = true) {
    return h.request(path, { method: 'POST', withCookies, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: 'decision=allow&write=on' });
  }

  it('refuses an answer from another origin, with Origin: null, or without Origin; without the consent cookie; with another consent\'s cookie — and the real answer still works', async () => {
    const { h } = harness();
    const request = await agentRequest(await registeredClient(h), { scope: 'looker:read looker:write' });
    const consentPath = await toConsent(h, request);
    const id = consentPath.split('/').pop()!;
    const mine = [...h.jar].find(([k]) => k.endsWith(id))!;
    const crossSite: Record<string, string>[] = [{ origin: 'https://evil.example' }, { origin: 'null' }, {}, { origin: 'null', 'sec-fetch-site': 'cross-site' }, { origin: 'https://gateway.test.evil.example' }];
    for (const headers of crossSite) {
      const refused = await post(h, consentPath, headers);
      expect(refused.status, JSON.stringify(headers)).toBe(403);
      // Refused before anything is read or cleared: a cross-site POST cannot even clear the consent cookie.
      expect(refused.headers.getSetCookie()).toEqual([]);
    }
    expect((await post(h, consentPath, { origin: GATEWAY }, false)).status).toBe(410);
    // Another consent of this browser (another request): its cookie under this consent's name.
    const otherPath = await toConsent(h, await agentRequest(await registeredClient(h)));
    const otherId = otherPath.split('/').pop()!;
    const otherCookie = [...h.jar].find(([k]) => k.endsWith(otherId))!;
    expect((await post(h, consentPath, { origin: GATEWAY, cookie: `${mine[0]}=${otherCookie[1]}` })).status).toBe(410);
    // (A same-origin answer clears this consent's cookie whatever it carried; the test's browser gets it back.)
    h.jar.set(mine[0], mine[1]);
    // None of those spent it: the person's own answer goes through.
    const allowed = await answer(h, consentPath, 'allow');
    expect(allowed.status).toBe(303);
    expect(new URL(allowed.headers.get('location')!).searchParams.get('code')).toMatch(/^lgwac_/);
  });

  it('the consent page cannot be framed', async () => {
    const { h } = harness();
    const page = await h.request(await toConsent(h, await agentRequest(await registeredClient(h))));
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('cache-control')).toContain('no-store');
  });
});

describe('floods', () => {
  it('many registrations: one sealed KV record each, with a TTL; nothing in isolate memory', async () => {
    // Each registration is one KV write (docs/security.md: put a rate limit on /oauth/register if
    // floods are a concern). Nothing is kept in the isolate for it, and duplicates of a URI are kept once.
    const { h } = harness();
    for (let i = 0; i < 20; i++) await registeredClient(h, Array.from({ length: 10 }, () => REDIRECT));
    const stored = await dumpKv(h.kv);
    expect(stored.size).toBe(20);
    for (const [key, value] of stored) {
      expect(key).toMatch(/^agent-client:[0-9a-f]{64}$/);
      expect(value.length).toBeLessThan(1024);
    }
  });

  it('a registration body over 8 KiB is refused unread, whatever Content-Length claims', async () => {
    const { h } = harness();
    const big = JSON.stringify({ redirect_uris: [REDIRECT], client_name: 'x'.repeat(9000) });
    const lying = await h.request('/oauth/register', { method: 'POST', withCookies: false, headers: { 'content-type': 'application/json', 'content-length': '10' }, body: big });
    expect(lying.status).toBe(413);
    expect((await dumpKv(h.kv)).size).toBe(0);
  });

  it('a state over 1024 characters goes back as invalid_request; a scope of many repeated words is read-only at most', async () => {
    const { h } = harness();
    const clientId = await registeredClient(h);
    const long = await h.request((await agentRequest(clientId, { state: 's'.repeat(1025) })).path);
    expect(new URL(long.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
    const many = await h.request((await agentRequest(clientId, { scope: 'looker:read '.repeat(500) })).path);
    expect(many.status).toBe(302);
    expect(new URL(many.headers.get('location')!).origin).not.toBe(REDIRECT);
  });

  it('a request too large for the sign-in cookie goes back as invalid_request at once; the largest accepted one fits and completes', async () => {
    // The request travels through the Looker sign-in in a sealed cookie. A client_id URL and a
    // redirect_uri of 2000 characters each and a state of 1024 made it about 8 KB, which a
    // browser drops silently (over 4096 bytes): the sign-in then failed at /callback. Now the
    // gateway says so to the application before it sends the person anywhere (with a 2000-character
    // client_id and redirect_uri, even an empty state is too much: such a client cannot be served).
    const url = `https://agent.example/${'d'.repeat(700)}`;
    const redirectUri = `https://agent.example/${'r'.repeat(700)}`;
    const { h } = harness({ elsewhere: () => new Response(JSON.stringify({ client_id: url, client_name: 'ｗ'.repeat(100), redirect_uris: [redirectUri] })) });
    let accepted: Awaited<ReturnType<typeof agentRequest>> | undefined;
    for (let length = 1024; length >= 0 && accepted === undefined; length -= 32) {
      const request = await agentRequest(url, { redirect_uri: redirectUri, state: 's'.repeat(length) });
      const res = await h.request(request.path);
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get('location')!);
      if (location.origin === 'https://agent.example') {
        expect(location.searchParams.get('error')).toBe('invalid_request');
        expect(location.searchParams.get('state')).toBe(request.state);
        expect(res.headers.getSetCookie()).toEqual([]);
        continue;
      }
      for (const [name, c] of setCookies(res)) expect(new TextEncoder().encode(`${name}=${c.value}`).byteLength, name).toBeLessThanOrEqual(4096);
      for (const key of [...h.jar.keys()].filter((k) => k.includes('login'))) h.jar.delete(key);
      accepted = request;
    }
    expect(accepted).toBeDefined();
    expect(accepted!.state.length).toBeLessThan(1024);
    expect(accepted!.state.length).toBeGreaterThan(0);
    expect((await redeem(h, accepted!, await allowedCode(h, accepted!))).status).toBe(200);
  });

  it('a long but ordinary request completes (state 1024, redirect URI of 500 characters)', async () => {
    const redirectUri = `https://agent.example/${'r'.repeat(478)}`;
    const { h } = harness();
    const request = await agentRequest(await registeredClient(h, [redirectUri]), { redirect_uri: redirectUri, state: 's'.repeat(1024) });
    expect((await redeem(h, request, await allowedCode(h, request))).status).toBe(200);
  });
});

describe('races', () => {
  it('two redemptions of one code at once: never two sets of tokens; the loser is invalid_grant', async () => {
    // The code's box is taken atomically, so only one redemption can pass its checks. The loser
    // finds the code spent, leaves a mark for the winner and ends the grant the code names.
    // Whenever it lands (before the winner stores its grant, between the grant and its tokens, or
    // after), the winner finds the mark or the ended grant: no tokens survive, and the winner is
    // told invalid_grant too, unless it answered before the loser came (then its tokens are ended).
    // test/oauth-attacks2.test.ts takes each interleaving in turn.
    const { h } = harness();
    const request = await agentRequest(await registeredClient(h));
    const code = await allowedCode(h, request);
    const [a, b] = await Promise.all([redeem(h, request, code), redeem(h, request, code)]);
    const statuses = [a.status, b.status].sort();
    expect(statuses[0] === 400 || statuses[1] === 400).toBe(true);
    expect(statuses).not.toEqual([200, 200]);
    const loser = a.status === 400 ? a : b;
    expect(await errorOf(loser)).toBe('invalid_grant');
    // A winner that got tokens (only if the loser landed after it answered) holds dead ones.
    const winner = a.status === 200 ? a : b.status === 200 ? b : undefined;
    if (winner !== undefined) expect((await mcp(h, ((await winner.json()) as Tokens).access_token)).status).toBe(401);
  });
});

describe('scope and revocation', () => {
  it('a write box ticked by a forged form is ignored when the application asked only to read', async () => {
    const { h } = harness();
    const request = await agentRequest(await registeredClient(h), { scope: 'looker:read' });
    const res = await redeem(h, request, await allowedCode(h, request, true));
    expect(((await res.json()) as Tokens).scope).toBe('looker:read');
  });

  it("revocation naming another client's client_id ends nothing (and still answers 200)", async () => {
    const { h } = harness();
    const { tokens } = await authorizedAgent(h);
    const other = await registeredClient(h, [REDIRECT], 'Other');
    for (const value of [tokens.access_token, tokens.refresh_token]) {
      const res = await h.request('/oauth/revoke', { method: 'POST', withCookies: false, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: value, client_id: other }).toString() });
      expect(res.status).toBe(200);
    }
    expect((await mcp(h, tokens.access_token)).status).toBe(200);
  });

  it('the token endpoint refuses a JSON body and an oversize form without reading further', async () => {
    const { h } = harness();
    const json = await h.request('/oauth/token', { method: 'POST', withCookies: false, headers: { 'content-type': 'application/json' }, body: '{"grant_type":"refresh_token"}' });
    expect(json.status).toBe(400);
    expect(await errorOf(json)).toBe('invalid_request');
    const big = await h.request('/oauth/token', { method: 'POST', withCookies: false, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=refresh_token&refresh_token=${'x'.repeat(200_000)}` });
    expect(big.status).toBe(400);
    expect(big.headers.get('cache-control')).toContain('no-store');
  });
});
