/**
 * No secret or one-time value in anything the platform keeps: after every kind of sign-in
 * (browser, command line loopback and device, the SDK login, and a client_secret wrongly
 * put in a URL), every file that `npm run dev` (wrangler dev) wrote — its KV and Durable
 * Object storage and its local observability store — is searched for each code, state,
 * user code, device code, secret and token the flows used. Driven with fetch: the
 * "browser" here is a cookie jar that follows redirects by hand.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FetchBrowser } from './fetch-browser.ts';
import { type DevGateway, sharedDevGateway } from './harness.ts';

let gateway: DevGateway;

beforeAll(() => {
  // The run's shared gateway (DEVICE_POLL_INTERVAL_SECONDS=1): other files' sign-ins are in
  // its files too, which only widens the search for this test's own values.
  gateway = sharedDevGateway();
});
/** The one-time values in the URLs a browser was sent to (a PKCE code_challenge is public by design: a hash the verifier must match). */
const urlSecrets = (urls: URL[]) =>
  urls.flatMap((u) => ['code', 'state', 'user_code', 'client_secret'].map((k) => u.searchParams.get(k)).filter((v): v is string => v !== null && v.length >= 8));

/** Every file under `dir`, read as bytes, searched for each value; returns what was found where. */
function findIn(dir: string, values: string[]): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      try {
        const stat = statSync(full);
        if (stat.isDirectory()) walk(full);
        else if (stat.isFile()) {
          const bytes = readFileSync(full);
          for (const value of values) if (bytes.includes(Buffer.from(value))) found.push(`${value.slice(0, 12)}… in ${full.slice(dir.length)}`);
        }
      } catch (error) {
        // A file that wrangler removed meanwhile (other files' requests run at the same time).
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  };
  walk(dir);
  return found;
}

describe('what the platform keeps under npm run dev', () => {
  it('after browser, loopback, device and SDK sign-ins: no code, state, user code, secret or token in any file', async () => {
    const secrets: string[] = [];
    const browser = new FetchBrowser();

    // A browser sign-in.
    const signedIn = await browser.throughLooker(await browser.fetch(`${gateway.url}/login`), `${gateway.url}/login`, gateway.simUrl, gateway.url);
    expect(signedIn.url.pathname).toBe('/');

    // The command line's loopback sign-in.
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const redirectUri = 'http://127.0.0.1:53999/callback';
    const cliState = randomBytes(16).toString('base64url');
    const authorize = `${gateway.url}/cli/authorize?${new URLSearchParams({ response_type: 'code', redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256', state: cliState, name: 'scan' })}`;
    const consent = await browser.throughLooker(await browser.fetch(authorize), authorize, gateway.simUrl, gateway.url);
    expect(consent.url.pathname).toMatch(/^\/cli\/consent\//);
    const allowed = await browser.submit(consent.res, consent.url, { decision: 'allow' });
    const loopback = await browser.follow(allowed.res, allowed.action.href, (url) => url.origin === 'http://127.0.0.1:53999');
    const code = loopback.url.searchParams.get('code')!;
    const token = await fetch(`${gateway.url}/cli/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri }),
    });
    const loopbackCredential = (await token.json()) as { client_id: string; client_secret: string };
    expect(loopbackCredential.client_secret).toMatch(/^lgws_/);
    secrets.push(verifier, code, loopbackCredential.client_secret);

    // The device sign-in.
    const started = (await (
      await fetch(`${gateway.url}/cli/device/code`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=scan-device' })
    ).json()) as { device_code: string; user_code: string };
    const entered = await browser.fetch(`${gateway.url}/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: gateway.url },
      body: new URLSearchParams({ user_code: started.user_code }),
    });
    const deviceConsent = await browser.throughLooker(entered, `${gateway.url}/device`, gateway.simUrl, gateway.url);
    await browser.submit(deviceConsent.res, deviceConsent.url, { decision: 'allow' });
    let deviceCredential: { client_secret?: string; error?: string } = {};
    for (let i = 0; i < 20 && deviceCredential.client_secret === undefined; i++) {
      await new Promise((r) => setTimeout(r, 1100));
      deviceCredential = (await (
        await fetch(`${gateway.url}/cli/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: started.device_code }),
        })
      ).json()) as typeof deviceCredential;
    }
    expect(deviceCredential.client_secret).toMatch(/^lgws_/);
    secrets.push(started.device_code, started.user_code, deviceCredential.client_secret!);

    // The SDK login, a call with its token, and a secret wrongly sent in the URL (refused).
    const login = await fetch(`${gateway.url}/api/4.0/login`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: loopbackCredential.client_id, client_secret: loopbackCredential.client_secret }).toString(),
    });
    const { access_token: accessToken } = (await login.json()) as { access_token: string };
    expect((await fetch(`${gateway.url}/api/4.0/user`, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(200);
    const inUrl = await fetch(`${gateway.url}/api/4.0/login?${new URLSearchParams({ client_id: loopbackCredential.client_id, client_secret: deviceCredential.client_secret! })}`, { method: 'POST' });
    expect(inUrl.status).toBe(400);
    secrets.push(accessToken);

    secrets.push(...urlSecrets(browser.visited));
    expect(secrets.length).toBeGreaterThan(10);
    // The search reads the stores' files: a public value the ledger keeps (a client_id) is found.
    expect(findIn(gateway.stateDir, [loopbackCredential.client_id])).not.toEqual([]);
    expect(findIn(gateway.stateDir, [...new Set(secrets)])).toEqual([]);
    // The gateway's own log (printed by npm run dev) holds none of them either.
    const printed = gateway.output();
    expect([...new Set(secrets)].filter((s) => printed.includes(s))).toEqual([]);
  });
});
