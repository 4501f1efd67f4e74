/**
 * `looker-oauth-gateway login` with the browser (RFC 8252 loopback redirect, PKCE), run as
 * a process against a fake gateway: what it asks the browser to open, how its loopback
 * server answers, what it writes to looker.ini, and every way a sign-in can fail.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  AUTHORIZE_URL,
  type FakeGateway,
  playBrowser,
  runCli,
  startCli,
  withFakeGatewayEachTest,
  USER,
  visit,
} from './cli-harness.ts';

let gateway: FakeGateway;
let cwd: string;

withFakeGatewayEachTest((g, dir) => {
  gateway = g;
  cwd = dir;
});

/** Starts `login --no-open`, plays the browser, and returns the finished run. */
async function signIn(extraArgs: string[] = [], env: Record<string, string | undefined> = {}) {
  const cli = startCli(['login', gateway.url, '--no-open', ...extraArgs], { cwd, env });
  const [url] = await cli.waitForStderr(AUTHORIZE_URL);
  const page = await playBrowser(url);
  const exit = await cli.exit;
  return { url: new URL(url), page, exit };
}

const python = spawnSync('python3', ['--version']).status === 0;

/**
 * The Python SDK reads looker.ini with configparser (strict: a duplicate key is an error;
 * % starts an interpolation), so the file must read back unchanged through it.
 */
function expectPythonReads(path: string, section: string, expected: Record<string, string>) {
  if (!python) return;
  const read = spawnSync('python3', ['-c', 'import configparser, json, sys\nc = configparser.ConfigParser()\nc.read_file(open(sys.argv[1]))\nprint(json.dumps(dict(c[sys.argv[2]])))', path, section], { encoding: 'utf8' });
  expect(read.stderr).toBe('');
  expect(JSON.parse(read.stdout)).toMatchObject(expected);
}

function mode(path: string) {
  return statSync(path).mode & 0o777;
}

describe('login through the browser', () => {
  it('asks for an S256 code on a 127.0.0.1 redirect, then writes a new looker.ini readable only by its owner', async () => {
    const { url, page, exit } = await signIn(['--name', 'laptop']);

    expect(`${url.origin}${url.pathname}`).toBe(`${gateway.url}/cli/authorize`);
    const params = url.searchParams;
    expect(params.get('response_type')).toBe('code');
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('state')).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(params.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(params.get('name')).toBe('laptop');

    expect(page.status).toBe(200);
    expect(page.body).toContain('You can close this tab');
    expect(page.headers.get('cache-control')).toBe('no-store');

    // The fake gateway only issues a credential if the verifier hashes to the challenge
    // and the redirect_uri is the one the code was issued for.
    const [token] = gateway.requestsTo('POST', '/cli/token');
    expect(token?.form.get('grant_type')).toBe('authorization_code');
    expect(token?.form.get('redirect_uri')).toBe(params.get('redirect_uri'));
    expect(token?.form.get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    const credential = gateway.issuedThroughToken();
    expect(credential.name).toBe('laptop');

    expect(exit.code).toBe(0);
    const ini = join(cwd, 'looker.ini');
    expect(readFileSync(ini, 'utf8')).toBe(
      `[Looker]\nbase_url=${gateway.url}\nclient_id=${credential.clientId}\nclient_secret=${credential.clientSecret}\nverify_ssl=true\n`,
    );
    expectPythonReads(ini, 'Looker', { base_url: gateway.url, client_id: credential.clientId, client_secret: credential.clientSecret, verify_ssl: 'true' });
    expect(mode(ini)).toBe(0o600);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toContain(`Signed in to ${gateway.url} as ${USER.display_name} <${USER.email}> (Looker user ${USER.id}).`);
    expect(exit.stderr).toMatch(/The credential "laptop" \(lgwc_\w+\) is valid until \d{4}-\d{2}-\d{2} \((89|90) days\)\./);
    expect(exit.stderr).toContain('Wrote base_url, client_id and client_secret to [Looker] of ./looker.ini.');
    expect(exit.stderr).not.toContain(credential.clientSecret);
    for (const request of gateway.requests) expect(request.url).not.toContain(credential.clientSecret);
  });

  it('names the credential after the host by default', async () => {
    const { url, exit } = await signIn();
    expect(exit.code).toBe(0);
    expect(url.searchParams.get('name')).toBe(hostname());
  });

  it('keeps the other sections, comments and keys of an existing file, replaces its keys in place, and tightens it to 0600', async () => {
    const ini = join(cwd, 'looker.ini');
    const old = gateway.issue('old laptop');
    const before = [
      '; Looker settings for this project',
      '[Production]',
      'base_url=https://looker.example.com:19999',
      'client_id=prod-id',
      'client_secret=prod-secret',
      '',
      '[Looker]',
      '# through the gateway',
      `base_url = ${gateway.url}`,
      `client_id = ${old.clientId}`,
      'timeout=300',
      `client_secret = "${old.clientSecret}"`,
      'verify_ssl = false',
      '',
      '# kept at the end',
      '',
    ].join('\n');
    writeFileSync(ini, before);
    chmodSync(ini, 0o644);

    const { exit } = await signIn();
    expect(exit.code).toBe(0);
    const now = gateway.issuedThroughToken();
    expect(readFileSync(ini, 'utf8')).toBe(
      [
        '; Looker settings for this project',
        '[Production]',
        'base_url=https://looker.example.com:19999',
        'client_id=prod-id',
        'client_secret=prod-secret',
        '',
        '[Looker]',
        '# through the gateway',
        `base_url=${gateway.url}`,
        `client_id=${now.clientId}`,
        'timeout=300',
        `client_secret=${now.clientSecret}`,
        'verify_ssl=true',
        '',
        '# kept at the end',
        '',
      ].join('\n'),
    );
    expect(mode(ini)).toBe(0o600);
    expectPythonReads(ini, 'Looker', { base_url: gateway.url, client_id: now.clientId, client_secret: now.clientSecret, timeout: '300' });
  });

  it('adds the keys a section lacks after its last key, and a missing section at the end', async () => {
    const ini = join(cwd, 'looker.ini');
    writeFileSync(ini, '[Looker]\ntimeout=60\n; about the next one\n[Other]\nx=1');
    const first = await signIn();
    expect(first.exit.code).toBe(0);
    const credential = gateway.issuedThroughToken();
    expect(readFileSync(ini, 'utf8')).toBe(
      `[Looker]\ntimeout=60\nbase_url=${gateway.url}\nclient_id=${credential.clientId}\nclient_secret=${credential.clientSecret}\n` +
        'verify_ssl=true\n; about the next one\n[Other]\nx=1\n',
    );

    const second = await signIn(['--section', 'Fresh']);
    expect(second.exit.code).toBe(0);
    expect(readFileSync(ini, 'utf8')).toMatch(/\nx=1\n\n\[Fresh\]\nbase_url=\S+\nclient_id=\S+\nclient_secret=\S+\nverify_ssl=true\n$/);
  });

  it('keeps Windows line endings', async () => {
    const ini = join(cwd, 'looker.ini');
    writeFileSync(ini, '[Other]\r\nx=1\r\n');
    const { exit } = await signIn();
    expect(exit.code).toBe(0);
    const text = readFileSync(ini, 'utf8');
    expect(text).toMatch(/^\[Other\]\r\nx=1\r\n\r\n\[Looker\]\r\nbase_url=/);
    expect(text.endsWith('verify_ssl=true\r\n')).toBe(true);
    expect(text.replace(/\r\n/g, '')).not.toContain('\n');
  });

  it('revokes the new credential again when looker.ini cannot be written', async () => {
    const { exit } = await signIn(['--ini', 'no-such-folder/looker.ini']);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('Could not write no-such-folder/looker.ini: ');
    expect(exit.stderr).toContain('The new credential was revoked again.');
    const credential = gateway.issuedThroughToken();
    expect(credential.revoked).toBe(true);
    expect(exit.stderr).not.toContain(credential.clientSecret);
    expect(exit.stderr).not.toContain('Signed in to');
  });

  it('writes where --ini and --section say, and the other commands find it there', async () => {
    mkdirSync(join(cwd, 'conf'));
    const { exit } = await signIn(['--ini', 'conf/team.ini', '--section', 'Dev']);
    expect(exit.code).toBe(0);
    expect(existsSync(join(cwd, 'looker.ini'))).toBe(false);
    const text = readFileSync(join(cwd, 'conf/team.ini'), 'utf8');
    expect(text.startsWith('[Dev]\n')).toBe(true);
    expect(exit.stderr).toContain('to [Dev] of conf/team.ini');

    const status = await runCli(['status', '--ini', 'conf/team.ini', '--section', 'Dev'], { cwd });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`Signed in to ${gateway.url} as ${USER.display_name}`);
    const elsewhere = await runCli(['status'], { cwd });
    expect(elsewhere.code).toBe(1);
  });

  it('follows a symbolic link to the real file and keeps the link', async () => {
    mkdirSync(join(cwd, 'dotfiles'));
    writeFileSync(join(cwd, 'dotfiles', 'looker.ini'), '[Other]\nx=1\n');
    symlinkSync('dotfiles/looker.ini', join(cwd, 'looker.ini'));
    const { exit } = await signIn();
    expect(exit.code).toBe(0);
    expect(readFileSync(join(cwd, 'dotfiles', 'looker.ini'), 'utf8')).toContain('[Looker]\nbase_url=');
    expect(lstatSync(join(cwd, 'looker.ini')).isSymbolicLink()).toBe(true);
  });

  it('with --print-env prints shell export lines and writes nothing', async () => {
    const { exit } = await signIn(['--print-env']);
    expect(exit.code).toBe(0);
    const credential = gateway.issuedThroughToken();
    expect(exit.stdout).toBe(
      `export LOOKERSDK_BASE_URL='${gateway.url}'\n` +
        `export LOOKERSDK_CLIENT_ID='${credential.clientId}'\n` +
        `export LOOKERSDK_CLIENT_SECRET='${credential.clientSecret}'\n` +
        "export LOOKERSDK_VERIFY_SSL='true'\n",
    );
    expect(existsSync(join(cwd, 'looker.ini'))).toBe(false);
    expect(exit.stderr).toContain(`Signed in to ${gateway.url} as ${USER.display_name}`);
    expect(exit.stderr).not.toContain(credential.clientSecret);
    // A shell that evaluates the lines gets the values back unchanged.
    const shell = spawnSync('sh', ['-c', 'eval "$1"; printf "%s|%s" "$LOOKERSDK_BASE_URL" "$LOOKERSDK_CLIENT_SECRET"', 'sh', exit.stdout]);
    expect(shell.stdout.toString()).toBe(`${gateway.url}|${credential.clientSecret}`);
  });

  it('answers a wrong or missing state with 400 and keeps waiting; anything else on the loopback gets 404', async () => {
    const cli = startCli(['login', gateway.url, '--no-open'], { cwd });
    const [url] = await cli.waitForStderr(AUTHORIZE_URL);
    const redirectUri = new URL(url).searchParams.get('redirect_uri') ?? '';
    const state = new URL(url).searchParams.get('state') ?? '';

    const wrong = await visit(`${redirectUri}?code=stolen-code&state=${state.slice(0, -1)}x`);
    expect(wrong.status).toBe(400);
    expect(wrong.body).toContain('does not belong to the sign-in');
    expect((await visit(`${redirectUri}?code=stolen-code`)).status).toBe(400);
    expect((await visit(`${redirectUri}?state=${state}`)).status).toBe(400);
    expect((await visit(redirectUri.replace('/callback', '/'))).status).toBe(404);
    expect((await visit(redirectUri.replace('/callback', '/favicon.ico'))).status).toBe(404);
    expect((await visit(`${redirectUri}?code=x&state=${state}`, { method: 'POST' })).status).toBe(404);
    expect(gateway.requestsTo('POST', '/cli/token')).toHaveLength(0);

    const page = await playBrowser(url);
    expect(page.status).toBe(200);
    const exit = await cli.exit;
    expect(exit.code).toBe(0);
    expect(gateway.requestsTo('POST', '/cli/token').map((r) => r.form.get('code'))).not.toContain('stolen-code');
    // Once signed in, the loopback server is gone.
    await expect(fetch(redirectUri)).rejects.toThrow();
  });

  it('stops with "You chose Deny" when the person denies access, and writes nothing', async () => {
    gateway.authorize = { error: 'access_denied', error_description: 'The user denied access.' };
    const { page, exit } = await signIn();
    expect(page.body).toContain('You chose Deny in the browser');
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('You chose Deny in the browser');
    expect(gateway.requestsTo('POST', '/cli/token')).toHaveLength(0);
    expect(existsSync(join(cwd, 'looker.ini'))).toBe(false);
  });

  it('shows the description of any other error from the browser, escaped in the page', async () => {
    gateway.authorize = { error: 'server_error', error_description: 'Looker is <b>down</b> for maintenance' };
    const { page, exit } = await signIn();
    expect(page.body).toContain('Looker is &#60;b&#62;down&#60;/b&#62; for maintenance');
    expect(page.body).not.toContain('<b>');
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('The sign-in failed: Looker is <b>down</b> for maintenance');
  });

  it('shows the error_description when the gateway refuses the code', async () => {
    gateway.tokenAnswer = { status: 400, body: { error: 'invalid_grant', error_description: 'The code has expired; sign in again.' } };
    const { exit } = await signIn();
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('The gateway did not issue a credential: The code has expired; sign in again.');
    expect(existsSync(join(cwd, 'looker.ini'))).toBe(false);
  });

  it('refuses an answer without a usable credential', async () => {
    gateway.tokenAnswer = { status: 200, body: { client_id: 'id', client_secret: 'has;semicolon', user: USER } };
    const { exit } = await signIn();
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('without a usable client_id and client_secret');
    expect(existsSync(join(cwd, 'looker.ini'))).toBe(false);
  });

  it('gives up after --timeout seconds without an answer', async () => {
    const started = Date.now();
    const exit = await runCli(['login', gateway.url, '--no-open', '--timeout', '1'], { cwd });
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('No answer from the browser within 1 second; nothing was written.');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(existsSync(join(cwd, 'looker.ini'))).toBe(false);
  });
});

describe('opening the browser', () => {
  /** A stand-in browser: records its arguments, then follows the address like a browser. */
  function fakeBrowser(dir: string) {
    const script = join(dir, 'fake browser.mjs');
    writeFileSync(
      script,
      `import { writeFileSync } from 'node:fs';
const url = process.argv.at(-1);
writeFileSync(${JSON.stringify(join(dir, 'browser-args.json'))}, JSON.stringify(process.argv.slice(2)));
const atGateway = await fetch(url, { redirect: 'manual' });
await fetch(atGateway.headers.get('location'));
`,
    );
    return script;
  }

  it('runs $BROWSER without a shell, with the address as its last argument', async () => {
    const script = fakeBrowser(cwd);
    // Quoted words, as in BROWSER="'/path with spaces/node' script --new-window".
    const browser = `'${process.execPath}' "${script}" --new-window`;
    const exit = await runCli(['login', gateway.url], { cwd, env: { BROWSER: browser } });
    expect(exit.code).toBe(0);
    const args = JSON.parse(readFileSync(join(cwd, 'browser-args.json'), 'utf8')) as string[];
    const printed = AUTHORIZE_URL.exec(exit.stderr)?.[1];
    expect(args).toEqual(['--new-window', printed]);
    expect(exit.stderr).toContain('If none opens, open this address:');
    expect(readFileSync(join(cwd, 'looker.ini'), 'utf8')).toContain(`base_url=${gateway.url}`);
  });

  it('says so and still prints the address when $BROWSER cannot be started', async () => {
    const cli = startCli(['login', gateway.url], { cwd, env: { BROWSER: 'no-such-browser-here --flag' } });
    await cli.waitForStderr(/Could not open a browser \(no-such-browser-here not found\); open the address above yourself\./);
    const [url] = await cli.waitForStderr(AUTHORIZE_URL);
    await playBrowser(url);
    expect((await cli.exit).code).toBe(0);
  });

  it('says so when the browser command fails', async () => {
    const cli = startCli(['login', gateway.url], { cwd, env: { BROWSER: 'false' } });
    await cli.waitForStderr(/Could not open a browser \(false exited with status 1\)/);
    const [url] = await cli.waitForStderr(AUTHORIZE_URL);
    await playBrowser(url);
    expect((await cli.exit).code).toBe(0);
  });

  it.runIf(process.platform === 'linux')('uses xdg-open when $BROWSER is not set', async () => {
    const bin = join(cwd, 'bin');
    mkdirSync(bin);
    const opener = join(bin, 'xdg-open');
    writeFileSync(opener, `#!/bin/sh\nprintf '%s\\n' "$@" > "${join(cwd, 'xdg-open-args')}"\n`);
    chmodSync(opener, 0o755);
    const cli = startCli(['login', gateway.url], { cwd, env: { PATH: `${bin}:/usr/bin:/bin` } });
    const [url] = await cli.waitForStderr(AUTHORIZE_URL);
    await playBrowser(url);
    expect((await cli.exit).code).toBe(0);
    expect(readFileSync(join(cwd, 'xdg-open-args'), 'utf8')).toBe(`${url}\n`);
  });

  it('with --no-open only prints the address', async () => {
    const script = fakeBrowser(cwd);
    const cli = startCli(['login', gateway.url, '--no-open'], { cwd, env: { BROWSER: `'${process.execPath}' '${script}'` } });
    const [url] = await cli.waitForStderr(AUTHORIZE_URL);
    expect(cli.stderr()).toContain('Open this address in a browser on this computer');
    await playBrowser(url);
    expect((await cli.exit).code).toBe(0);
    expect(existsSync(join(cwd, 'browser-args.json'))).toBe(false);
  });
});

describe('signing in again', () => {
  it('revokes the credential the section held for the same gateway, after writing the new one', async () => {
    const old = gateway.issue('laptop');
    const ini = join(cwd, 'looker.ini');
    writeFileSync(ini, `[Looker]\nbase_url=${gateway.url}/\nclient_id=${old.clientId}\nclient_secret=${old.clientSecret}\n`);
    const { exit } = await signIn();
    expect(exit.code).toBe(0);
    const [revoke] = gateway.requestsTo('POST', '/cli/revoke');
    expect(revoke?.form.get('client_id')).toBe(old.clientId);
    expect(revoke?.form.get('client_secret')).toBe(old.clientSecret);
    expect(old.revoked).toBe(true);
    const [token] = gateway.requestsTo('POST', '/cli/token');
    expect(gateway.requests.indexOf(revoke!)).toBeGreaterThan(gateway.requests.indexOf(token!));
    expect(readFileSync(ini, 'utf8')).toContain(`client_id=${gateway.issuedThroughToken().clientId}`);
    expect(exit.stderr).toContain(`Revoked the credential it replaces (${old.clientId}).`);
  });

  it('only warns when the old credential cannot be revoked', async () => {
    const old = gateway.issue('laptop');
    const ini = join(cwd, 'looker.ini');
    writeFileSync(ini, `[Looker]\nbase_url=${gateway.url}\nclient_id=${old.clientId}\nclient_secret=${old.clientSecret}\n`);
    gateway.revokeAnswer = { status: 503, body: { message: 'Try later' } };
    const { exit } = await signIn();
    expect(exit.code).toBe(0);
    expect(exit.stderr).toContain(`Warning: could not revoke the credential it replaces (${old.clientId})`);
    expect(exit.stderr).toContain('503: Try later');
    expect(readFileSync(ini, 'utf8')).toContain(`client_id=${gateway.issuedThroughToken().clientId}`);
    expect(exit.stderr).not.toContain(old.clientSecret);
  });

  it('will not overwrite a credential for another server unless --force, and never sends its secret here', async () => {
    const ini = join(cwd, 'looker.ini');
    const before = '[Looker]\nbase_url=https://looker.example.com:19999\nclient_id=api-key-id\nclient_secret=api-key-secret\n';
    writeFileSync(ini, before);
    const refused = await runCli(['login', gateway.url, '--no-open'], { cwd });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[Looker] of ./looker.ini already holds a client_id for https://looker.example.com:19999');
    expect(gateway.requests).toHaveLength(0);
    expect(readFileSync(ini, 'utf8')).toBe(before);

    const { exit } = await signIn(['--force']);
    expect(exit.code).toBe(0);
    expect(readFileSync(ini, 'utf8')).toContain(`client_id=${gateway.issuedThroughToken().clientId}`);
    expect(gateway.requestsTo('POST', '/cli/revoke')).toHaveLength(0);
    for (const request of gateway.requests) expect(request.form.toString()).not.toContain('api-key-secret');
  });
});

describe('the gateway address', () => {
  it.each([
    ['ftp://gw.example.com', 'is not an https:// address'],
    ['http://gw.example.com', 'http:// is only for a gateway on this machine'],
    ['http://10.0.0.1:8787', 'http:// is only for a gateway on this machine'],
    ['gw.example.com', 'has no scheme: give the whole address, e.g. https://gw.example.com'],
    ['localhost:8931', 'e.g. http://localhost:8931'],
    ['https://user:pass@gw.example.com', 'must not contain a user name or password'],
  ])('refuses %s as a usage error', async (address, message) => {
    // --timeout so that, were the address taken, the test would fail fast instead of waiting.
    const exit = await runCli(['login', address, '--no-open', '--timeout', '2'], { cwd });
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain(message);
    expect(exit.stderr).toContain('looker-oauth-gateway help login');
    expect(exit.stderr).not.toContain('user:pass');
    expect(existsSync(join(cwd, 'looker.ini'))).toBe(false);
  });

  it('is reduced to its origin', async () => {
    const cli = startCli(['login', `${gateway.url}/some/page?x=1#top`, '--no-open'], { cwd });
    const [url] = await cli.waitForStderr(AUTHORIZE_URL);
    expect(url.startsWith(`${gateway.url}/cli/authorize?`)).toBe(true);
    await playBrowser(url);
    expect((await cli.exit).code).toBe(0);
    expect(readFileSync(join(cwd, 'looker.ini'), 'utf8')).toContain(`base_url=${gateway.url}\n`);
  });

  it('says so when the gateway cannot be reached', async () => {
    const address = gateway.url;
    await gateway.close();
    const exit = await runCli(['login', address, '--device'], { cwd });
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain(`Could not reach ${address}: `);
    expect(exit.stderr).toContain('ECONNREFUSED');
  });
});

describe('an address that is not a gateway', () => {
  it('fails at once, before any browser is opened, instead of waiting for a sign-in that cannot come back', async () => {
    const notGateway = createServer((_request, response) => response.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Looker</h1>'));
    await new Promise<void>((resolve) => notGateway.listen(0, '127.0.0.1', resolve));
    const { port } = notGateway.address() as AddressInfo;
    try {
      const started = Date.now();
      const exit = await runCli(['login', `http://127.0.0.1:${port}`, '--no-open', '--timeout', '60'], { cwd });
      expect(exit.code).toBe(1);
      expect(exit.stderr).toContain('does not answer like a looker-oauth-gateway');
      expect(exit.stderr).not.toContain('/cli/authorize');
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      await new Promise((resolve) => notGateway.close(resolve));
    }
  });
});
