/**
 * `looker-oauth-gateway login` with the browser (RFC 8252 loopback redirect, PKCE), run
 * in-process against the real gateway, with a person playing the browser: what it asks the
 * browser to open, how its loopback server answers, what it writes to looker.ini, and every
 * way a sign-in can fail.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually } from '../e2e/harness.ts';
import { AUTHORIZE_URL, type CliFixture, closedPort, jsonAnswer, localDate, USER, visit, withCliEachTest } from './cli-harness.ts';

let cli: CliFixture;

withCliEachTest((fixture) => {
  cli = fixture;
});

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

const ini = () => join(cli.cwd, 'looker.ini');

describe('login through the browser', () => {
  it('asks for an S256 code on a 127.0.0.1 redirect, then writes a new looker.ini readable only by its owner', async () => {
    const { url, page, exit } = await cli.signIn(['--name', 'laptop']);

    expect(`${url.origin}${url.pathname}`).toBe(`${cli.gateway}/cli/authorize`);
    const params = url.searchParams;
    expect(params.get('response_type')).toBe('code');
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('state')).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(params.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(params.get('name')).toBe('laptop');

    expect(page.url.startsWith(params.get('redirect_uri')!)).toBe(true);
    expect(page.status).toBe(200);
    expect(page.body).toContain('You can close this tab');
    expect(page.headers.get('cache-control')).toBe('no-store');

    // The gateway issues a credential only if the verifier hashes to the challenge and the
    // redirect_uri is the one the code was issued for.
    const [token] = cli.requestsTo('POST', '/cli/token');
    expect(token?.form.get('grant_type')).toBe('authorization_code');
    expect(token?.form.get('redirect_uri')).toBe(params.get('redirect_uri'));
    expect(token?.form.get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    const credential = cli.issuedThroughToken();
    expect(credential.name).toBe('laptop');

    expect(exit.code).toBe(0);
    expect(readFileSync(ini(), 'utf8')).toBe(
      `[Looker]\nbase_url=${cli.gateway}\nclient_id=${credential.clientId}\nclient_secret=${credential.clientSecret}\nverify_ssl=true\n`,
    );
    expectPythonReads(ini(), 'Looker', { base_url: cli.gateway, client_id: credential.clientId, client_secret: credential.clientSecret, verify_ssl: 'true' });
    expect(mode(ini())).toBe(0o600);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toContain(`Signed in to ${cli.gateway} as ${USER.display_name} <${USER.email}> (Looker user ${USER.id}).`);
    expect(exit.stderr).toMatch(/The credential "laptop" \(lgwc_[\w-]+\) is valid until \d{4}-\d{2}-\d{2} \(90 days\)\./);
    expect(exit.stderr).toContain('Wrote base_url, client_id and client_secret to [Looker] of ./looker.ini.');
    expect(exit.stderr).not.toContain(credential.clientSecret);
    for (const request of cli.requests) expect(request.url).not.toContain(credential.clientSecret);
    expect(await cli.isLive(credential)).toBe(true);
  });

  it('names the credential after the host, "browser" and the date by default', async () => {
    cli.clock = Date.parse('2026-12-02T12:00:00Z');
    const { url, exit } = await cli.signIn();
    expect(exit.code).toBe(0);
    const name = `${hostname()} · browser · ${localDate(cli.clock)}`;
    expect(url.searchParams.get('name')).toBe(name);
    expect(cli.issuedThroughToken().name).toBe(name);
  });

  it('keeps the other sections, comments and keys of an existing file, replaces its keys in place, and tightens it to 0600', async () => {
    const old = await cli.issueCredential('old laptop');
    const before = [
      '; Looker settings for this project',
      '[Production]',
      'base_url=https://looker.example.com:19999',
      'client_id=prod-id',
      'client_secret=prod-secret',
      '',
      '[Looker]',
      '# through the gateway',
      `base_url = ${cli.gateway}`,
      `client_id = ${old.clientId}`,
      'timeout=300',
      `client_secret = "${old.clientSecret}"`,
      'verify_ssl = false',
      '',
      '# kept at the end',
      '',
    ].join('\n');
    writeFileSync(ini(), before);
    chmodSync(ini(), 0o644);

    const { exit } = await cli.signIn();
    expect(exit.code).toBe(0);
    const now = cli.issuedThroughToken();
    expect(readFileSync(ini(), 'utf8')).toBe(
      [
        '; Looker settings for this project',
        '[Production]',
        'base_url=https://looker.example.com:19999',
        'client_id=prod-id',
        'client_secret=prod-secret',
        '',
        '[Looker]',
        '# through the gateway',
        `base_url=${cli.gateway}`,
        `client_id=${now.clientId}`,
        'timeout=300',
        `client_secret=${now.clientSecret}`,
        'verify_ssl=true',
        '',
        '# kept at the end',
        '',
      ].join('\n'),
    );
    expect(mode(ini())).toBe(0o600);
    expectPythonReads(ini(), 'Looker', { base_url: cli.gateway, client_id: now.clientId, client_secret: now.clientSecret, timeout: '300' });
  });

  it('adds the keys a section lacks after its last key, and a missing section at the end', async () => {
    writeFileSync(ini(), '[Looker]\ntimeout=60\n; about the next one\n[Other]\nx=1');
    const first = await cli.signIn();
    expect(first.exit.code).toBe(0);
    const credential = cli.issuedThroughToken();
    expect(readFileSync(ini(), 'utf8')).toBe(
      `[Looker]\ntimeout=60\nbase_url=${cli.gateway}\nclient_id=${credential.clientId}\nclient_secret=${credential.clientSecret}\n` +
        'verify_ssl=true\n; about the next one\n[Other]\nx=1\n',
    );

    const second = await cli.signIn(['--section', 'Fresh']);
    expect(second.exit.code).toBe(0);
    expect(readFileSync(ini(), 'utf8')).toMatch(/\nx=1\n\n\[Fresh\]\nbase_url=\S+\nclient_id=\S+\nclient_secret=\S+\nverify_ssl=true\n$/);
  });

  it('keeps Windows line endings', async () => {
    writeFileSync(ini(), '[Other]\r\nx=1\r\n');
    const { exit } = await cli.signIn();
    expect(exit.code).toBe(0);
    const text = readFileSync(ini(), 'utf8');
    expect(text).toMatch(/^\[Other\]\r\nx=1\r\n\r\n\[Looker\]\r\nbase_url=/);
    expect(text.endsWith('verify_ssl=true\r\n')).toBe(true);
    expect(text.replace(/\r\n/g, '')).not.toContain('\n');
  });

  it('writes the whole file at once: a temporary file beside it, then a rename', async () => {
    writeFileSync(ini(), '[Other]\nx=1\n');
    const inode = statSync(ini()).ino;
    const { exit } = await cli.signIn();
    expect(exit.code).toBe(0);
    expect(statSync(ini()).ino).not.toBe(inode);
    expect(readdirSync(cli.cwd).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('revokes the new credential again when looker.ini cannot be written', async () => {
    const { exit } = await cli.signIn(['--ini', 'no-such-folder/looker.ini']);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('Could not write no-such-folder/looker.ini: ');
    expect(exit.stderr).toContain('The new credential was revoked again.');
    const credential = cli.issuedThroughToken();
    expect(cli.requestsTo('POST', '/cli/revoke')[0]?.form.get('client_id')).toBe(credential.clientId);
    expect(await cli.isLive(credential)).toBe(false);
    expect(exit.stderr).not.toContain(credential.clientSecret);
    expect(exit.stderr).not.toContain('Signed in to');
  });

  it('writes where --ini and --section say, and the other commands find it there', async () => {
    mkdirSync(join(cli.cwd, 'conf'));
    const { exit } = await cli.signIn(['--ini', 'conf/team.ini', '--section', 'Dev']);
    expect(exit.code).toBe(0);
    expect(existsSync(ini())).toBe(false);
    const text = readFileSync(join(cli.cwd, 'conf/team.ini'), 'utf8');
    expect(text.startsWith('[Dev]\n')).toBe(true);
    expect(exit.stderr).toContain('to [Dev] of conf/team.ini');

    const status = await cli.run(['status', '--ini', 'conf/team.ini', '--section', 'Dev']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`Signed in to ${cli.gateway} as ${USER.display_name}`);
    const elsewhere = await cli.run(['status']);
    expect(elsewhere.code).toBe(1);
  });

  it('follows a symbolic link to the real file and keeps the link', async () => {
    mkdirSync(join(cli.cwd, 'dotfiles'));
    writeFileSync(join(cli.cwd, 'dotfiles', 'looker.ini'), '[Other]\nx=1\n');
    symlinkSync('dotfiles/looker.ini', ini());
    const { exit } = await cli.signIn();
    expect(exit.code).toBe(0);
    expect(readFileSync(join(cli.cwd, 'dotfiles', 'looker.ini'), 'utf8')).toContain('[Looker]\nbase_url=');
    expect(lstatSync(ini()).isSymbolicLink()).toBe(true);
  });

  it('with --print-env prints shell export lines, writes nothing, and says how to end the credential', async () => {
    const { exit } = await cli.signIn(['--print-env']);
    expect(exit.code).toBe(0);
    const credential = cli.issuedThroughToken();
    expect(exit.stdout).toBe(
      `export LOOKERSDK_BASE_URL='${cli.gateway}'\n` +
        `export LOOKERSDK_CLIENT_ID='${credential.clientId}'\n` +
        `export LOOKERSDK_CLIENT_SECRET='${credential.clientSecret}'\n` +
        "export LOOKERSDK_VERIFY_SSL='true'\n",
    );
    expect(existsSync(ini())).toBe(false);
    expect(exit.stderr).toContain(`Signed in to ${cli.gateway} as ${USER.display_name}`);
    expect(exit.stderr).toContain(`To end it: run \`looker-oauth-gateway logout\` with these variables exported, or revoke it on Your access at ${cli.gateway}/access.`);
    expect(exit.stderr).not.toContain(credential.clientSecret);
    // A shell that evaluates the lines gets the values back unchanged.
    const shell = spawnSync('sh', ['-c', 'eval "$1"; printf "%s|%s" "$LOOKERSDK_BASE_URL" "$LOOKERSDK_CLIENT_SECRET"', 'sh', exit.stdout]);
    expect(shell.stdout.toString()).toBe(`${cli.gateway}|${credential.clientSecret}`);
  });

  it('answers a wrong or missing state with 400 and keeps waiting; anything else on the loopback gets 404', async () => {
    const running = cli.start(['login', cli.gateway, '--no-open']);
    const [url = ''] = await running.waitForStderr(AUTHORIZE_URL);
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
    expect(cli.requestsTo('POST', '/cli/token')).toHaveLength(0);

    const page = await cli.person.signIn(url);
    expect(page.status).toBe(200);
    const exit = await running.exit;
    expect(exit.code).toBe(0);
    expect(cli.requestsTo('POST', '/cli/token').map((r) => r.form.get('code'))).not.toContain('stolen-code');
    // Once signed in, the loopback server is gone.
    await expect(fetch(redirectUri)).rejects.toThrow();
  });

  it.each(['the gateway', 'Looker'] as const)('stops with "You chose Deny" when the person denies access at %s, and writes nothing', async (where) => {
    const { page, exit } = await cli.signIn([], where === 'Looker' ? { atLooker: 'Deny' } : { atGateway: 'Deny' });
    expect(page.body).toContain('You chose Deny in the browser');
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('You chose Deny in the browser');
    expect(cli.requestsTo('POST', '/cli/token')).toHaveLength(0);
    expect(existsSync(ini())).toBe(false);
  });

  it('shows the description of any other error sent back to it, escaped in the page', async () => {
    const running = cli.start(['login', cli.gateway, '--no-open']);
    const [url = ''] = await running.waitForStderr(AUTHORIZE_URL);
    const params = new URL(url).searchParams;
    // What a gateway passes on from Looker: an error and its description, with the state.
    const back = new URL(params.get('redirect_uri') ?? '');
    back.search = new URLSearchParams({ error: 'server_error', error_description: 'Looker is <b>down</b> for maintenance', state: params.get('state') ?? '' }).toString();
    const page = await visit(back.href);
    expect(page.body).toContain('Looker is &#60;b&#62;down&#60;/b&#62; for maintenance');
    expect(page.body).not.toContain('<b>');
    const exit = await running.exit;
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('The sign-in failed: Looker is <b>down</b> for maintenance');
  });

  it('shows the error_description when the gateway refuses the code', async () => {
    // A verifier that does not match the challenge: the gateway refuses the code (and spends it).
    cli.intercept = (request, forward) => {
      if (request.path !== '/cli/token') return forward();
      const form = new URLSearchParams(request.form);
      form.set('code_verifier', 'x'.repeat(43));
      return forward(form);
    };
    const { exit } = await cli.signIn();
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('The gateway did not issue a credential: code_verifier does not match the code_challenge.');
    expect(existsSync(ini())).toBe(false);
  });

  it('refuses an answer without a usable credential', async () => {
    cli.intercept = async (request, forward) => {
      const answer = await forward();
      return request.path === '/cli/token' ? jsonAnswer(200, { client_id: 'id', client_secret: 'has;semicolon', user: USER }) : answer;
    };
    const { exit } = await cli.signIn();
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('without a usable client_id and client_secret');
    expect(existsSync(ini())).toBe(false);
  });

  it('gives up after --timeout seconds without an answer', async () => {
    const exit = await cli.run(['login', cli.gateway, '--no-open', '--timeout', '1'], { loopbackTimesOut: true });
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('No answer from the browser within 1 second; nothing was written.');
    expect(existsSync(ini())).toBe(false);
  });
});

describe('login --read-only', () => {
  it('asks for scope=looker:read; the credential reads but may not write; status says read-only', async () => {
    const { url, exit } = await cli.signIn(['--read-only', '--name', 'dashboards']);
    expect(exit.code).toBe(0);
    expect(url.searchParams.get('scope')).toBe('looker:read');
    expect((cli.requestsTo('POST', '/cli/token')[0]?.json as { scope?: string }).scope).toBe('looker:read');
    expect(exit.stderr).toMatch(/The read-only credential "dashboards" \(lgwc_[\w-]+\) is valid until/);

    const token = (await cli.run(['token'])).stdout.trim();
    const read = await fetch(`${cli.gateway}/api/4.0/user?fields=id`, { headers: { authorization: `Bearer ${token}` } });
    expect(read.status).toBe(200);
    await read.body?.cancel();
    const write = await fetch(`${cli.gateway}/api/4.0/looks/1`, { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(write.status).toBe(403);
    expect(await write.json()).toMatchObject({ required_scope: 'looker:write' });

    const status = await cli.run(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('; read-only (it may read and run queries, not change anything)');
  });

  it('without --read-only asks for no scope (everything, as before) and says nothing of one', async () => {
    const { url, exit } = await cli.signIn(['--name', 'laptop']);
    expect(exit.code).toBe(0);
    expect(url.searchParams.has('scope')).toBe(false);
    expect(exit.stderr).toMatch(/The credential "laptop"/);
    expect((await cli.run(['status'])).stdout).not.toContain('read-only');
  });

  it('a gateway that issues a full credential anyway (one from before scopes): revoked, nothing written, exit 1', async () => {
    cli.intercept = async (request, forward) => {
      const answer = await forward();
      if (request.path !== '/cli/token' || answer.status !== 200) return answer;
      const { scope: _dropped, ...body } = (await answer.json()) as Record<string, unknown>;
      return jsonAnswer(200, body);
    };
    const { exit } = await cli.signIn(['--read-only']);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('is not read-only');
    expect(existsSync(ini())).toBe(false);
    const issued = cli.requestsTo('POST', '/cli/token')[0]!.json as { client_id: string; client_secret: string };
    expect(cli.requestsTo('POST', '/cli/revoke')).toHaveLength(1);
    expect(await cli.isLive({ clientId: issued.client_id, clientSecret: issued.client_secret })).toBe(false);
  });

  it('is an option of login only', async () => {
    const exit = await cli.run(['status', '--read-only']);
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain('--read-only is an option of login only.');
    expect((await cli.run(['help', 'login'])).stdout).toContain('--read-only');
  });
});

describe('opening the browser', () => {
  /** A stand-in browser: records its arguments (the person then takes over). */
  function fakeBrowser(dir: string) {
    const script = join(dir, 'fake browser.mjs');
    writeFileSync(script, `import { renameSync, writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(join(dir, 'browser-args.tmp'))}, JSON.stringify(process.argv.slice(2)));\nrenameSync(${JSON.stringify(join(dir, 'browser-args.tmp'))}, ${JSON.stringify(join(dir, 'browser-args.json'))});\n`);
    return script;
  }
  const opened = () => (existsSync(join(cli.cwd, 'browser-args.json')) ? (JSON.parse(readFileSync(join(cli.cwd, 'browser-args.json'), 'utf8')) as string[]) : undefined);

  it('runs $BROWSER without a shell, with the address as its last argument', async () => {
    const script = fakeBrowser(cli.cwd);
    // Quoted words, as in BROWSER="'/path with spaces/node' script --new-window".
    const running = cli.start(['login', cli.gateway], { env: { BROWSER: `'${process.execPath}' "${script}" --new-window` } });
    const [printed = ''] = await running.waitForStderr(AUTHORIZE_URL);
    const args = await eventually('the browser to be started', opened);
    expect(args).toEqual(['--new-window', printed]);
    await cli.person.signIn(printed);
    const exit = await running.exit;
    expect(exit.code).toBe(0);
    expect(exit.stderr).toContain('If none opens, open this address:');
    expect(readFileSync(ini(), 'utf8')).toContain(`base_url=${cli.gateway}`);
  });

  it('says so and still prints the address when $BROWSER cannot be started', async () => {
    const running = cli.start(['login', cli.gateway], { env: { BROWSER: 'no-such-browser-here --flag', PATH: process.env.PATH } });
    await running.waitForStderr(/Could not open a browser \(no-such-browser-here not found\); open the address above yourself\./);
    const [url = ''] = await running.waitForStderr(AUTHORIZE_URL);
    await cli.person.signIn(url);
    expect((await running.exit).code).toBe(0);
  });

  it('says so when the browser command fails', async () => {
    const running = cli.start(['login', cli.gateway], { env: { BROWSER: 'false', PATH: process.env.PATH } });
    await running.waitForStderr(/Could not open a browser \(false exited with status 1\)/);
    const [url = ''] = await running.waitForStderr(AUTHORIZE_URL);
    await cli.person.signIn(url);
    expect((await running.exit).code).toBe(0);
  });

  it.runIf(process.platform === 'linux')('uses xdg-open when $BROWSER is not set', async () => {
    const bin = join(cli.cwd, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$@" > "${join(cli.cwd, 'xdg-open-args.tmp')}" && mv "${join(cli.cwd, 'xdg-open-args.tmp')}" "${join(cli.cwd, 'xdg-open-args')}"\n`, { mode: 0o755 });
    const running = cli.start(['login', cli.gateway], { env: { PATH: `${bin}:/usr/bin:/bin` } });
    const [url = ''] = await running.waitForStderr(AUTHORIZE_URL);
    const args = await eventually('xdg-open to be run', () => (existsSync(join(cli.cwd, 'xdg-open-args')) ? readFileSync(join(cli.cwd, 'xdg-open-args'), 'utf8') : undefined));
    expect(args).toBe(`${url}\n`);
    await cli.person.signIn(url);
    expect((await running.exit).code).toBe(0);
  });

  it('with --no-open only prints the address', async () => {
    const asked: string[] = [];
    const running = cli.start(['login', cli.gateway, '--no-open'], { openBrowser: (url) => asked.push(url) });
    const [url = ''] = await running.waitForStderr(AUTHORIZE_URL);
    expect(running.stderr()).toContain('Open this address in a browser on this computer');
    await cli.person.signIn(url);
    expect((await running.exit).code).toBe(0);
    expect(asked).toEqual([]);
  });
});

describe('signing in again', () => {
  it('revokes the credential the section held for the same gateway, after writing the new one', async () => {
    const old = await cli.issueCredential('laptop');
    writeFileSync(ini(), `[Looker]\nbase_url=${cli.gateway}/\nclient_id=${old.clientId}\nclient_secret=${old.clientSecret}\n`);
    const { exit } = await cli.signIn();
    expect(exit.code).toBe(0);
    const [revoke] = cli.requestsTo('POST', '/cli/revoke');
    expect(revoke?.form.get('client_id')).toBe(old.clientId);
    expect(revoke?.form.get('client_secret')).toBe(old.clientSecret);
    expect(await cli.isLive(old)).toBe(false);
    const [token] = cli.requestsTo('POST', '/cli/token');
    expect(cli.requests.indexOf(revoke!)).toBeGreaterThan(cli.requests.indexOf(token!));
    const now = cli.issuedThroughToken();
    expect(readFileSync(ini(), 'utf8')).toContain(`client_id=${now.clientId}`);
    expect(await cli.isLive(now)).toBe(true);
    expect(exit.stderr).toContain(`Revoked the credential it replaces (${old.clientId}).`);
  });

  it('says so when the credential it replaces was no longer known to the gateway, rather than claim to revoke it', async () => {
    const old = await cli.issueCredential('laptop');
    await cli.revoke(old);
    writeFileSync(ini(), `[Looker]\nbase_url=${cli.gateway}\nclient_id=${old.clientId}\nclient_secret=${old.clientSecret}\n`);
    const { exit } = await cli.signIn();
    expect(exit.code).toBe(0);
    expect(exit.stderr).toContain(`The credential it replaces (${old.clientId}) was no longer known to the gateway (revoked or expired already).`);
    expect(exit.stderr).not.toContain('Revoked the credential it replaces');
  });

  it('only warns when the old credential cannot be revoked', async () => {
    const old = await cli.issueCredential('laptop');
    writeFileSync(ini(), `[Looker]\nbase_url=${cli.gateway}\nclient_id=${old.clientId}\nclient_secret=${old.clientSecret}\n`);
    cli.intercept = (request, forward) => (request.path === '/cli/revoke' ? Promise.resolve(jsonAnswer(503, { message: 'Try later' })) : forward());
    const { exit } = await cli.signIn();
    expect(exit.code).toBe(0);
    expect(exit.stderr).toContain(`Warning: could not revoke the credential it replaces (${old.clientId})`);
    expect(exit.stderr).toContain('503: Try later');
    expect(readFileSync(ini(), 'utf8')).toContain(`client_id=${cli.issuedThroughToken().clientId}`);
    expect(exit.stderr).not.toContain(old.clientSecret);
  });

  it('will not overwrite a credential for another server unless --force, and never sends its secret here', async () => {
    const before = '[Looker]\nbase_url=https://looker.example.com:19999\nclient_id=api-key-id\nclient_secret=api-key-secret\n';
    writeFileSync(ini(), before);
    const refused = await cli.run(['login', cli.gateway, '--no-open']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[Looker] of ./looker.ini already holds a client_id for https://looker.example.com:19999');
    expect(cli.requests).toHaveLength(0);
    expect(readFileSync(ini(), 'utf8')).toBe(before);

    const { exit } = await cli.signIn(['--force']);
    expect(exit.code).toBe(0);
    expect(readFileSync(ini(), 'utf8')).toContain(`client_id=${cli.issuedThroughToken().clientId}`);
    expect(cli.requestsTo('POST', '/cli/revoke')).toHaveLength(0);
    for (const request of cli.requests) expect(request.form.toString()).not.toContain('api-key-secret');
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
    const exit = await cli.run(['login', address, '--no-open'], { loopbackTimesOut: true });
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain(message);
    expect(exit.stderr).toContain('looker-oauth-gateway help login');
    expect(exit.stderr).not.toContain('user:pass');
    expect(cli.requests).toHaveLength(0);
    expect(existsSync(ini())).toBe(false);
  });

  it('is reduced to its origin', async () => {
    const running = cli.start(['login', `${cli.gateway}/some/page?x=1#top`, '--no-open']);
    const [url = ''] = await running.waitForStderr(AUTHORIZE_URL);
    expect(url.startsWith(`${cli.gateway}/cli/authorize?`)).toBe(true);
    await cli.person.signIn(url);
    expect((await running.exit).code).toBe(0);
    expect(readFileSync(ini(), 'utf8')).toContain(`base_url=${cli.gateway}\n`);
  });

  it('says to use http:// when an https:// address reaches the plain-http development gateway', async () => {
    const http = new URL(cli.gateway);
    for (const args of [['--no-open'], ['--device']]) {
      const exit = await cli.run(['login', `https://${http.host}`, ...args], { loopbackTimesOut: true });
      expect(exit.code).toBe(1);
      expect(exit.stderr).toBe(`Could not reach https://${http.host}: that address speaks plain http: use http://${http.host}\n`);
    }
  });

  it('says so when the gateway cannot be reached', async () => {
    const address = await closedPort();
    const exit = await cli.run(['login', address, '--device']);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain(`Could not reach ${address}: `);
    expect(exit.stderr).toContain('ECONNREFUSED');
  });

  it("fails at once when it is not a gateway (Looker's own address, say), before any browser is opened", async () => {
    const asked: string[] = [];
    const exit = await cli.run(['login', cli.simUrl], { openBrowser: (url) => asked.push(url) });
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('does not answer like a looker-oauth-gateway');
    expect(exit.stderr).not.toContain('/cli/authorize');
    expect(asked).toEqual([]);
  });
});
