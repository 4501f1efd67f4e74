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
