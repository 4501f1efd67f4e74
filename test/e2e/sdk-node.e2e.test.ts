/**
 * The real @looker/sdk-node, unmodified, against the gateway and the Looker simulator:
 * a person creates a credential on "Your access" in Chromium and copies it into
 * looker.ini (or LOOKERSDK_* variables); the SDK logs in with it as with a Looker API key,
 * calls the API, logs in again when its token runs out, survives the Looker token's
 * refresh behind the gateway, logs out, and is refused once the person revokes it.
 *
 * Short lifetimes make the renewals happen within the test: on the run's shared gateway,
 * gateway tokens live 15 s (the SDK treats a token as expired 10 s early, so it logs in
 * again after ~5 s) and Looker's access tokens 70 s (the gateway refreshes when under 60 s
 * remain, so after ~10 s). Other files use the gateway meanwhile: what is counted here is
 * this credential's (its client_id, and the grant its credential_login lines name).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LookerNodeSDK, NodeSession, NodeSettingsIniFile } from '@looker/sdk-node';
import type { Looker40SDK } from '@looker/sdk';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  answerAtGateway,
  answerAtLooker,
  type DevGateway,
  eventually,
  haveChromium,
  issuedSecretsIn,
  launchChromium,
  quietSdkDebugNoise,
  ROOT,
  screenshot,
  SHARED_GATEWAY_TOKEN_TTL_SECONDS as GATEWAY_TOKEN_TTL_SECONDS,
  SHARED_SIM_ACCESS_TOKEN_TTL_SECONDS as SIM_ACCESS_TOKEN_TTL_SECONDS,
  sharedDevGateway,
  warnIfNoChromium,
} from './harness.ts';

warnIfNoChromium('the @looker/sdk-node test');

const SDK_LAG_SECONDS = 10; // AuthToken.lagTime in @looker/sdk-rtl
const REFRESH_MARGIN_SECONDS = 60; // the gateway refreshes Looker's token when less than this remains
const CREDENTIAL_NAME = 'sdk-e2e';

interface Credential {
  clientId: string;
  clientSecret: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!haveChromium)('the real @looker/sdk-node through the gateway', () => {
  let dev: DevGateway;
  let browser: Browser;
  let person: BrowserContext;
  let page: Page;
  let work: string;
  let iniPath: string;
  let credential: Credential | undefined;
  let sdk: Looker40SDK | undefined;
  /** Every gateway token the SDK held, to prove none reached the log. */
  const tokensSeen = new Set<string>();
  let restoreConsole: (() => void) | undefined;

  beforeAll(async () => {
    restoreConsole = quietSdkDebugNoise();
    // The run's shared gateway, whose short lifetimes are set for this test (SHARED_GATEWAY_OPTIONS).
    dev = sharedDevGateway();
    browser = await launchChromium();
    person = await browser.newContext();
    page = await person.newPage();
    work = mkdtempSync(join(tmpdir(), 'lgw-sdk-'));
    iniPath = join(work, 'looker.ini');
  });

  afterAll(async () => {
    restoreConsole?.();
    await browser?.close();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  const theCredential = (): Credential => {
    if (credential === undefined) throw new Error('No credential: the test that creates it failed.');
    return credential;
  };
  const theSdk = (): Looker40SDK => {
    if (sdk === undefined) throw new Error('No SDK: the test that starts it failed.');
    return sdk;
  };
  const session = (s: Looker40SDK): NodeSession => {
    // init40 always builds a NodeSession; the interface type hides its token.
    if (!(s.authSession instanceof NodeSession)) throw new Error('init40 did not build a NodeSession');
    return s.authSession;
  };
  const heldToken = (s: Looker40SDK): string => {
    const token = session(s).activeToken.access_token;
    tokensSeen.add(token);
    return token;
  };
  const logins = () => dev.events('credential_login', { clientId: theCredential().clientId }).length;
  const iniSdk = () => LookerNodeSDK.init40(new NodeSettingsIniFile('', iniPath, 'Looker'));

  it('a person creates a credential on "Your access" and copies its secret', async () => {
    await page.goto(`${dev.url}/access`);
    // Not signed in yet: the gateway sends the browser to Looker, then back to /access.
    await answerAtLooker(page, dev);
    await page.waitForURL(`${dev.url}/access`);
    await page.getByRole('textbox', { name: 'Name' }).fill(CREDENTIAL_NAME);
    await page.getByRole('button', { name: 'Create credential' }).click();
    // Each credential gets its own Looker grant: Looker asks again, then the gateway asks.
    await answerAtLooker(page, dev);
    await answerAtGateway(page, dev);
    await page.locator('#client-secret').waitFor();
    // The secret is masked in the picture (taken when E2E_SCREENSHOTS is set).
    await screenshot(page, 'sdk-credential-created', {
      mask: [page.locator('#client-secret'), page.locator('#ini-snippet'), page.locator('#env-snippet')],
    });

    expect(await page.textContent('h1')).toBe(`Credential “${CREDENTIAL_NAME}” created`);
    const clientId = (await page.textContent('#client-id')) ?? '';
    const clientSecret = (await page.textContent('#client-secret')) ?? '';
    expect(clientId).toMatch(/^lgwc_/);
    expect(clientSecret).toMatch(/^lgws_/);
    expect(await page.inputValue('#ini-snippet')).toContain(`base_url=${dev.url}\nclient_id=${clientId}\nclient_secret=${clientSecret}\n`);
    credential = { clientId, clientSecret };
    // The snippet is for https; over plain http the SDK needs verify_ssl off.
    writeFileSync(iniPath, `[Looker]\nbase_url=${dev.url}\nclient_id=${clientId}\nclient_secret=${clientSecret}\nverify_ssl=false\n`, { mode: 0o600 });

    await page.goto(`${dev.url}/access`);
    expect(await page.locator('#credentials tbody tr', { hasText: clientId }).textContent()).toContain(CREDENTIAL_NAME);
  });

  it('init40 with looker.ini: me() is the Looker user, and a POST (create_query) works', async () => {
    sdk = iniSdk();
    const me = await sdk.ok(sdk.me('id,display_name,email'));
    expect(me).toMatchObject({ id: '42', display_name: 'Dana Demo', email: 'dana.demo@example.com' });
    const query = await sdk.ok(sdk.create_query({ model: 'thelook', view: 'orders', fields: ['orders.count'] }));
    expect(query.id).toMatch(/^\d+$/);
    expect(query).toMatchObject({ model: 'thelook', view: 'orders', fields: ['orders.count'] });
    // Read back through the API: the POST reached Looker with its JSON body intact.
    expect(await sdk.ok(sdk.query(query.id!))).toMatchObject({ id: query.id, model: 'thelook', view: 'orders' });
    // One login served all three calls (its log line may trail the answer a little).
    await eventually('the credential_login line', () => (logins() > 0 ? true : undefined));
    expect(logins()).toBe(1);
    heldToken(sdk);
  });

  it("the SDK's own re-login renews an expired gateway token", async () => {
    const s = theSdk();
    const before = logins();
    const first = heldToken(s);
    // The SDK gives up on the token 10 s before the gateway would: after about 5 s.
    await eventually('the SDK to find its token expired', () => (session(s).isAuthenticated() ? undefined : true), (GATEWAY_TOKEN_TTL_SECONDS - SDK_LAG_SECONDS + 5) * 1000);
    expect(await s.ok(s.me('id'))).toEqual({ id: '42' });
    const second = heldToken(s);
    expect(second).not.toBe(first);
    await eventually('the second credential_login line', () => (logins() === before + 1 ? true : undefined));
    // Both tokens are the gateway's own, and the first one is still good at the gateway (its 15 s are not over).
    const old = await fetch(`${dev.url}/api/4.0/user?fields=id`, { headers: { authorization: `Bearer ${first}` } });
    expect(old.status).toBe(200);
  });

  it("Looker's token is refreshed behind the gateway, and the SDK does not notice", async () => {
    const s = theSdk();
    // The gateway is shared: count the refreshes of this credential's grant only (its credential_login lines name it).
    const grantId = dev.events('credential_login', { clientId: theCredential().clientId })[0]?.grantId;
    expect(grantId).toEqual(expect.any(String));
    const refreshed = () => dev.events('token_refresh', { outcome: 'refreshed', grantId }).length;
    const before = refreshed();
    // Whenever the credential's Looker token was issued, 11 s from now it has under 60 s left.
    await sleep((SIM_ACCESS_TOKEN_TTL_SECONDS - REFRESH_MARGIN_SECONDS + 1) * 1000);
    expect(await s.ok(s.me('id,display_name'))).toEqual({ id: '42', display_name: 'Dana Demo' });
    await eventually('a token_refresh line with outcome "refreshed"', () => (refreshed() > before ? true : undefined));
    expect(dev.events('token_refresh', { outcome: 'failed', grantId })).toEqual([]);
    expect(dev.events('token_refresh', { outcome: 'ended', grantId })).toEqual([]);
    // And the next call uses the refreshed token without another refresh.
    const after = refreshed();
    expect((await s.ok(s.create_query({ model: 'thelook', view: 'orders', fields: ['orders.id'] }))).id).toMatch(/^\d+$/);
    expect(refreshed()).toBe(after);
  });

  it('authSession.logout() ends that gateway token only; the next call logs in again', async () => {
    const s = theSdk();
    await s.ok(s.me('id')); // a live token to log out
    const token = heldToken(s);
    const loginsBefore = logins();
    const endedBefore = dev.events('access_token_ended', { clientId: theCredential().clientId }).length;
    expect(await s.authSession.logout()).toBe(true);
    expect(s.authSession.isAuthenticated()).toBe(false);
    await eventually('an access_token_ended line', () =>
      dev.events('access_token_ended', { clientId: theCredential().clientId }).length === endedBefore + 1 ? true : undefined,
    );
    const ended = await fetch(`${dev.url}/api/4.0/user?fields=id`, { headers: { authorization: `Bearer ${token}` } });
    expect(ended.status).toBe(401);
    expect(await ended.json()).toMatchObject({ message: 'Requires authentication.' });

    expect(await s.ok(s.me('id,display_name'))).toEqual({ id: '42', display_name: 'Dana Demo' });
    expect(heldToken(s)).not.toBe(token);
    await eventually('the new credential_login line', () => (logins() === loginsBefore + 1 ? true : undefined));
  });

  it('an unmodified script configured by LOOKERSDK_* environment variables', async () => {
    const { clientId, clientSecret } = theCredential();
    const before = logins();
    // What a person writes, run as its own process where no looker.ini exists: init40() with no arguments.
    const script = join(work, 'report.cjs');
    writeFileSync(
      script,
      `const { LookerNodeSDK } = require('@looker/sdk-node');
(async () => {
  const sdk = LookerNodeSDK.init40();
  const me = await sdk.ok(sdk.me('id,display_name'));
  const query = await sdk.ok(sdk.create_query({ model: 'thelook', view: 'orders', fields: ['orders.count'] }));
  await sdk.authSession.logout();
  console.log(JSON.stringify({ me, query: query.id }));
})().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
`,
    );
    const child = spawn(process.execPath, [script], {
      cwd: work,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_PATH: join(ROOT, 'node_modules'),
        LOOKERSDK_BASE_URL: dev.url,
        LOOKERSDK_CLIENT_ID: clientId,
        LOOKERSDK_CLIENT_SECRET: clientSecret,
        LOOKERSDK_VERIFY_SSL: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((done) => child.on('exit', done));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    // The SDK prints a debug line per request (see quietSdkDebugNoise); the script's result is the last line.
    const printed = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as { me: unknown; query: unknown };
    expect(printed.me).toEqual({ id: '42', display_name: 'Dana Demo' });
    expect(printed.query).toMatch(/^\d+$/);
    await eventually("the script's credential_login line", () => (logins() === before + 1 ? true : undefined));
  });

  it('a credential revoked on "Your access": the SDK\'s next call fails, and so does a new login', async () => {
    const s = theSdk();
    const { clientId } = theCredential();
    // The page first: the SDK's fresh token is good for only 5 s in its eyes, and a busy
    // machine can take that long to load a page.
    await page.goto(`${dev.url}/access`);
    const revoke = page.getByRole('button', { name: `Revoke ${CREDENTIAL_NAME}` });
    await revoke.waitFor();
    // A fresh gateway token (logout first: the SDK would reuse one about to expire in its eyes).
    await s.authSession.logout();
    await s.ok(s.me('id'));
    const token = heldToken(s);

    await revoke.click();
    await page.waitForURL(`${dev.url}/access`);
    expect(await page.locator('#credentials', { hasText: clientId }).count()).toBe(0);
    await screenshot(page, 'sdk-credential-revoked');

    // The token the SDK holds is refused as Looker would refuse it…
    const direct = await fetch(`${dev.url}/api/4.0/user`, { headers: { authorization: `Bearer ${token}` } });
    expect(direct.status).toBe(401);
    expect(((await direct.json()) as { message: string }).message).toBe('Requires authentication.');
    // …and the SDK's next call fails: with that refusal while it still believes in its token (5 s in
    // its eyes), or with a wrong key's 404 when a slow machine let the token age and it logs in again.
    await expect(s.ok(s.me('id'))).rejects.toThrow(/Requires authentication\.|Not found/);

    // A new SDK instance cannot log in: the 404 Looker gives a wrong API key.
    const fresh = iniSdk();
    await expect(fresh.ok(fresh.me('id'))).rejects.toThrow('Not found');
    await eventually('a credential_login_refused line', () =>
      dev.events('credential_login_refused', { clientId }).length > 0 ? true : undefined,
    );
    expect(dev.events('credential_revoked').length).toBeGreaterThan(0);
  });

  it("the gateway's log holds neither the secret nor the SDK's tokens", () => {
    const output = dev.output();
    expect(output).not.toContain(theCredential().clientSecret);
    expect(tokensSeen.size).toBeGreaterThan(2);
    for (const token of tokensSeen) expect(output).not.toContain(token);
    expect(issuedSecretsIn(output)).toEqual([]);
  });
});
