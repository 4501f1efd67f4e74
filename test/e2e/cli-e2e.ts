/**
 * The command line end to end: the real `looker-oauth-gateway` process, the gateway and
 * the Looker simulator from `npm run dev`, and a person — the loopback sign-in (the printed
 * address, and $BROWSER opening it), status, token, logout, the device sign-in, and Deny.
 * The repository's copy runs all of it on this Node; the copy the gateway serves at
 * /cli.mjs (byte for byte the same file) runs a smoke subset — the loopback sign-in,
 * status, token and logout — on the system's Node 20 when there is one.
 *
 * Chromium plays the person where the browser itself is under test: the loopback sign-in
 * (the consent page's CSP must let its form redirect to the command's loopback) and the
 * device sign-in (the code typed into the real form). Elsewhere — $BROWSER, the served
 * copy's smoke run, every Deny — what is under test is the command, and a fetch-driven
 * person (test/node/person.ts) plays the part at a fraction of the cost: each Chromium
 * page costs about two CPU-seconds on this two-core machine.
 * Everything else the command does is tested in-process in test/node/cli-*.test.ts.
 *
 * Two test files run the two parts (cli-loopback.e2e.test.ts, cli-device.e2e.test.ts), so
 * that they run side by side against the run's shared gateway. Starting the command and
 * reading what it wrote is cli-process.ts's, shared with the gateway on Deno's test.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LookerNodeSDK, NodeSettingsIniFile } from '@looker/sdk-node';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Person } from '../node/person.ts';
import { type Command, Commands, DEVICE_PROMPT, LOGIN_TIMEOUT_SECONDS, printedAddress, readIniSection, REPOSITORY_CLI } from './cli-process.ts';
import {
  answerAtGateway,
  answerAtLooker,
  type DevGateway,
  eventually,
  haveChromium,
  issuedSecretsIn,
  launchChromium,
  quietSdkDebugNoise,
  screenshot,
  sharedDevGateway,
  warnIfNoChromium,
} from './harness.ts';

/** The system's Node 20 (the oldest the served copy promises to run on), if the machine has one. */
function systemNode20(): { path: string; version: string } | undefined {
  for (const path of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(path)) continue;
    try {
      const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
      if (version.startsWith('v20.')) return { path, version };
    } catch {
      // not a working node
    }
  }
  return undefined;
}
const NODE_20 = systemNode20();

interface Runner {
  label: string;
  node: string;
  /** Whether it runs every test, or the smoke subset only. */
  full: boolean;
  /** The script to run; the served copy exists only once the gateway is up. */
  script: () => string;
}

/** The loopback sign-in, status, token and logout (and the served copy's smoke run); or the device sign-in and every Deny. */
export type Part = 'loopback' | 'device and deny';

/** `it` for the tests of this part; the others are not declared at all (rather than reported as skipped). */
function when(included: boolean): typeof it {
  if (included) return it;
  const none = Object.assign(() => {}, { each: () => () => {} });
  return none as unknown as typeof it; // only ever called as when(…)(name, fn) or when(…).each(table)(name, fn)
}

export function cliEndToEnd(part: Part): void {
  warnIfNoChromium(`the command line test (${part})`);
  describe.skipIf(!haveChromium)(`the command line end to end: ${part}`, () => {
    let dev: DevGateway;
    let browser: Browser;
    let work: string;
    let servedCopy: string | undefined;
    const commands = new Commands(() => work);
    let restoreConsole: (() => void) | undefined;

    beforeAll(async () => {
      restoreConsole = quietSdkDebugNoise();
      dev = sharedDevGateway();
      browser = await launchChromium();
      work = mkdtempSync(join(tmpdir(), 'lgw-cli-e2e-'));
      // As the README tells a person without a clone: download the gateway's copy and run it with plain node.
      const answer = await fetch(`${dev.url}/cli.mjs`);
      expect(answer.status).toBe(200);
      servedCopy = join(work, 'lgw.mjs');
      writeFileSync(servedCopy, await answer.text());
    });

    afterEach(async () => {
      // A failed test may leave a command waiting for a browser: end it.
      await commands.stopAll();
    });

    afterAll(async () => {
      restoreConsole?.();
      await browser?.close();
      if (work !== undefined) rmSync(work, { recursive: true, force: true });
    });

    /** The command ended because the person chose Deny: exit 1, says so, and wrote nothing. */
    async function expectDenied(command: Command, ini: string): Promise<void> {
      const { code, stderr } = await command.finished;
      expect(code).toBe(1);
      expect(stderr).toContain('You chose Deny in the browser; nothing was written.');
      expect(existsSync(ini)).toBe(false);
    }

    const start = (runner: Runner, args: string[], env: Record<string, string> = {}): Command => commands.start(runner.node, runner.script(), args, env);

    const run = (runner: Runner, args: string[]) => start(runner, args).finished;

    /** The person's part of a loopback sign-in: Looker's consent, then the gateway's, then the command's own page. */
    async function signInInBrowser(page: Page, address: string, name: string, decision: 'Allow' | 'Deny') {
      await page.goto(address);
      await answerAtLooker(page, dev);
      await page.waitForURL((url) => url.pathname.startsWith('/cli/consent/'));
      expect(await page.textContent('#credential-name')).toBe(name);
      expect(await page.textContent('main')).toContain('on this computer');
      await answerAtGateway(page, dev, decision);
      // The form's answer is a redirect to the command's loopback: the consent page's CSP must allow it.
      await page.waitForURL((url) => url.hostname === '127.0.0.1' && url.pathname === '/callback');
    }

    const runners: Runner[] = [
      { label: `cli/ on Node ${process.version}`, node: process.execPath, full: true, script: () => REPOSITORY_CLI },
      {
        // Without a system Node 20 the served copy still runs, on this Node.
        label: `GET /cli.mjs on Node ${NODE_20?.version ?? process.version} (smoke)`,
        node: NODE_20?.path ?? process.execPath,
        full: false,
        script: () => {
          if (servedCopy === undefined) throw new Error('The served copy was not downloaded.');
          return servedCopy;
        },
      },
    ];

    when(part === 'loopback')('GET /cli.mjs serves the command line itself, which runs on the Node it finds', async () => {
      expect(readFileSync(servedCopy!, 'utf8')).toBe(readFileSync(REPOSITORY_CLI, 'utf8'));
      for (const runner of runners) {
        const { code, stdout } = await run(runner, ['--version']);
        expect({ code, stdout }).toEqual({ code: 0, stdout: expect.stringMatching(/^looker-oauth-gateway \d+\.\d+\.\d+\n$/) });
      }
    });

    const used = runners.map((runner, index) => ({ ...runner, dir: `runner-${index}` })).filter((runner) => part === 'loopback' || runner.full);
    describe.each(used)('$label', (runner) => {
      const dir = () => {
        const path = join(work, runner.dir);
        mkdirSync(path, { recursive: true });
        return path;
      };
      const ini = () => join(dir(), 'looker.ini');

      when(part === 'loopback')(`login --no-open: the printed address in ${runner.full ? 'Chromium' : 'a browser'}, Looker, Allow; looker.ini holds the credential (0600)`, async () => {
        // A file of the person's own, readable by others: the command keeps their section and tightens the mode.
        writeFileSync(ini(), '; my settings\n[Other]\nbase_url=https://elsewhere.example.com\n', { mode: 0o644 });
        chmodSync(ini(), 0o644);
        const command = start(runner, ['login', dev.url, '--no-open', '--ini', ini(), '--name', 'e2e-laptop', '--timeout', String(LOGIN_TIMEOUT_SECONDS)]);
        const address = new URL(await printedAddress(command));
        expect(address.origin).toBe(dev.url);
        const redirectUri = new URL(address.searchParams.get('redirect_uri')!);
        expect({ host: redirectUri.hostname, path: redirectUri.pathname, method: address.searchParams.get('code_challenge_method') }).toEqual({
          host: '127.0.0.1',
          path: '/callback',
          method: 'S256',
        });

        if (runner.full) {
          const context = await browser.newContext();
          const page = await context.newPage();
          await signInInBrowser(page, address.href, 'e2e-laptop', 'Allow');
          expect(await page.textContent('body')).toContain('You can close this tab');
          await screenshot(page, `cli-loopback-done-${runner.dir}`);
          await context.close();
        } else {
          expect((await new Person().signIn(address.href)).body).toContain('You can close this tab');
        }

        const { code, stdout, stderr } = await command.finished;
        expect({ code, stderr }).toEqual({ code: 0, stderr: expect.stringContaining(`Signed in to ${dev.url} as Dana Demo <dana.demo@example.com> (Looker user 42).`) });
        expect(stdout).toBe('');
        const saved = readIniSection(ini(), 'Looker');
        expect(saved).toEqual({ baseUrl: dev.url, clientId: expect.stringMatching(/^lgwc_/), clientSecret: expect.stringMatching(/^lgws_/) });
        expect(stderr).not.toContain(saved.clientSecret);
        expect(statSync(ini()).mode & 0o777).toBe(0o600);
        expect(readIniSection(ini(), 'Other').baseUrl).toBe('https://elsewhere.example.com');

        // The point of it all: an unmodified SDK signs in with what the command wrote.
        const sdk = LookerNodeSDK.init40(new NodeSettingsIniFile('', ini(), 'Looker'));
        expect(await sdk.ok(sdk.me('id,display_name'))).toEqual({ id: '42', display_name: 'Dana Demo' });
        await sdk.authSession.logout();
      });

      when(part === 'loopback')('status, token and logout with what login wrote', async () => {
        const saved = readIniSection(ini(), 'Looker');
        if (saved.clientId === undefined || saved.clientSecret === undefined) throw new Error('No credential: the login test failed.');

        const status = await run(runner, ['status', '--ini', ini()]);
        expect(status.code).toBe(0);
        expect(status.stdout).toContain(`Signed in to ${dev.url} as Dana Demo <dana.demo@example.com> (Looker user 42) with credential "e2e-laptop" (${saved.clientId})`);

        const token = await run(runner, ['token', '--ini', ini()]);
        expect(token.code).toBe(0);
        expect(token.stdout).toMatch(/^\S+\n$/);
        const user = await fetch(`${dev.url}/api/4.0/user?fields=id,display_name`, { headers: { authorization: `Bearer ${token.stdout.trim()}` } });
        expect(user.status).toBe(200);
        expect(await user.json()).toEqual({ id: '42', display_name: 'Dana Demo' });

        const logout = await run(runner, ['logout', '--ini', ini()]);
        expect(logout.code).toBe(0);
        expect(logout.stderr).toContain(`Revoked the credential ${saved.clientId}`);
        // The credential no longer logs in (Looker's answer to a wrong API key)…
        const login = await fetch(`${dev.url}/api/4.0/login`, {
          method: 'POST',
          body: new URLSearchParams({ client_id: saved.clientId, client_secret: saved.clientSecret }),
        });
        expect(login.status).toBe(404);
        // …nor does the token the command printed, and the file keeps only what the person wrote.
        expect((await fetch(`${dev.url}/api/4.0/user`, { headers: { authorization: `Bearer ${token.stdout.trim()}` } })).status).toBe(401);
        const left = readFileSync(ini(), 'utf8');
        expect(left).not.toContain(saved.clientId);
        expect(left).not.toContain(saved.clientSecret);
        expect(left).toContain('[Other]');

        const after = await run(runner, ['status', '--ini', ini()]);
        expect(after.code).toBe(1);
        expect(after.stderr).toContain('Not signed in');
      });

      when(part === 'loopback' && runner.full)('login with $BROWSER set: the command opens the address itself', async () => {
        const opened = join(dir(), 'opened-url');
        const fakeBrowser = join(dir(), 'browser.sh');
        // A browser as $BROWSER names one: a command given the address as its last argument.
        writeFileSync(fakeBrowser, `#!/bin/sh\nprintf '%s\\n' "$1" > '${opened}.tmp' && mv '${opened}.tmp' '${opened}'\n`, { mode: 0o755 });
        const browserIni = join(dir(), 'browser.ini');
        const command = start(runner, ['login', dev.url, '--ini', browserIni, '--name', 'e2e-browser', '--timeout', String(LOGIN_TIMEOUT_SECONDS)], {
          BROWSER: fakeBrowser,
        });
        const address = await eventually('the fake browser to be started', () => (existsSync(opened) ? readFileSync(opened, 'utf8').trim() : undefined));
        expect(await printedAddress(command)).toBe(address);

        expect((await new Person().signIn(address)).body).toContain('You can close this tab');

        const { code, stderr } = await command.finished;
        expect({ code, stderr }).toEqual({ code: 0, stderr: expect.stringContaining('Opening a browser') });
        expect(stderr).not.toContain('Could not open a browser');
        expect(readIniSection(browserIni, 'Looker').clientId).toMatch(/^lgwc_/);
      });

      when(part === 'device and deny')('login --device: the code typed at /device in Chromium, then Looker and Allow', async () => {
        const deviceIni = join(dir(), 'device.ini');
        const command = start(runner, ['login', dev.url, '--device', '--ini', deviceIni, '--name', 'e2e-device']);
        const match = await command.waitForStderr(DEVICE_PROMPT);
        const [, verificationUri, userCode] = match;
        expect(verificationUri).toBe(`${dev.url}/device`);
        // No address with the code in it: the person types the code this device shows.
        await command.waitForStderr(/Waiting for the sign-in/);
        expect((await command.waitForStderr(/[^]*/))[0]).not.toContain('user_code=');

        const context = await browser.newContext();
        const page = await context.newPage();
        await page.goto(verificationUri!);
        await page.getByRole('textbox', { name: 'Code' }).fill(userCode!.toLowerCase().replace('-', ' '));
        await page.getByRole('button', { name: 'Continue' }).click();
        await answerAtLooker(page, dev);
        await page.waitForURL((url) => url.pathname.startsWith('/cli/consent/'));
        expect(await page.textContent('#credential-name')).toBe('e2e-device');
        // The consent page says which code, from where and when; the name is the device's own choice.
        const consent = await page.textContent('main');
        expect(consent).toContain(userCode);
        expect(await page.textContent('#requested-from')).toBe('this computer (127.0.0.1)');
        expect(consent).toContain('a name the device chose');
        await answerAtGateway(page, dev, 'Allow');
        expect(await page.textContent('#done-message')).toContain('“e2e-device” is signed in');
        await screenshot(page, `cli-device-allowed-${runner.dir}`);
        await context.close();

        // The command collects the credential at its next poll (every second on this gateway).
        const { code, stderr } = await command.finished;
        expect({ code, stderr }).toEqual({ code: 0, stderr: expect.stringContaining(`Signed in to ${dev.url} as Dana Demo`) });
        const saved = readIniSection(deviceIni, 'Looker');
        expect(saved).toEqual({ baseUrl: dev.url, clientId: expect.stringMatching(/^lgwc_/), clientSecret: expect.stringMatching(/^lgws_/) });
        expect((await run(runner, ['status', '--ini', deviceIni])).stdout).toContain('with credential "e2e-device"');
      });

      when(part === 'device and deny')('Deny on the consent page: the command exits 1 and says so, and writes nothing', async () => {
        const deniedIni = join(dir(), 'denied.ini');
        const command = start(runner, ['login', dev.url, '--no-open', '--ini', deniedIni, '--name', 'e2e-denied', '--timeout', String(LOGIN_TIMEOUT_SECONDS)]);
        const last = await new Person().signIn(await printedAddress(command), 'Allow', 'Deny');
        expect(last.body).toContain('You chose Deny in the browser');

        await expectDenied(command, deniedIni);
      });

      when(part === 'device and deny')('Deny at Looker: the command is told at once, not left waiting for its timeout', async () => {
        const deniedIni = join(dir(), 'looker-denied.ini');
        const command = start(runner, ['login', dev.url, '--no-open', '--ini', deniedIni, '--name', 'e2e-looker-denied', '--timeout', String(LOGIN_TIMEOUT_SECONDS)]);
        const last = await new Person().signIn(await printedAddress(command), 'Deny');
        // The gateway passes Looker's answer on to the command's loopback (RFC 6749 §4.1.2.1).
        expect(new URL(last.url)).toMatchObject({ hostname: '127.0.0.1', pathname: '/callback' });
        expect(last.body).toContain('You chose Deny in the browser');

        await expectDenied(command, deniedIni);
      });

      when(part === 'device and deny').each(['the gateway', 'Looker'] as const)('Deny for a device at %s: its polling ends with exit 1', async (where) => {
        const deniedIni = join(dir(), 'device-denied.ini');
        const command = start(runner, ['login', dev.url, '--device', '--ini', deniedIni, '--name', 'e2e-device-denied']);
        const [, , userCode] = await command.waitForStderr(DEVICE_PROMPT);
        const last = await new Person().allowDevice(dev.url, userCode!, where === 'Looker' ? 'Deny' : 'Allow', where === 'Looker' ? 'Allow' : 'Deny');
        expect(new URL(last.url).origin).toBe(dev.url);
        expect(last.body).toMatch(/<h1[^>]*>Denied<\/h1>/);

        await expectDenied(command, deniedIni);
      });
    });

    it("the gateway's log holds none of the secrets, tokens or codes it issued", () => {
      expect(dev.events('credential_created').length).toBeGreaterThan(0);
      expect(issuedSecretsIn(dev.output())).toEqual([]);
    });
  });
}
