/**
 * `status`, `token` and `logout` in-process against the real gateway — with looker.ini,
 * and with the LOOKERSDK_* environment variables the Looker SDKs read — the help and
 * version output, and the command as it is shipped: the package's bin, the packed tarball,
 * a lone downloaded copy, and the system's older Node.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, type CliFixture, closedPort, DAY, jsonAnswer, ROOT, USER, withCliEachTest } from './cli-harness.ts';

let cli: CliFixture;

withCliEachTest((fixture) => {
  cli = fixture;
});

interface Credential {
  clientId: string;
  clientSecret: string;
}

/** looker.ini as a person might have edited it: spaces around =, comments, another section. */
function writeIni(credential: Credential, { section = 'Looker', file = 'looker.ini', baseUrl = cli.gateway } = {}) {
  const text = [
    '# Looker SDK settings',
    '[Production]',
    'base_url=https://looker.example.com:19999',
    '',
    `[${section}]`,
    `base_url = ${baseUrl}`,
    '; the gateway-issued credential',
    `client_id = ${credential.clientId}`,
    `client_secret = ${credential.clientSecret}`,
    'verify_ssl = true',
    '',
  ].join('\n');
  writeFileSync(join(cli.cwd, file), text);
  return text;
}

/** The variables `login --print-env` prints, as a shell that evaluated them holds them. */
function sdkEnv(credential: Credential, baseUrl = cli.gateway) {
  return { LOOKERSDK_BASE_URL: baseUrl, LOOKERSDK_CLIENT_ID: credential.clientId, LOOKERSDK_CLIENT_SECRET: credential.clientSecret, LOOKERSDK_VERIFY_SSL: 'true' };
}

async function bearerWorks(token: string): Promise<boolean> {
  const answer = await fetch(`${cli.gateway}/api/4.0/user?fields=id`, { headers: { authorization: `Bearer ${token}` } });
  await answer.body?.cancel();
  return answer.status === 200;
}

describe('status', () => {
  it('shows whom the credential acts as, until when and where it came from, then ends the API session it used', async () => {
    const credential = await cli.issueCredential('laptop');
    writeIni(credential);
    // 0.8 days later on the command's clock: 89.2 days left, shown rounded.
    cli.clock = Date.now() + 0.8 * DAY;
    const exit = await cli.run(['status']);
    expect(exit.code).toBe(0);
    const until = new Date(Date.now() + 90 * DAY).toISOString().slice(0, 10);
    expect(exit.stdout).toBe(
      `Signed in to ${cli.gateway} as ${USER.display_name} <${USER.email}> (Looker user ${USER.id}) ` +
        `with credential "laptop" (${credential.clientId}), valid until ${until} (89 days)\n` +
        'The credential is from [Looker] of ./looker.ini.\n',
    );
    const [login] = cli.requestsTo('POST', '/api/4.0/login');
    expect(login?.form.get('client_id')).toBe(credential.clientId);
    expect(login?.form.get('client_secret')).toBe(credential.clientSecret);
    const [info] = cli.requestsTo('GET', '/cli/credential');
    const [logout] = cli.requestsTo('DELETE', '/api/4.0/logout');
    expect(info?.headers.get('authorization')).toMatch(/^Bearer lgwt_/);
    expect(logout?.headers.get('authorization')).toBe(info?.headers.get('authorization'));
    expect(logout?.status).toBe(204);
    expect(await bearerWorks(info!.headers.get('authorization')!.slice('Bearer '.length))).toBe(false);
    expect(exit.stdout + exit.stderr).not.toContain(credential.clientSecret);
  });

  it('reads the section --section names from the file --ini names', async () => {
    const credential = await cli.issueCredential('ci');
    writeIni(credential, { section: 'CI', file: 'ci.ini' });
    cli.clock = Date.now() + 80 * DAY;
    const exit = await cli.run(['status', '--ini', 'ci.ini', '--section', 'CI']);
    expect(exit.code).toBe(0);
    expect(exit.stdout).toContain('with credential "ci"');
    expect(exit.stdout).toContain('(10 days)');
    expect(exit.stdout).toContain('The credential is from [CI] of ci.ini.');
  });

  it('says "not signed in" when the gateway no longer knows the credential', async () => {
    const credential = await cli.issueCredential();
    await cli.revoke(credential);
    writeIni(credential, { section: 'Dev', file: 'dev.ini' });
    const exit = await cli.run(['status', '--ini', 'dev.ini', '--section', 'Dev']);
    expect(exit.code).toBe(1);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toContain(`Not signed in to ${cli.gateway}: the credential in [Dev] of dev.ini (${credential.clientId}) was revoked`);
    expect(exit.stderr).toContain(`Run \`looker-oauth-gateway login ${cli.gateway} --ini dev.ini --section Dev\` to sign in again.`);
    expect(cli.requestsTo('DELETE', '/api/4.0/logout')).toHaveLength(0);
  });

  it('says "not signed in", and exits 1, when the gateway knows the credential but Looker no longer accepts its sign-in', async () => {
    const credential = await cli.issueCredential('laptop');
    writeIni(credential);
    // What the gateway answers once Looker has ended the grant (an admin revoked it there).
    const ended = { message: "This credential's Looker sign-in has ended (it was revoked or expired at Looker); a new token will not help.", hint: 'Sign in again.' };
    cli.intercept = (request, forward) => (request.path.startsWith('/api/4.0/user') ? Promise.resolve(jsonAnswer(401, ended)) : forward());
    const exit = await cli.run(['status']);
    expect(exit.code).toBe(1);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toContain(`Not signed in to ${cli.gateway}: the credential in [Looker] of ./looker.ini (${credential.clientId}) is known to the gateway, but Looker no longer accepts its sign-in (${ended.message})`);
    expect(exit.stderr).toContain(`Run \`looker-oauth-gateway login ${cli.gateway}\` to sign in again.`);
    // The API session used for the look is ended all the same.
    expect(cli.requestsTo('DELETE', '/api/4.0/logout')).toHaveLength(1);
  });

  it('still shows the credential, with a warning, when Looker cannot be reached to confirm it', async () => {
    const credential = await cli.issueCredential('laptop');
    writeIni(credential);
    cli.intercept = (request, forward) => (request.path.startsWith('/api/4.0/user') ? Promise.resolve(jsonAnswer(502, { message: 'Looker could not be reached.' })) : forward());
    const exit = await cli.run(['status']);
    expect(exit.code).toBe(0);
    expect(exit.stdout).toContain('with credential "laptop"');
    expect(exit.stderr).toContain('Warning: could not confirm with Looker that the sign-in works: GET /api/4.0/user answered 502 (Looker could not be reached.).');
  });

  it('says "not signed in" without a file, a section or a credential in it', async () => {
    const noFile = await cli.run(['status']);
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toContain('Not signed in: there is no ./looker.ini.');

    writeFileSync(join(cli.cwd, 'looker.ini'), '[Looker]\nbase_url=https://gw.example.com\n');
    const noCredential = await cli.run(['status']);
    expect(noCredential.code).toBe(1);
    expect(noCredential.stderr).toContain('Not signed in: [Looker] of ./looker.ini holds no client_id and client_secret.');

    const noSection = await cli.run(['status', '--section', 'Other']);
    expect(noSection.code).toBe(1);
    expect(noSection.stderr).toContain('[Other] of ./looker.ini holds no client_id');
    expect(cli.requests).toHaveLength(0);
  });

  it('will not send the secret to a plain-http base_url on another machine', async () => {
    writeFileSync(join(cli.cwd, 'looker.ini'), '[Looker]\nbase_url=http://gw.example.com\nclient_id=a\nclient_secret=b\n');
    const exit = await cli.run(['status']);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('base_url in [Looker] of ./looker.ini: http:// is only for a gateway on this machine');
    expect(cli.requests).toHaveLength(0);
  });

  it('does not follow a redirect with the secret', async () => {
    writeIni(await cli.issueCredential());
    // A misconfigured proxy in front of the gateway.
    cli.intercept = () => Promise.resolve(new Response(null, { status: 307, headers: { location: 'https://elsewhere.example.com/api/4.0/login' } }));
    const exit = await cli.run(['status']);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain(`${cli.gateway} answered POST /api/4.0/login with a redirect (307)`);
    expect(cli.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /api/4.0/login']);
  });

  it('says so when the gateway cannot be reached', async () => {
    const address = await closedPort();
    writeIni({ clientId: 'lgwc_x', clientSecret: 'lgws_x' }, { baseUrl: address });
    const exit = await cli.run(['status']);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain(`Could not reach ${address}: `);
  });
});

describe('the LOOKERSDK_* environment variables', () => {
  it('status, token and logout use them, as the SDKs do, when there is no looker.ini', async () => {
    const credential = await cli.issueCredential('from env');
    const env = sdkEnv(credential);

    const status = await cli.run(['status'], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`with credential "from env" (${credential.clientId})`);
    expect(status.stdout).toContain('The credential is from the LOOKERSDK_* environment variables.');

    const token = await cli.run(['token'], { env });
    expect(token.code).toBe(0);
    expect(await bearerWorks(token.stdout.trim())).toBe(true);

    const logout = await cli.run(['logout'], { env });
    expect(logout.code).toBe(0);
    expect(logout.stderr).toContain(`Revoked the credential ${credential.clientId} on ${cli.gateway}.`);
    expect(logout.stderr).toContain('unset LOOKERSDK_BASE_URL LOOKERSDK_CLIENT_ID LOOKERSDK_CLIENT_SECRET LOOKERSDK_VERIFY_SSL');
    expect(await cli.isLive(credential)).toBe(false);
    expect(existsSync(join(cli.cwd, 'looker.ini'))).toBe(false);

    const after = await cli.run(['status'], { env });
    expect(after.code).toBe(1);
    expect(after.stderr).toContain(`Not signed in to ${cli.gateway}: the credential in the LOOKERSDK_* environment variables (${credential.clientId})`);
    expect(after.stderr).toContain(`Run \`looker-oauth-gateway login ${cli.gateway} --print-env\``);
  });

  it('override looker.ini key by key, and the file is left alone', async () => {
    const inFile = await cli.issueCredential('in file');
    const inEnv = await cli.issueCredential('in env');
    const before = writeIni(inFile);
    const env = { LOOKERSDK_CLIENT_ID: inEnv.clientId, LOOKERSDK_CLIENT_SECRET: inEnv.clientSecret };

    const status = await cli.run(['status', '--ini', 'looker.ini'], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`with credential "in env" (${inEnv.clientId})`);
    expect(status.stdout).toContain('The credential is from [Looker] of looker.ini, with LOOKERSDK_CLIENT_ID and LOOKERSDK_CLIENT_SECRET from the environment.');
    expect(status.stderr).toContain('Using LOOKERSDK_CLIENT_ID, LOOKERSDK_CLIENT_SECRET from the environment, which take precedence over --ini and --section');

    const logout = await cli.run(['logout'], { env });
    expect(logout.code).toBe(0);
    expect(await cli.isLive(inEnv)).toBe(false);
    expect(await cli.isLive(inFile)).toBe(true);
    expect(readFileSync(join(cli.cwd, 'looker.ini'), 'utf8')).toBe(before);
  });

  it('without a client_id and client_secret anywhere: not signed in', async () => {
    const exit = await cli.run(['token'], { env: { LOOKERSDK_BASE_URL: cli.gateway } });
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('Not signed in: neither the environment (LOOKERSDK_CLIENT_ID, LOOKERSDK_CLIENT_SECRET) nor [Looker] of ./looker.ini holds both');
    expect(cli.requests).toHaveLength(0);
  });

  it('login says when they would shadow the file it writes', async () => {
    const { exit } = await cli.signIn([], { env: { LOOKERSDK_CLIENT_ID: 'lgwc_other' } });
    expect(exit.code).toBe(0);
    expect(exit.stderr).toContain('Note: LOOKERSDK_CLIENT_ID is set in this environment and takes precedence over the file');
  });
});

describe('token', () => {
  it('prints only an access token, and leaves it valid', async () => {
    writeIni(await cli.issueCredential());
    const exit = await cli.run(['token']);
    expect(exit.code).toBe(0);
    const [login] = cli.requestsTo('POST', '/api/4.0/login');
    const token = (login?.json as { access_token: string }).access_token;
    expect(exit.stdout).toBe(`${token}\n`);
    expect(await bearerWorks(token)).toBe(true);
    expect(cli.requestsTo('DELETE', '/api/4.0/logout')).toHaveLength(0);
    expect(cli.requestsTo('GET', '/cli/credential')).toHaveLength(0);
  });

  it('prints nothing on stdout and fails when not signed in', async () => {
    const credential = await cli.issueCredential();
    await cli.revoke(credential);
    writeIni(credential);
    const exit = await cli.run(['token']);
    expect(exit.code).toBe(1);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toContain('Not signed in');
    expect(exit.stderr).toContain(`Run \`looker-oauth-gateway login ${cli.gateway}\``);
  });
});

describe('logout', () => {
  it('revokes the credential and removes it from its section, leaving everything else', async () => {
    const credential = await cli.issueCredential();
    writeIni(credential);
    const exit = await cli.run(['logout']);
    expect(exit.code).toBe(0);
    const [revoke] = cli.requestsTo('POST', '/cli/revoke');
    expect(revoke?.form.get('client_id')).toBe(credential.clientId);
    expect(revoke?.form.get('client_secret')).toBe(credential.clientSecret);
    expect(revoke?.url).toBe('/cli/revoke');
    expect(await cli.isLive(credential)).toBe(false);
    expect(readFileSync(join(cli.cwd, 'looker.ini'), 'utf8')).toBe(
      [
        '# Looker SDK settings',
        '[Production]',
        'base_url=https://looker.example.com:19999',
        '',
        '[Looker]',
        `base_url = ${cli.gateway}`,
        '; the gateway-issued credential',
        'verify_ssl = true',
        '',
      ].join('\n'),
    );
    expect(exit.stderr).toContain(`Revoked the credential ${credential.clientId} on ${cli.gateway}.`);
    expect(exit.stderr).toContain('Removed the credential from [Looker] of ./looker.ini.');
    expect(statSync(join(cli.cwd, 'looker.ini')).mode & 0o777).toBe(0o600);
  });

  it('removes the section when only what login added is left in it, and the file when it is empty', async () => {
    const ini = join(cli.cwd, 'looker.ini');
    const credentials: Credential[] = [];
    for (const n of [1, 2, 3, 4]) credentials.push(await cli.issueCredential(`laptop ${n}`));
    const section = (c: Credential) => `[Looker]\nbase_url=${cli.gateway}\nclient_id=${c.clientId}\nclient_secret=${c.clientSecret}\nverify_ssl=true\n`;

    writeFileSync(ini, `[Other]\nx=1\n\n${section(credentials[0]!)}\n[Last]\ny=2\n`);
    expect((await cli.run(['logout'])).code).toBe(0);
    expect(readFileSync(ini, 'utf8')).toBe('[Other]\nx=1\n\n[Last]\ny=2\n');

    writeFileSync(ini, `[Other]\nx=1\n\n${section(credentials[1]!)}`);
    expect((await cli.run(['logout'])).code).toBe(0);
    expect(readFileSync(ini, 'utf8')).toBe('[Other]\nx=1\n');

    // A key of the person's own keeps the section.
    writeFileSync(ini, `${section(credentials[2]!)}timeout=300\n`);
    expect((await cli.run(['logout'])).code).toBe(0);
    expect(readFileSync(ini, 'utf8')).toBe(`[Looker]\nbase_url=${cli.gateway}\nverify_ssl=true\ntimeout=300\n`);

    writeFileSync(ini, section(credentials[3]!));
    const last = await cli.run(['logout']);
    expect(last.code).toBe(0);
    expect(existsSync(ini)).toBe(false);
    expect(last.stderr).toContain('Removed ./looker.ini, which held nothing else.');
    for (const credential of credentials) expect(await cli.isLive(credential)).toBe(false);
  });

  it('still removes a credential the gateway no longer knows', async () => {
    const credential = await cli.issueCredential();
    await cli.revoke(credential);
    writeIni(credential);
    const exit = await cli.run(['logout']);
    expect(exit.code).toBe(0);
    expect(exit.stderr).toContain(`${cli.gateway} no longer knew the credential ${credential.clientId}`);
    expect(readFileSync(join(cli.cwd, 'looker.ini'), 'utf8')).not.toContain('client_id');
  });

  it('keeps the file as it is when the gateway cannot be reached', async () => {
    const address = await closedPort();
    const before = writeIni({ clientId: 'lgwc_x', clientSecret: 'lgws_x' }, { baseUrl: address });
    const exit = await cli.run(['logout']);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain(`Could not reach ${address}`);
    expect(exit.stderr).toContain('The credential was not revoked; ./looker.ini is unchanged.');
    expect(readFileSync(join(cli.cwd, 'looker.ini'), 'utf8')).toBe(before);
  });

  it('keeps the file as it is when the gateway fails to revoke', async () => {
    const credential = await cli.issueCredential();
    const before = writeIni(credential);
    cli.intercept = (request, forward) =>
      request.path === '/cli/revoke' ? Promise.resolve(jsonAnswer(500, { error: 'server_error', error_description: 'KV is down' })) : forward();
    const exit = await cli.run(['logout']);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('answered POST /cli/revoke with 500: KV is down');
    expect(readFileSync(join(cli.cwd, 'looker.ini'), 'utf8')).toBe(before);
    expect(await cli.isLive(credential)).toBe(true);
  });

  it('fails without a credential to revoke', async () => {
    const exit = await cli.run(['logout']);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('Not signed in');
    expect(existsSync(join(cli.cwd, 'looker.ini'))).toBe(false);
  });
});

describe('help, version and usage errors', () => {
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

  it('prints the package version', async () => {
    const exit = await cli.run(['--version']);
    expect(exit).toEqual({ code: 0, stdout: `looker-oauth-gateway ${version}\n`, stderr: '' });
  });

  it.each([['help'], ['--help'], ['-h']])('%s prints the overview on stdout', async (flag) => {
    const exit = await cli.run([flag]);
    expect(exit.code).toBe(0);
    expect(exit.stdout).toContain('login <gateway-url>');
    expect(exit.stdout).toContain('first section');
    expect(exit.stdout).toContain('curl -fsSL https://looker-gateway.example.com/cli.mjs -o lgw.mjs && node lgw.mjs login https://looker-gateway.example.com');
  });

  it.each(['login', 'status', 'token', 'logout'])('has help for %s', async (command) => {
    const viaHelp = await cli.run(['help', command]);
    const viaFlag = await cli.run([command, '--help']);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toContain(`looker-oauth-gateway ${command}`);
    expect(viaFlag.stdout).toBe(viaHelp.stdout);
  });

  it.each([
    [[], 'No command given.'],
    [['frobnicate'], 'Unknown command "frobnicate".'],
    [['status', '--device'], '--device is an option of login only.'],
    [['token', 'extra'], 'token takes no arguments'],
    [['status', '--nope'], "Unknown option '--nope'"],
    [['login'], "login needs the gateway's address"],
    [['login', 'https://a.example.com', 'https://b.example.com'], 'login takes one address'],
    [['login', 'https://gw.example.com', '--timeout', 'soon'], '--timeout needs a number of seconds'],
    [['login', 'https://gw.example.com', '--timeout', '100000'], '--timeout needs a number of seconds'],
    [['login', 'https://gw.example.com', '--name', ' '], '--name needs a name'],
    [['status', '--section', 'a]b'], 'is not a usable section name'],
    [['help', 'nothing'], 'No help for "nothing".'],
  ])('%j is a usage error', async (args, message) => {
    const exit = await cli.run(args);
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain(message);
    expect(exit.stdout).toBe('');
    expect(cli.requests).toHaveLength(0);
  });

  it('never tells people to run it with npx', () => {
    expect(readFileSync(CLI, 'utf8')).not.toContain('npx');
  });
});

describe('as shipped', () => {
  it('is the package bin, executable, and runs from the packed tarball', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; private: boolean; version: string };
    expect(pkg.private).toBe(true);
    expect(pkg.bin).toEqual({ 'looker-oauth-gateway': 'cli/looker-oauth-gateway.mjs' });
    expect(statSync(CLI).mode & 0o111).not.toBe(0);
    expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);

    // What `npm pack` ships, unpacked somewhere else: the command runs from it alone.
    const out = mkdtempSync(join(tmpdir(), 'lgw-pack-'));
    execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', out], { cwd: ROOT, stdio: 'ignore' });
    const [tarball] = readdirSync(out).filter((f) => f.endsWith('.tgz'));
    const listing = execFileSync('tar', ['-tzf', join(out, tarball!)], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(listing).toContain('package/cli/looker-oauth-gateway.mjs');
    expect(listing.filter((f) => /^package\/(test|src|node_modules)\//.test(f))).toEqual([]);
    execFileSync('tar', ['-xzf', join(out, tarball!), '-C', out]);
    const shipped = join(out, 'package', 'cli', 'looker-oauth-gateway.mjs');
    expect(statSync(shipped).mode & 0o111).not.toBe(0);
    expect(execFileSync(shipped, ['--version'], { encoding: 'utf8', cwd: out })).toBe(`looker-oauth-gateway ${pkg.version}\n`);
  });

  it('runs as a lone file downloaded under another name, as the gateway serves it, and names itself so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgw-lone-'));
    copyFileSync(CLI, join(dir, 'lgw.mjs'));
    const exit = spawnSync(process.execPath, ['lgw.mjs', 'help', 'status'], { cwd: dir, encoding: 'utf8' });
    expect(exit.status).toBe(0);
    expect(exit.stdout).toContain('node lgw.mjs status [options]');
    const wrong = spawnSync(process.execPath, ['lgw.mjs', 'status', '--nope'], { cwd: dir, encoding: 'utf8' });
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('Run `node lgw.mjs help` for usage.');
  });

  it('imports nothing outside node: built-ins', () => {
    const source = readFileSync(CLI, 'utf8');
    const imports = [...source.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
    const dynamic = [...source.matchAll(/\bimport\(\s*(\S)([^'"`)]*)/g)].map((m) => `${m[1]}${m[2]}`);
    expect(imports.length).toBeGreaterThan(0);
    for (const specifier of imports) expect(specifier).toMatch(/^node:/);
    // Only JSDoc types, e.g. import('node:http').ServerResponse.
    for (const specifier of dynamic) expect(specifier).toMatch(/^'node:/);
    expect(source).not.toMatch(/\brequire\(/);
  });

  const systemNode = ['/usr/bin/node', '/usr/local/bin/node'].find((path) => existsSync(path));
  const systemNodeMajor = systemNode ? Number(spawnSync(systemNode, ['-p', 'process.versions.node.split(".")[0]']).stdout.toString()) : 0;

  // The whole sign-in on Node 20 is in test/e2e/cli.e2e.test.ts (the copy the gateway serves).
  it.runIf(systemNode !== undefined && systemNodeMajor < 22)(`starts on the system's older Node (${systemNode}) without a warning`, () => {
    const version = spawnSync(systemNode!, [CLI, '--version'], { encoding: 'utf8' });
    expect({ status: version.status, stdout: version.stdout, stderr: version.stderr }).toEqual({ status: 0, stdout: expect.stringMatching(/^looker-oauth-gateway /), stderr: '' });
    const status = spawnSync(systemNode!, [CLI, 'status'], { encoding: 'utf8', cwd: mkdtempSync(join(tmpdir(), 'lgw-old-')), env: { PATH: process.env.PATH } });
    expect(status.status).toBe(1);
    expect(status.stderr).toBe('Not signed in: there is no ./looker.ini. Run `looker-oauth-gateway login <gateway-url>` first.\n');
  });
});
