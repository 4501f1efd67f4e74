/**
 * `looker-oauth-gateway login --device` (RFC 8628) as a process against a fake gateway:
 * what it tells the person, how it polls (and slows down), and how it ends.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type FakeGateway, runCli, withFakeGatewayEachTest, USER_CODE } from './cli-harness.ts';

let gateway: FakeGateway;
let cwd: string;

withFakeGatewayEachTest((g, dir) => {
  gateway = g;
  cwd = dir;
});

function polls() {
  return gateway.requestsTo('POST', '/cli/token');
}

describe('login --device', () => {
  it('shows the address and code, polls while pending, slows down when told, and writes the credential', async () => {
    gateway.device = { steps: ['pending', 'slow_down', 'success'], expiresIn: 120, interval: 1 };
    const exit = await runCli(['login', gateway.url, '--device', '--name', 'build-server'], { cwd });

    expect(exit.code).toBe(0);
    expect(exit.stderr).toContain(
      `Open ${gateway.url}/cli/device in a browser where you can sign in, and enter the code ${USER_CODE}`,
    );
    expect(exit.stderr).toContain(`${gateway.url}/cli/device?user_code=${USER_CODE}`);
    expect(gateway.requestsTo('POST', '/cli/device/code')[0]?.form.get('name')).toBe('build-server');

    const [first, second, third] = polls();
    expect(polls()).toHaveLength(3);
    for (const poll of polls()) {
      expect(poll.form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:device_code');
      expect(poll.form.get('device_code')).toBe('device-code-1');
    }
    // interval 1 s between the first polls; 1 + 5 s after slow_down.
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
    expect(second!.at - first!.at).toBeLessThan(4000);
    expect(third!.at - second!.at).toBeGreaterThanOrEqual(5950);

    const credential = gateway.issuedThroughToken();
    expect(readFileSync(join(cwd, 'looker.ini'), 'utf8')).toBe(
      `[Looker]\nbase_url=${gateway.url}\nclient_id=${credential.clientId}\nclient_secret=${credential.clientSecret}\nverify_ssl=true\n`,
    );
    expect(exit.stderr).toContain('Signed in to');
    expect(gateway.requestsTo('GET', '/cli/authorize')).toHaveLength(0);
  }, 30_000);

  it('gives up when the code expires while still pending', async () => {
    gateway.device = { steps: [], expiresIn: 2, interval: 1 };
    const started = Date.now();
    const exit = await runCli(['login', gateway.url, '--device'], { cwd });
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('The code expired; run login again.');
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(polls().length).toBeGreaterThanOrEqual(1);
    expect(polls().length).toBeLessThanOrEqual(2);
    expect(existsSync(join(cwd, 'looker.ini'))).toBe(false);
  });

  it('stops when the gateway says the code expired', async () => {
    gateway.device = { steps: ['pending', 'expired_token'], expiresIn: 600, interval: 1 };
    const exit = await runCli(['login', gateway.url, '--device'], { cwd });
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('The code expired; run login again.');
    expect(polls()).toHaveLength(2);
  });

  it('stops when the person denies access', async () => {
    gateway.device = { steps: ['access_denied'], expiresIn: 600, interval: 1 };
    const exit = await runCli(['login', gateway.url, '--device'], { cwd });
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('You chose Deny in the browser');
    expect(existsSync(join(cwd, 'looker.ini'))).toBe(false);
  });

  it('keeps polling through a dropped connection', async () => {
    gateway.device = { steps: ['drop', 'success'], expiresIn: 600, interval: 1 };
    const exit = await runCli(['login', gateway.url, '--device', '--print-env'], { cwd });
    expect(exit.code).toBe(0);
    expect(exit.stderr).toContain(`Could not reach ${gateway.url}`);
    expect(exit.stderr).toContain('trying again until the code expires');
    expect(polls()).toHaveLength(2);
    expect(exit.stdout).toContain(`export LOOKERSDK_CLIENT_SECRET='${gateway.issuedThroughToken().clientSecret}'`);
    expect(existsSync(join(cwd, 'looker.ini'))).toBe(false);
  });

  it('waits 5 seconds between polls when the gateway names no interval', async () => {
    gateway.device = { steps: ['success'], expiresIn: 600, interval: undefined };
    const exit = await runCli(['login', gateway.url, '--device'], { cwd });
    expect(exit.code).toBe(0);
    const [codeRequest] = gateway.requestsTo('POST', '/cli/device/code');
    expect(polls()[0]!.at - codeRequest!.at).toBeGreaterThanOrEqual(4950);
  }, 20_000);

  it('refuses options that only mean something to the browser sign-in', async () => {
    const exit = await runCli(['login', gateway.url, '--device', '--timeout', '10'], { cwd });
    expect(exit.code).toBe(2);
    expect(gateway.requests).toHaveLength(0);
  });
});
