/**
 * `looker-oauth-gateway login --device` (RFC 8628) in-process against the real gateway:
 * what it tells the person (the address and the code to type, never a link with the code
 * in it), how it polls (and slows down when the gateway says so), and how it ends. Its
 * sleeps are the test's: nothing waits for real.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliFixture, DEVICE_PROMPT, jsonAnswer, localDate, withCliEachTest } from './cli-harness.ts';

let cli: CliFixture;

withCliEachTest((fixture) => {
  cli = fixture;
});

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

function polls() {
  return cli.requestsTo('POST', '/cli/token');
}

/** What POST /cli/device/code answered. */
function deviceGrant(): { device_code: string; user_code: string; interval: number; expires_in: number } {
  const [answer] = cli.requestsTo('POST', '/cli/device/code');
  return answer?.json as { device_code: string; user_code: string; interval: number; expires_in: number };
}

/** At the command's n-th sleep, the person types the code and answers. */
function personAnswersAt(n: number, running: { waitForStderr(p: RegExp): Promise<RegExpMatchArray> }, atGateway: 'Allow' | 'Deny' = 'Allow') {
  cli.onSleep = async (count) => {
    if (count !== n) return;
    const [, , userCode = ''] = await running.waitForStderr(DEVICE_PROMPT);
    const page = await cli.person.allowDevice(cli.gateway, userCode, 'Allow', atGateway);
    expect(page.status).toBe(200);
  };
}

describe('login --device', () => {
  it('shows the address and the code to type, polls while pending, slows down when told, and writes the credential', async () => {
    const opened: string[] = [];
    const running = cli.start(['login', cli.gateway, '--device', '--name', 'build-server'], { openBrowser: (url) => opened.push(url) });
    // Poll 1 is pending, poll 2 comes at once (the test's sleep) and gets slow_down; the person allows before poll 3.
    personAnswersAt(3, running);
    const exit = await running.exit;

    expect(exit.code).toBe(0);
    const grant = deviceGrant();
    expect(exit.stderr).toContain(`Open ${cli.gateway}/device in a browser where you can sign in, and enter the code ${grant.user_code}`);
    expect(exit.stderr).toContain('it looks like XXXX-XXXX');
    // Never a link with the code in it, whether or not the gateway sends one; no browser opened.
    expect(exit.stderr).not.toContain('user_code=');
    expect(opened).toEqual([]);
    expect(cli.requestsTo('POST', '/cli/device/code')[0]?.form.get('name')).toBe('build-server');

    expect(polls().map((p) => (p.json as { error?: string }).error)).toEqual(['authorization_pending', 'slow_down', undefined]);
    for (const poll of polls()) {
      expect(poll.form.get('grant_type')).toBe(DEVICE_GRANT);
      expect(poll.form.get('device_code')).toBe(grant.device_code);
    }
    // The gateway's interval before each poll, and 5 s more after slow_down.
    expect(cli.sleeps).toEqual([grant.interval * 1000, grant.interval * 1000, (grant.interval + 5) * 1000]);

    const credential = cli.issuedThroughToken();
    expect(credential.name).toBe('build-server');
    expect(readFileSync(join(cli.cwd, 'looker.ini'), 'utf8')).toBe(
      `[Looker]\nbase_url=${cli.gateway}\nclient_id=${credential.clientId}\nclient_secret=${credential.clientSecret}\nverify_ssl=true\n`,
    );
    expect(exit.stderr).toContain(`Signed in to ${cli.gateway}`);
    expect(exit.stderr).not.toContain(credential.clientSecret);
    expect(cli.requestsTo('GET', '/cli/authorize')).toHaveLength(0);
  });

  it('ignores a verification_uri_complete, should a gateway send one', async () => {
    cli.intercept = async (request, forward) => {
      const answer = await forward();
      if (request.path !== '/cli/device/code') return answer;
      const body = (await answer.json()) as Record<string, unknown>;
      return jsonAnswer(answer.status, { ...body, verification_uri_complete: `${cli.gateway}/device?user_code=${String(body.user_code)}` });
    };
    const opened: string[] = [];
    const running = cli.start(['login', cli.gateway, '--device', '--print-env'], { openBrowser: (url) => opened.push(url) });
    personAnswersAt(2, running);
    const exit = await running.exit;
    expect(exit.code).toBe(0);
    expect(exit.stderr).toMatch(DEVICE_PROMPT);
    expect(exit.stderr).not.toContain('user_code=');
    expect(opened).toEqual([]);
  });

  it('names the credential after the host, "device" and the date by default', async () => {
    cli.clock = Date.parse('2026-12-02T12:00:00Z');
    const running = cli.start(['login', cli.gateway, '--device', '--print-env']);
    personAnswersAt(2, running);
    const exit = await running.exit;
    expect(exit.code).toBe(0);
    const name = `${hostname()} · device · ${localDate(cli.clock)}`;
    expect(cli.requestsTo('POST', '/cli/device/code')[0]?.form.get('name')).toBe(name);
    expect(cli.issuedThroughToken().name).toBe(name);
    expect(exit.stderr).toContain(`The credential "${name}"`);
  });

  it('gives up when the code expires while still pending', async () => {
    cli.onSleep = (count) => {
      // Before the second poll, the code's ten minutes have passed on the command's clock.
      if (count === 2) cli.clock += deviceGrant().expires_in * 1000;
    };
    const exit = await cli.run(['login', cli.gateway, '--device']);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('The code expired; run login again.');
    expect(polls()).toHaveLength(1);
    expect(existsSync(join(cli.cwd, 'looker.ini'))).toBe(false);
  });

  it('stops when the gateway says the code expired', async () => {
    // The gateway answers expired_token for a device code it does not know (expired, or used already).
    cli.intercept = (request, forward) =>
      request.path === '/cli/token' ? forward(new URLSearchParams({ grant_type: DEVICE_GRANT, device_code: 'lgwd_unknown' })) : forward();
    const exit = await cli.run(['login', cli.gateway, '--device']);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('The code expired; run login again.');
    expect(polls()).toHaveLength(1);
    expect((polls()[0]?.json as { error: string }).error).toBe('expired_token');
  });

  it('stops when the person denies access', async () => {
    const running = cli.start(['login', cli.gateway, '--device']);
    personAnswersAt(2, running, 'Deny');
    const exit = await running.exit;
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('You chose Deny in the browser');
    expect(polls().map((p) => (p.json as { error?: string }).error)).toEqual(['authorization_pending', 'access_denied']);
    expect(existsSync(join(cli.cwd, 'looker.ini'))).toBe(false);
  });

  it('keeps polling through a dropped connection', async () => {
    let dropped = false;
    cli.intercept = (request, forward) => {
      if (request.path === '/cli/token' && !dropped) {
        dropped = true;
        throw new TypeError('fetch failed', { cause: new Error('other side closed') });
      }
      return forward();
    };
    const running = cli.start(['login', cli.gateway, '--device', '--print-env']);
    personAnswersAt(2, running);
    const exit = await running.exit;
    expect(exit.code).toBe(0);
    expect(exit.stderr).toContain(`Could not reach ${cli.gateway}: other side closed; trying again until the code expires.`);
    expect(polls()).toHaveLength(2);
    expect(exit.stdout).toContain(`export LOOKERSDK_CLIENT_SECRET='${cli.issuedThroughToken().clientSecret}'`);
    expect(existsSync(join(cli.cwd, 'looker.ini'))).toBe(false);
  });

  it('waits 5 seconds between polls when the gateway names no interval', async () => {
    cli.intercept = async (request, forward) => {
      const answer = await forward();
      if (request.path !== '/cli/device/code') return answer;
      const { interval: _dropped, ...body } = (await answer.json()) as Record<string, unknown>;
      return jsonAnswer(answer.status, body);
    };
    const running = cli.start(['login', cli.gateway, '--device']);
    personAnswersAt(1, running);
    const exit = await running.exit;
    expect(exit.code).toBe(0);
    expect(cli.sleeps).toEqual([5000]);
  });

  it('follows the interval the gateway names, at least 1 s', async () => {
    cli.intercept = async (request, forward) => {
      const answer = await forward();
      if (request.path !== '/cli/device/code') return answer;
      return jsonAnswer(answer.status, { ...((await answer.json()) as Record<string, unknown>), interval: 0 });
    };
    const running = cli.start(['login', cli.gateway, '--device']);
    personAnswersAt(1, running);
    expect((await running.exit).code).toBe(0);
    expect(cli.sleeps).toEqual([1000]);
  });

  it('--read-only sends scope=looker:read with the device code request; the credential is read-only', async () => {
    const running = cli.start(['login', cli.gateway, '--device', '--read-only', '--name', 'reports']);
    personAnswersAt(1, running);
    const exit = await running.exit;
    expect(exit.code).toBe(0);
    const [request] = cli.requestsTo('POST', '/cli/device/code');
    expect(request?.form.get('scope')).toBe('looker:read');
    expect(request?.form.get('name')).toBe('reports');
    const issued = cli.requestsTo('POST', '/cli/token').find((r) => r.status === 200)!.json as { scope: string };
    expect(issued.scope).toBe('looker:read');
    expect(exit.stderr).toContain('The read-only credential "reports"');
  });

  it('refuses options that only mean something to the browser sign-in', async () => {
    const exit = await cli.run(['login', cli.gateway, '--device', '--timeout', '10']);
    expect(exit.code).toBe(2);
    expect(cli.requests).toHaveLength(0);
  });
});
