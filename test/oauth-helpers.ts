/** Helpers for the OAuth authorization server's tests (test/oauth.test.ts, test/oauth-attacks.test.ts): register, authorize, consent, redeem. */
import { expect } from 'vitest';
import type { McpCaller } from '../src/mcp/handler.ts';
import { createHarness, gate, GATEWAY, type Harness, type HarnessOptions, ledgerWith, LOOKER, pkcePair } from './helpers.ts';

export const REDIRECT = 'https://agent.example/callback';
export const RESOURCE = `${GATEWAY}/mcp`;
export const CHALLENGE_HEADER = `Bearer resource_metadata="${GATEWAY}/.well-known/oauth-protected-resource/mcp", scope="looker:read"`;

/** An MCP server that reports what the route gave it and calls Looker as the agent. */
export function recordingMcp(seen: McpCaller[]) {
  return async (_request: Request, caller: McpCaller) => {
    seen.push(caller);
    const user = await caller.looker('GET', '/user');
    const write = await caller.looker('PATCH', '/user/1', { first_name: 'x' });
    return Response.json({ scope: caller.scope, userStatus: user.status, user: await user.json(), writeStatus: write.status });
  };
}

export function harness(options: HarnessOptions = {}) {
  const seen: McpCaller[] = [];
  return { h: createHarness({ mcp: recordingMcp(seen), ...options }), seen };
}

/** The agents on the person's "Your access" (the harness's browser must be signed in: h.signIn()). */
export async function agentsListed(h: Harness): Promise<number> {
  const page = await (await h.request('/access')).text();
  if (!page.includes('<h2>AI agents</h2>')) throw new Error('not the "Your access" page: sign the browser in first');
  return page.includes('id="no-agents"') ? 0 : [...page.matchAll(/class="muted client-id"/g)].length;
}

/**
 * A harness whose ledger pauses the first agent grant's creation (`createGrant`) or its first
 * tokens (`issuePair`) until the test opens `held`: for redemptions that race.
 */
export function harnessPausingOnce(step: 'createGrant' | 'issuePair') {
  const held = gate();
  let holding = true;
  const pause = async () => {
    if (!holding) return;
    holding = false;
    await held.wait();
  };
  const { h } = harness({
    wrapLedger: (ledger) =>
      ledgerWith(
        ledger,
        step === 'createGrant'
          ? {
              createGrant: async (original, entry) => {
                if (entry.kind === 'agent') await pause();
                return original(entry);
              },
            }
          : {
              issuePair: async (original, pair, now) => {
                await pause();
                return original(pair, now);
              },
            },
      ),
  });
  return { h, held };
}

export async function register(h: Harness, body: unknown = { client_name: 'Claude', redirect_uris: [REDIRECT] }): Promise<Response> {
  return h.request('/oauth/register', { method: 'POST', withCookies: false, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

export async function registeredClient(h: Harness, redirectUris = [REDIRECT], name = 'Claude'): Promise<string> {
  const res = await register(h, { client_name: name, redirect_uris: redirectUris });
  expect(res.status).toBe(201);
  return ((await res.json()) as { client_id: string }).client_id;
}

export function authorizePath(params: Record<string, string | undefined>): string {
  const query = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined));
  return `/oauth/authorize?${query}`;
}

export interface AgentRequest {
  clientId: string;
  verifier: string;
  challenge: string;
  state: string;
  redirectUri: string;
  path: string;
}

export async function agentRequest(clientId: string, overrides: Record<string, string | undefined> = {}): Promise<AgentRequest> {
  const { verifier, challenge } = await pkcePair();
  const state = `state-${crypto.randomUUID()}`;
  const params = {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    scope: 'looker:read looker:write',
    resource: RESOURCE,
    ...overrides,
  };
  return { clientId, verifier, challenge, state: params.state ?? state, redirectUri: params.redirect_uri ?? REDIRECT, path: authorizePath(params) };
}

/** GET /oauth/authorize → Looker (the simulator approves) → /callback → the consent page's path. */
export async function toConsent(h: Harness, request: Pick<AgentRequest, 'path'>): Promise<string> {
  const start = await h.request(request.path);
  expect(start.status).toBe(302);
  expect(new URL(start.headers.get('location')!).origin).toBe(LOOKER);
  const back = new URL(await h.authorize(start));
  const callback = await h.request(back.pathname + back.search);
  expect(callback.status).toBe(303);
  const consent = callback.headers.get('location')!;
  expect(consent).toMatch(/^\/oauth\/consent\//);
  return consent;
}

export function answer(h: Harness, consentPath: string, decision: 'allow' | 'deny', write = false): Promise<Response> {
  const form = new URLSearchParams({ decision });
  if (write) form.set('write', 'on');
  return h.request(consentPath, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: GATEWAY }, body: form.toString() });
}

export function token(h: Harness, fields: Record<string, string>): Promise<Response> {
  return h.request('/oauth/token', { method: 'POST', withCookies: false, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
}

/** Allow on the consent page: the code the application's redirect_uri receives. */
export async function allowedCode(h: Harness, request: AgentRequest, write = false): Promise<string> {
  const allowed = await answer(h, await toConsent(h, request), 'allow', write);
  expect(allowed.status).toBe(303);
  const back = new URL(allowed.headers.get('location')!);
  expect(`${back.origin}${back.pathname}`).toBe(request.redirectUri);
  expect(back.searchParams.get('state')).toBe(request.state);
  expect(back.searchParams.get('iss')).toBe(GATEWAY);
  return back.searchParams.get('code')!;
}

export function redeem(h: Harness, request: AgentRequest, code: string, overrides: Record<string, string> = {}): Promise<Response> {
  return token(h, {
    grant_type: 'authorization_code',
    code,
    code_verifier: request.verifier,
    redirect_uri: request.redirectUri,
    client_id: request.clientId,
    resource: RESOURCE,
    ...overrides,
  });
}

export async function authorizedAgent(h: Harness, options: { write?: boolean } = {}): Promise<{ request: AgentRequest; tokens: Tokens }> {
  const request = await agentRequest(await registeredClient(h));
  const res = await redeem(h, request, await allowedCode(h, request, options.write ?? false));
  expect(res.status).toBe(200);
  return { request, tokens: (await res.json()) as Tokens };
}

export function mcp(h: Harness, accessToken?: string): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (accessToken !== undefined) headers.authorization = `Bearer ${accessToken}`;
  return h.request('/mcp', { method: 'POST', withCookies: false, headers, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
}
