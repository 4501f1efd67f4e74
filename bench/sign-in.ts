/** Signing in to a running gateway as a browser does, for the session cookie its API calls carry. */

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
 * A script's bearer token, as the command line and an SDK would get one: the loopback
 * sign-in (PKCE, a loopback redirect_uri that nobody needs to listen on: the code is read
 * from the redirect), the consent page's Allow, the code traded for a credential, then
 * the SDK login. Never printed.
 */
export async function gatewayBearerToken(gateway: string): Promise<string> {
  const { createHash, randomBytes } = await import('node:crypto');
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const redirectUri = 'http://127.0.0.1:9/callback';
  const authorize = new URL(`${gateway}/cli/authorize`);
  for (const [k, v] of Object.entries({ response_type: 'code', redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256', state: 'bench', name: 'bench' })) {
    authorize.searchParams.set(k, v);
  }
  const start = await fetch(authorize, { redirect: 'manual' });
  const loginCookie = start.headers.getSetCookie()[0]?.split(';')[0];
  const approved = await fetch(start.headers.get('location') ?? '', { redirect: 'manual' });
  const callback = await fetch(approved.headers.get('location') ?? '', { redirect: 'manual', headers: { cookie: loginCookie ?? '' } });
  const consentCookie = callback.headers.getSetCookie().find((c) => c.startsWith('__Host-lgw_consent_'))?.split(';')[0];
  const consentPath = callback.headers.get('location');
  if (callback.status !== 303 || consentCookie === undefined || consentPath === null) throw new Error(`gateway credential: /callback answered ${callback.status}`);
  const allowed = await fetch(`${gateway}${consentPath}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: consentCookie, origin: gateway, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'decision=allow',
  });
  const code = new URL(allowed.headers.get('location') ?? 'http://x/').searchParams.get('code');
  if (code === null) throw new Error(`gateway credential: the consent answered ${allowed.status} without a code`);
  const issued = await fetch(`${gateway}/cli/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri }).toString(),
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
