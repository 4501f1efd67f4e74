/**
 * `status`, `token` and `logout` as processes against a fake gateway, the help and version
 * output, and the command as it is shipped: the package's bin, the packed tarball, and the
 * system's older Node.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AUTHORIZE_URL,
  CLI,
  type FakeCredential,
  type FakeGateway,
  playBrowser,
  ROOT,
  runCli,
  startCli,
  startFakeGateway,
  tempDir,
  withFakeGatewayEachTest,
  USER,
} from './cli-harness.ts';

let gateway: FakeGateway;
let cwd: string;

withFakeGatewayEachTest((g, dir) => {
  gateway = g;
  cwd = dir;
});

const DAY = 86_400_000;

/** looker.ini as a person might have edited it: spaces around =, comments, another section. */
function writeIni(credential: FakeCredential, { section = 'Looker', file = 'looker.ini' } = {}) {
  const text = [
    '# Looker SDK settings',
    '[Production]',
    'base_url=https://looker.example.com:19999',
    '',
    `[${section}]`,
    `base_url = ${gateway.url}`,
    '; the gateway-issued credential',
    `client_id = ${credential.clientId}`,
    `client_secret = ${credential.clientSecret}`,
    'verify_ssl = true',
    '',
  ].join('\n');
  writeFileSync(join(cwd, file), text);
  return text;
}

describe('status', () => {
  it('shows whom the credential acts as and until when, then ends the API session it used', async () => {
    const credential = gateway.issue('laptop', 89.2 * DAY);
    writeIni(credential);
    const exit = await runCli(['status'], { cwd });
    expect(exit.code).toBe(0);
    const until = credential.expiresAt.slice(0, 10);
    expect(exit.stdout).toBe(
      `Signed in to ${gateway.url} as ${USER.display_name} <${USER.email}> (Looker user ${USER.id}) ` +
        `with credential "laptop" (${credential.clientId}), valid until ${until} (89 days)\n`,
    );
    const [login] = gateway.requestsTo('POST', '/api/4.0/login');
    expect(login?.form.get('client_id')).toBe(credential.clientId);
    expect(login?.form.get('client_secret')).toBe(credential.clientSecret);
    const [info] = gateway.requestsTo('GET', '/cli/credential');
    const [logout] = gateway.requestsTo('DELETE', '/api/4.0/logout');
    expect(info?.headers.authorization).toMatch(/^Bearer tok_/);
    expect(logout?.headers.authorization).toBe(info?.headers.authorization);
    expect(gateway.tokens.size).toBe(0);
    expect(exit.stdout + exit.stderr).not.toContain(credential.clientSecret);
  });

  it('reads the section --section names from the file --ini names', async () => {
    const credential = gateway.issue('ci', 10 * DAY + 3_600_000);
    writeIni(credential, { section: 'CI', file: 'ci.ini' });
    const exit = await runCli(['status', '--ini', 'ci.ini', '--section', 'CI'], { cwd });
    expect(exit.code).toBe(0);
    expect(exit.stdout).toContain('with credential "ci"');
    expect(exit.stdout).toContain('(10 days)');
  });

  it('says "not signed in" when the gateway no longer knows the credential', async () => {
    const credential = gateway.issue();
    credential.revoked = true;
    writeIni(credential, { section: 'Dev', file: 'dev.ini' });
    const exit = await runCli(['status', '--ini', 'dev.ini', '--section', 'Dev'], { cwd });
    expect(exit.code).toBe(1);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toContain(`Not signed in to ${gateway.url}: the credential in [Dev] of dev.ini (${credential.clientId}) was revoked`);
    expect(exit.stderr).toContain(`Run \`looker-oauth-gateway login ${gateway.url} --ini dev.ini --section Dev\` to sign in again.`);
    expect(gateway.requestsTo('DELETE', '/api/4.0/logout')).toHaveLength(0);
  });

  it('says "not signed in" without a file, a section or a credential in it', async () => {
    const noFile = await runCli(['status'], { cwd });
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toContain('Not signed in: there is no ./looker.ini.');

    writeFileSync(join(cwd, 'looker.ini'), '[Looker]\nbase_url=https://gw.example.com\n');
    const noCredential = await runCli(['status'], { cwd });
    expect(noCredential.code).toBe(1);
    expect(noCredential.stderr).toContain('Not signed in: [Looker] of ./looker.ini holds no client_id and client_secret.');

    const noSection = await runCli(['status', '--section', 'Other'], { cwd });
    expect(noSection.code).toBe(1);
    expect(noSection.stderr).toContain('[Other] of ./looker.ini holds no client_id');
    expect(gateway.requests).toHaveLength(0);
  });

  it('will not send the secret to a plain-http base_url on another machine', async () => {
    writeFileSync(join(cwd, 'looker.ini'), '[Looker]\nbase_url=http://gw.example.com\nclient_id=a\nclient_secret=b\n');
    const exit = await runCli(['status'], { cwd });
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('base_url in [Looker] of ./looker.ini: http:// is only for a gateway on this machine');
  });

  it('does not follow a redirect with the secret', async () => {
    const credential = gateway.issue();
    writeIni(credential);
    const elsewhere = await startFakeGateway();
    gateway.redirectTo = elsewhere.url;
    try {
      const exit = await runCli(['status'], { cwd });
      expect(exit.code).toBe(1);
      expect(exit.stderr).toContain(`${gateway.url} answered POST /api/4.0/login with a redirect (307)`);
      expect(elsewhere.requests).toHaveLength(0);
    } finally {
      await elsewhere.close();
    }
  });

  it('says so when the gateway cannot be reached', async () => {
    writeIni(gateway.issue());
    const address = gateway.url;
    await gateway.close();
    const exit = await runCli(['status'], { cwd });
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain(`Could not reach ${address}: `);
  });
});

describe('token', () => {
  it('prints only an access token, and leaves it valid', async () => {
    writeIni(gateway.issue());
    const exit = await runCli(['token'], { cwd });
    expect(exit.code).toBe(0);
    const [token] = [...gateway.tokens.keys()];
    expect(exit.stdout).toBe(`${token}\n`);
    expect(gateway.requestsTo('DELETE', '/api/4.0/logout')).toHaveLength(0);
    expect(gateway.requestsTo('GET', '/cli/credential')).toHaveLength(0);
  });

  it('prints nothing on stdout and fails when not signed in', async () => {
    const credential = gateway.issue();
    credential.revoked = true;
    writeIni(credential);
    const exit = await runCli(['token'], { cwd });
    expect(exit.code).toBe(1);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toContain('Not signed in');
    expect(exit.stderr).toContain(`Run \`looker-oauth-gateway login ${gateway.url}\``);
  });
});

describe('logout', () => {
  it('revokes the credential and removes it from its section, leaving everything else', async () => {
    const credential = gateway.issue();
    writeIni(credential);
    const exit = await runCli(['logout'], { cwd });
    expect(exit.code).toBe(0);
    const [revoke] = gateway.requestsTo('POST', '/cli/revoke');
    expect(revoke?.form.get('client_id')).toBe(credential.clientId);
    expect(revoke?.form.get('client_secret')).toBe(credential.clientSecret);
    expect(revoke?.url).toBe('/cli/revoke');
    expect(credential.revoked).toBe(true);
    expect(readFileSync(join(cwd, 'looker.ini'), 'utf8')).toBe(
      [
        '# Looker SDK settings',
        '[Production]',
        'base_url=https://looker.example.com:19999',
        '',
        '[Looker]',
        `base_url = ${gateway.url}`,
        '; the gateway-issued credential',
        'verify_ssl = true',
        '',
      ].join('\n'),
    );
    expect(exit.stderr).toContain(`Revoked the credential ${credential.clientId} on ${gateway.url}.`);
    expect(exit.stderr).toContain('Removed the credential from [Looker] of ./looker.ini.');
    expect(statSync(join(cwd, 'looker.ini')).mode & 0o777).toBe(0o600);
  });

  it('removes the section when only what login added is left in it, and the file when it is empty', async () => {
    const ini = join(cwd, 'looker.ini');
    const section = (c: FakeCredential) => `[Looker]\nbase_url=${gateway.url}\nclient_id=${c.clientId}\nclient_secret=${c.clientSecret}\nverify_ssl=true\n`;

    writeFileSync(ini, `[Other]\nx=1\n\n${section(gateway.issue())}\n[Last]\ny=2\n`);
    expect((await runCli(['logout'], { cwd })).code).toBe(0);
    expect(readFileSync(ini, 'utf8')).toBe('[Other]\nx=1\n\n[Last]\ny=2\n');

    writeFileSync(ini, `[Other]\nx=1\n\n${section(gateway.issue())}`);
    expect((await runCli(['logout'], { cwd })).code).toBe(0);
    expect(readFileSync(ini, 'utf8')).toBe('[Other]\nx=1\n');

    // A key of the person's own keeps the section.
    writeFileSync(ini, `${section(gateway.issue())}timeout=300\n`);
    expect((await runCli(['logout'], { cwd })).code).toBe(0);
    expect(readFileSync(ini, 'utf8')).toBe(`[Looker]\nbase_url=${gateway.url}\nverify_ssl=true\ntimeout=300\n`);

    writeFileSync(ini, section(gateway.issue()));
    const last = await runCli(['logout'], { cwd });
    expect(last.code).toBe(0);
    expect(existsSync(ini)).toBe(false);
    expect(last.stderr).toContain('Removed ./looker.ini, which held nothing else.');
    expect([...gateway.credentials.values()].every((c) => c.revoked)).toBe(true);
  });

  it('still removes a credential the gateway no longer knows', async () => {
    const credential = gateway.issue();
    credential.revoked = true;
    writeIni(credential);
    const exit = await runCli(['logout'], { cwd });
    expect(exit.code).toBe(0);
    expect(exit.stderr).toContain(`${gateway.url} no longer knew the credential ${credential.clientId}`);
    expect(readFileSync(join(cwd, 'looker.ini'), 'utf8')).not.toContain('client_id');
  });

  it('keeps the file as it is when the gateway cannot be reached', async () => {
    const before = writeIni(gateway.issue());
    const address = gateway.url;
    await gateway.close();
    const exit = await runCli(['logout'], { cwd });
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain(`Could not reach ${address}`);
    expect(exit.stderr).toContain('The credential was not revoked; ./looker.ini is unchanged.');
    expect(readFileSync(join(cwd, 'looker.ini'), 'utf8')).toBe(before);
  });

  it('keeps the file as it is when the gateway fails to revoke', async () => {
    const before = writeIni(gateway.issue());
    gateway.revokeAnswer = { status: 500, body: { error: 'server_error', error_description: 'KV is down' } };
    const exit = await runCli(['logout'], { cwd });
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('answered POST /cli/revoke with 500: KV is down');
    expect(readFileSync(join(cwd, 'looker.ini'), 'utf8')).toBe(before);
  });

  it('fails without a credential to revoke', async () => {
    const exit = await runCli(['logout'], { cwd });
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('Not signed in');
    expect(existsSync(join(cwd, 'looker.ini'))).toBe(false);
  });
});

describe('help, version and usage errors', () => {
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

  it('prints the package version', async () => {
    const exit = await runCli(['--version'], { cwd });
    expect(exit).toEqual({ code: 0, stdout: `looker-oauth-gateway ${version}\n`, stderr: '' });
  });

  it.each([['help'], ['--help'], ['-h']])('%s prints the overview on stdout', async (flag) => {
    const exit = await runCli([flag], { cwd });
    expect(exit.code).toBe(0);
    expect(exit.stdout).toContain('login <gateway-url>');
    expect(exit.stdout).toContain('first section');
  });

  it.each(['login', 'status', 'token', 'logout'])('has help for %s', async (command) => {
    const viaHelp = await runCli(['help', command], { cwd });
    const viaFlag = await runCli([command, '--help'], { cwd });
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
    [['status', '--section', 'a]b'], 'is not a usable section name'],
    [['help', 'nothing'], 'No help for "nothing".'],
  ])('%j is a usage error', async (args, message) => {
    const exit = await runCli(args, { cwd });
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain(message);
    expect(exit.stdout).toBe('');
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
    const out = tempDir();
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

  it('runs as a lone file downloaded under another name, as the gateway serves it', () => {
    const dir = tempDir();
    copyFileSync(CLI, join(dir, 'lgw.mjs'));
    const exit = spawnSync(process.execPath, ['lgw.mjs', 'help'], { cwd: dir, encoding: 'utf8' });
    expect(exit.status).toBe(0);
    expect(exit.stdout).toContain('login <gateway-url>');
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

  it.runIf(systemNode !== undefined && systemNodeMajor < 22)(`runs on the system's older Node (${systemNode})`, async () => {
    const version = await runCli(['--version'], { cwd, node: systemNode });
    expect(version).toEqual({ code: 0, stdout: expect.stringMatching(/^looker-oauth-gateway /), stderr: '' });

    const cli = startCli(['login', gateway.url, '--no-open'], { cwd, node: systemNode });
    const [url] = await cli.waitForStderr(AUTHORIZE_URL);
    expect((await playBrowser(url)).status).toBe(200);
    const login = await cli.exit;
    expect(login.code).toBe(0);
    expect(login.stderr).not.toMatch(/warning/i);

    const status = await runCli(['status'], { cwd, node: systemNode });
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`Signed in to ${gateway.url}`);
    const logout = await runCli(['logout'], { cwd, node: systemNode });
    expect(logout.code).toBe(0);
    expect(gateway.issuedThroughToken().revoked).toBe(true);
  });
});
