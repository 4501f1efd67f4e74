/**
 * The gateway on Deno from scripts, as a person uses it: the real command line
 * (cli/looker-oauth-gateway.mjs, a child process) signs in on the loopback — the
 * fetch-driven person (test/node/person.ts) opens the address it printed and answers at
 * Looker and at the gateway — then the unmodified @looker/sdk-node works with the
 * looker.ini it wrote (me(), a POST, logout() ending that token only), `status` and
 * `token` work, and `logout` revokes the credential, after which the SDK's next call
 * fails. Then a device sign-in, its code typed at /device; and the consent page names the
 * device's connection, not an address the device claimed in a header.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Looker40SDK } from '@looker/sdk';
import { LookerNodeSDK, NodeSession, NodeSettingsIniFile } from '@looker/sdk-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Person } from '../node/person.ts';
import { Commands, DEVICE_PROMPT, type IniCredential, LOGIN_TIMEOUT_SECONDS, printedAddress, readIniSection, REPOSITORY_CLI } from './cli-process.ts';
import { denoGateway, type DevGateway, haveDeno, quietSdkDebugNoise } from './harness.ts';

const CREDENTIAL_NAME = 'deno-laptop';

describe.skipIf(!haveDeno)('the gateway on Deno: the command line and the unmodified Looker SDK', () => {
  let gateway: DevGateway;
  let work: string;
  let restoreConsole: (() => void) | undefined;
  const commands = new Commands(() => work);
  const cli = (args: string[]) => commands.start(process.execPath, REPOSITORY_CLI, args);
  const ini = () => join(work, 'looker.ini');
  let saved: IniCredential | undefined;
  /** An SDK that logged in with the credential and still holds a live token when the credential is revoked. */
  let survivor: Looker40SDK | undefined;

  beforeAll(() => {
    gateway = denoGateway();
    restoreConsole = quietSdkDebugNoise();
    work = mkdtempSync(join(tmpdir(), 'lgw-deno-cli-'));
  });

  afterEach(async () => {
    await commands.stopAll();
  });

  afterAll(() => {
    restoreConsole?.();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  const theCredential = () => {
    if (saved?.clientId === undefined || saved.clientSecret === undefined) throw new Error('No credential: the login test failed.');
    return { clientId: saved.clientId, clientSecret: saved.clientSecret };
  };
  const iniSdk = () => LookerNodeSDK.init40(new NodeSettingsIniFile('', ini(), 'Looker'));
  const heldToken = (sdk: Looker40SDK): string => {
    // init40 always builds a NodeSession; the interface type hides its token.
    if (!(sdk.authSession instanceof NodeSession)) throw new Error('init40 did not build a NodeSession');
    return sdk.authSession.activeToken.access_token;
  };
  const user = (token: string) => fetch(`${gateway.url}/api/4.0/user?fields=id,display_name`, { headers: { authorization: `Bearer ${token}` } });

  it('login --no-open: the printed address, Looker, Allow; looker.ini holds the credential (0600)', async () => {
    const command = cli(['login', gateway.url, '--no-open', '--ini', ini(), '--name', CREDENTIAL_NAME, '--timeout', String(LOGIN_TIMEOUT_SECONDS)]);
    const address = new URL(await printedAddress(command));
    expect(address.origin).toBe(gateway.url);
    expect(new URL(address.searchParams.get('redirect_uri')!).hostname).toBe('127.0.0.1');
    expect((await new Person().signIn(address.href)).body).toContain('You can close this tab');

    const { code, stdout, stderr } = await command.finished;
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: '', stderr: expect.stringContaining(`Signed in to ${gateway.url} as Dana Demo <dana.demo@example.com> (Looker user 42).`) });
    saved = readIniSection(ini(), 'Looker');
    expect(saved).toEqual({ baseUrl: gateway.url, clientId: expect.stringMatching(/^lgwc_/), clientSecret: expect.stringMatching(/^lgws_/) });
    expect(stderr).not.toContain(saved.clientSecret);
    expect(statSync(ini()).mode & 0o777).toBe(0o600);
  });

  it('the unmodified SDK with that looker.ini: me() is the Looker user, a POST works, and logout() ends that token only', async () => {
    theCredential();
    const sdk = iniSdk();
    expect(await sdk.ok(sdk.me('id,display_name,email'))).toEqual({ id: '42', display_name: 'Dana Demo', email: 'dana.demo@example.com' });
    const query = await sdk.ok(sdk.create_query({ model: 'thelook', view: 'orders', fields: ['orders.count'] }));
    expect(query).toMatchObject({ id: expect.stringMatching(/^\d+$/), model: 'thelook', view: 'orders', fields: ['orders.count'] });
    // Read back through the API: the POST reached Looker with its JSON body intact.
    expect(await sdk.ok(sdk.query(query.id!))).toMatchObject({ id: query.id, model: 'thelook', view: 'orders' });

    // A second process with the same credential holds a token of its own.
    survivor = iniSdk();
    await survivor.ok(survivor.me('id'));
    const ended = heldToken(sdk);
    const kept = heldToken(survivor);
    expect(kept).not.toBe(ended);

    expect(await sdk.authSession.logout()).toBe(true);
    expect(sdk.authSession.isAuthenticated()).toBe(false);
    const refused = await user(ended);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ message: 'Requires authentication.' });
    expect((await user(kept)).status).toBe(200);
    // The credential itself lives on: the SDK's next call logs in again.
    expect(await sdk.ok(sdk.me('id'))).toEqual({ id: '42' });
    expect(heldToken(sdk)).not.toBe(ended);
  });

  it("status, token, then logout revokes the credential: the SDK's next call fails, and so does a new login", async () => {
    const { clientId } = theCredential();
    const status = await cli(['status', '--ini', ini()]).finished;
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`Signed in to ${gateway.url} as Dana Demo <dana.demo@example.com> (Looker user 42) with credential "${CREDENTIAL_NAME}" (${clientId})`);

    const token = await cli(['token', '--ini', ini()]).finished;
    expect(token).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\S+\n$/) });
    const bearer = token.stdout.trim();
    expect(await (await user(bearer)).json()).toEqual({ id: '42', display_name: 'Dana Demo' });

    const logout = await cli(['logout', '--ini', ini()]).finished;
    expect(logout.code).toBe(0);
    expect(logout.stderr).toContain(`Revoked the credential ${clientId}`);
    expect((await user(bearer)).status).toBe(401);

    // The SDK still holds a token it believes in: the gateway refuses it as Looker would…
    if (survivor === undefined) throw new Error('No SDK: the SDK test failed.');
    await expect(survivor.ok(survivor.me('id'))).rejects.toThrow('Requires authentication.');
    // …and a new SDK cannot log in: the 404 Looker gives a wrong API key. (logout took the credential
    // out of looker.ini: this SDK is given the revoked one in a file of its own.)
    const revokedIni = join(work, 'revoked.ini');
    writeFileSync(revokedIni, `[Looker]\nbase_url=${gateway.url}\nclient_id=${clientId}\nclient_secret=${theCredential().clientSecret}\nverify_ssl=false\n`, { mode: 0o600 });
    const fresh = LookerNodeSDK.init40(new NodeSettingsIniFile('', revokedIni, 'Looker'));
    await expect(fresh.ok(fresh.me('id'))).rejects.toThrow('Not found');
  });

  it('login --device: the code typed at /device, Looker, Allow; the command collects the credential', async () => {
    const deviceIni = join(work, 'device.ini');
    const command = cli(['login', gateway.url, '--device', '--ini', deviceIni, '--name', 'deno-device']);
    const [, verificationUri, userCode] = await command.waitForStderr(DEVICE_PROMPT);
    expect(verificationUri).toBe(`${gateway.url}/device`);
    const done = await new Person().allowDevice(gateway.url, userCode!.toLowerCase().replace('-', ' '));
    expect(done.body).toContain('“deno-device” is signed in');

    // Collected at the command's next poll (every second on this gateway).
    const { code, stderr } = await command.finished;
    expect({ code, stderr }).toEqual({ code: 0, stderr: expect.stringContaining(`Signed in to ${gateway.url} as Dana Demo`) });
    const device = readIniSection(deviceIni, 'Looker');
    expect(device).toEqual({ baseUrl: gateway.url, clientId: expect.stringMatching(/^lgwc_/), clientSecret: expect.stringMatching(/^lgws_/) });
    const sdk = LookerNodeSDK.init40(new NodeSettingsIniFile('', deviceIni, 'Looker'));
    expect(await sdk.ok(sdk.me('id'))).toEqual({ id: '42' });
    await sdk.authSession.logout();
  });

  it("a device's consent page names its connection's address, not one it claimed in X-Forwarded-For; Deny ends its polling", async () => {
    const started = await fetch(`${gateway.url}/cli/device/code`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.9' },
      body: new URLSearchParams({ name: 'deno-claims-elsewhere' }),
    });
    expect(started.status).toBe(200);
    const { device_code: deviceCode, user_code: userCode } = (await started.json()) as { device_code: string; user_code: string };

    const person = new Person();
    const atLooker = await person.submit(await person.open(`${gateway.url}/device`), 'Continue', { user_code: userCode });
    const consent = await person.submit(atLooker, 'Allow');
    expect(consent.url).toMatch(new RegExp(`^${gateway.url}/cli/consent/`));
    const requestedFrom = /<dd id="requested-from">([^<]*)<\/dd>/.exec(consent.body)?.[1];
    expect(requestedFrom).toBe('this computer (127.0.0.1)');
    expect(consent.body).not.toContain('203.0.113.9');
    expect(await person.submit(consent, 'Deny')).toMatchObject({ status: 200, body: expect.stringMatching(/<h1[^>]*>Denied<\/h1>/) });

    const poll = await fetch(`${gateway.url}/cli/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode }),
    });
    expect(poll.status).toBe(400);
    expect(await poll.json()).toMatchObject({ error: 'access_denied' });
  });
});
