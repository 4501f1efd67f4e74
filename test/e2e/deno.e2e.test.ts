/**
 * The gateway on Deno, as `npm run dev -- --runtime deno` runs it (deno serve of
 * src/platform/deno/server.ts, a local Deno KV file, the Looker simulator; started once by
 * the global setup and shared with deno-policies.e2e, deno-cli.e2e and the browser test's
 * deno-browser.ts), fetch-driven: a browser sign-in followed through Looker with fetch, a
 * proxied /api/4.0/user, a script credential and its SDK login, the credential revoked and
 * the browser signed out, each for good. Every answer says who may cache it, and no code,
 * secret or token is in the KV file or the log.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FetchBrowser } from './fetch-browser.ts';
import { denoGateway, type DevGateway, haveDeno, issuedSecretsIn } from './harness.ts';

describe.skipIf(!haveDeno)('the gateway on Deno (npm run dev -- --runtime deno), fetch-driven', () => {
  let gateway: DevGateway;

  beforeAll(() => {
    gateway = denoGateway();
  });

  it('signs in through Looker, proxies /api/4.0/user, issues a credential for the SDK, and a revoke and a sign-out stay so', async () => {
    const browser = new FetchBrowser();
    const home = await browser.fetch(`${gateway.url}/`);
    expect(home.status).toBe(200);
    expect(home.headers.get('cache-control')).toBe('no-store');

    // A browser sign-in, through the simulator's consent page.
    const signedIn = await browser.throughLooker(await browser.fetch(`${gateway.url}/login`), `${gateway.url}/login`, gateway.simUrl, gateway.url);
    expect(signedIn.url.pathname).toBe('/');
    expect(await signedIn.res.text()).toContain('Sign out');

    const me = await browser.fetch(`${gateway.url}/api/4.0/user`);
    expect(me.status).toBe(200);
    expect(me.headers.get('cache-control')).toMatch(/\bprivate\b/);
    const user = (await me.json()) as { id: string; display_name: string };
    expect(user.id).toBeTruthy();

    // The command line's loopback sign-in, then the SDK's login with the credential.
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const redirectUri = 'http://127.0.0.1:53998/callback';
    const authorize = `${gateway.url}/cli/authorize?${new URLSearchParams({ response_type: 'code', redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256', state: 'deno-e2e-state', name: 'deno smoke' })}`;
    const consent = await browser.throughLooker(await browser.fetch(authorize), authorize, gateway.simUrl, gateway.url);
    expect(consent.url.pathname).toMatch(/^\/cli\/consent\//);
    const allowed = await browser.submit(consent.res, consent.url, { decision: 'allow' });
    const loopback = await browser.follow(allowed.res, allowed.action.href, (url) => url.origin === 'http://127.0.0.1:53998');
    const code = loopback.url.searchParams.get('code')!;
    const issued = await fetch(`${gateway.url}/cli/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri }),
    });
    expect(issued.status).toBe(200);
    expect(issued.headers.get('cache-control')).toMatch(/no-store/);
    const credential = (await issued.json()) as { client_id: string; client_secret: string };
    const login = await fetch(`${gateway.url}/api/4.0/login`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: credential.client_id, client_secret: credential.client_secret }).toString(),
    });
    expect(login.status).toBe(200);
    const { access_token: accessToken } = (await login.json()) as { access_token: string };
    const scripted = await fetch(`${gateway.url}/api/4.0/user`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(scripted.status).toBe(200);
    expect(((await scripted.json()) as { id: string }).id).toBe(user.id);
    // The search below reads the KV file: a public value the ledger keeps (the client_id) is there.
    const kvFiles = () => readdirSync(join(gateway.stateDir, 'deno')).map((name) => readFileSync(join(gateway.stateDir, 'deno', name)));
    expect(kvFiles().some((bytes) => bytes.includes(Buffer.from(credential.client_id)))).toBe(true);

    // The credential revoked on "Your access": it and its token end at once, for good, and the browser's session lives on.
    // (Not "sign out everywhere": that would end the sessions of the other Deno tests, running beside this one.)
    const access = await browser.fetch(`${gateway.url}/access`);
    expect(access.status).toBe(200);
    const page = await access.text();
    const grant = /<input type="hidden" name="grant" value="([^"]+)"/.exec(page.slice(page.indexOf(credential.client_id)))?.[1];
    if (grant === undefined) throw new Error(`No revoke form for ${credential.client_id} on Your access`);
    const sameOrigin = { origin: gateway.url, 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' };
    const revoked = await browser.fetch(`${gateway.url}/access/revoke`, { method: 'POST', headers: sameOrigin, body: new URLSearchParams({ grant }).toString() });
    expect({ status: revoked.status, location: revoked.headers.get('location') }).toEqual({ status: 303, location: '/access' });
    expect((await fetch(`${gateway.url}/api/4.0/user`, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(401);
    const again = await fetch(`${gateway.url}/api/4.0/login`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: credential.client_id, client_secret: credential.client_secret }).toString(),
    });
    expect(again.status).toBe(404);
    expect((await browser.fetch(`${gateway.url}/api/4.0/user`)).status).toBe(200);

    // Then the browser signs out: its session ends for good (the cookie it held, sent again, is refused).
    const session = browser.cookie(gateway.url, '__Host-lgw_session');
    expect(session).toBeDefined();
    const signOut = await browser.fetch(`${gateway.url}/logout`, { method: 'POST', headers: sameOrigin });
    expect(signOut.status).toBe(303);
    expect(browser.cookie(gateway.url, '__Host-lgw_session')).toBeUndefined();
    expect((await fetch(`${gateway.url}/api/4.0/user`, { headers: { cookie: `__Host-lgw_session=${session}` } })).status).toBe(401);

    // What Deno KV's file and the log hold: no code, verifier, secret or token.
    const secrets = [verifier, code, credential.client_secret, accessToken, session!, ...browser.visited.flatMap((u) => ['code', 'state'].map((k) => u.searchParams.get(k)).filter((v): v is string => v !== null && v.length >= 8))];
    const files = kvFiles();
    expect(secrets.filter((s) => files.some((bytes) => bytes.includes(Buffer.from(s))))).toEqual([]);
    const printed = gateway.output();
    expect(secrets.filter((s) => printed.includes(s))).toEqual([]);
    expect(gateway.events('request').length).toBeGreaterThan(5);
  });

  it("the gateway's log holds none of the secrets, tokens or codes it issued so far (to any of the Deno tests)", () => {
    expect(gateway.events('credential_created').length).toBeGreaterThan(0);
    expect(issuedSecretsIn(gateway.output())).toEqual([]);
  });
});
