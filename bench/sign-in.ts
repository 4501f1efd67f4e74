/** Signing in to a running gateway as a browser, a script and an AI agent do, for what their calls carry. */

/** The `__Host-lgw_session=…` pair to send as a Cookie header. Never printed. */
export async function gatewaySessionCookie(gateway: string): Promise<string> {
  const login = await fetch(`${gateway}/login`, { redirect: 'manual' });
  const loginCookie = login.headers.getSetCookie()[0]?.split(';')[0];
  const consent = login.headers.get('location');
  if (loginCookie === undefined || consent === null) throw new Error(`gateway sign-in: /login answered ${login.status} without a redirect and a login cookie`);
  // The simulator runs with --auto-approve: its /auth sends the browser straight back.
  const approved = await fetch(consent, { redirect: 'manual' });
  const callback = approved.headers.get('location');
  if (callback === null) throw new Error(`gateway sign-in: Looker's /auth answered ${approved.status} without a redirect`);
  const signedIn = await fetch(callback, { redirect: 'manual', headers: { cookie: loginCookie } });
  const session = signedIn.headers.getSetCookie().find((c) => c.startsWith('__Host-lgw_session='));
  if (signedIn.status !== 303 || session === undefined) throw new Error(`gateway sign-in: /callback answered ${signedIn.status} without a session`);
  return session.split(';')[0] ?? session;
}

/**
 * Through a sign-in that ends on the gateway's consent page, to the code it sends the
 * client's redirect_uri: the authorization request (its login cookie kept), Looker's
 * approval (the simulator's --auto-approve), the gateway's /callback, then Allow on the
 * consent page. `what` names the flow in errors.
 */
async function allowedCode(gateway: string, authorize: URL, what: string): Promise<string> {
  const start = await fetch(authorize, { redirect: 'manual' });
  const loginCookie = start.headers.getSetCookie()[0]?.split(';')[0];
  const approved = await fetch(start.headers.get('location') ?? '', { redirect: 'manual' });
  const callback = await fetch(approved.headers.get('location') ?? '', { redirect: 'manual', headers: { cookie: loginCookie ?? '' } });
  const consentCookie = callback.headers.getSetCookie().find((c) => c.startsWith('__Host-lgw_consent_'))?.split(';')[0];
  const consentPath = callback.headers.get('location');
  if (callback.status !== 303 || consentCookie === undefined || consentPath === null) throw new Error(`${what}: /callback answered ${callback.status}`);
  const allowed = await fetch(`${gateway}${consentPath}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: consentCookie, origin: gateway, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'decision=allow',
  });
  const code = new URL(allowed.headers.get('location') ?? 'http://x/').searchParams.get('code');
  if (code === null) throw new Error(`${what}: the consent answered ${allowed.status} without a code`);
  return code;
}

/** A PKCE verifier and its S256 challenge. */
async function pkce(): Promise<{ verifier: string; challenge: string }> {
  const { createHash, randomBytes } = await import('node:crypto');
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** A redirect URI on the loopback that nobody needs to listen on: the code is read from the redirect. */
const LOOPBACK_REDIRECT = 'http://127.0.0.1:9/callback';

/**
 * A script's bearer token, as the command line and an SDK would get one: the loopback
 * sign-in (PKCE), the consent page's Allow, the code traded for a credential, then the
 * SDK login. Never printed.
 */
export async function gatewayBearerToken(gateway: string): Promise<string> {
  const { verifier, challenge } = await pkce();
  const authorize = new URL(`${gateway}/cli/authorize`);
  for (const [k, v] of Object.entries({ response_type: 'code', redirect_uri: LOOPBACK_REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 'bench', name: 'bench' })) {
    authorize.searchParams.set(k, v);
  }
  const code = await allowedCode(gateway, authorize, 'gateway credential');
  const issued = await fetch(`${gateway}/cli/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: LOOPBACK_REDIRECT }).toString(),
  });
  const credential = (await issued.json()) as { client_id?: string; client_secret?: string };
  if (credential.client_id === undefined || credential.client_secret === undefined) throw new Error(`gateway credential: /cli/token answered ${issued.status}`);
  const login = await fetch(`${gateway}/api/4.0/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: credential.client_id, client_secret: credential.client_secret }).toString(),
  });
  const token = ((await login.json()) as { access_token?: string }).access_token;
  if (token === undefined) throw new Error(`gateway credential: the SDK login answered ${login.status}`);
  return token;
}

/**
 * An AI agent's access token for the gateway's /mcp (lgwat_…), as an MCP client gets one:
 * dynamic client registration, the authorization request (PKCE, read-only scope, the /mcp
 * resource), Looker's approval and the consent page's Allow, then the code redeemed at
 * /oauth/token. Never printed.
 */
export async function gatewayAgentToken(gateway: string): Promise<string> {
  const resource = `${gateway}/mcp`;
  const registered = await fetch(`${gateway}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'bench', redirect_uris: [LOOPBACK_REDIRECT] }),
  });
  const clientId = ((await registered.json()) as { client_id?: string }).client_id;
  if (clientId === undefined) throw new Error(`agent token: /oauth/register answered ${registered.status}`);
  const { verifier, challenge } = await pkce();
  const authorize = new URL(`${gateway}/oauth/authorize`);
  const query = { response_type: 'code', client_id: clientId, redirect_uri: LOOPBACK_REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 'bench', scope: 'looker:read', resource };
  for (const [k, v] of Object.entries(query)) authorize.searchParams.set(k, v);
  const code = await allowedCode(gateway, authorize, 'agent token');
  const issued = await fetch(`${gateway}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: LOOPBACK_REDIRECT, client_id: clientId, resource }).toString(),
  });
  const token = ((await issued.json()) as { access_token?: string }).access_token;
  if (token === undefined || !token.startsWith('lgwat_')) throw new Error(`agent token: /oauth/token answered ${issued.status} without an agent access token`);
  return token;
}
