import { describe, expect, it } from 'vitest';
import { type DenoFacts, doctor, type WranglerFacts } from '../ops/doctor.ts';
import { ACCOUNTS_BINDING, DEVICE_FLOWS_BINDING } from '../src/platform/cloudflare/bindings.ts';
import { register } from '../ops/register.ts';
import { createLookerSimulator, type SimulatorOptions } from '../sim/simulator.ts';

const LOOKER = 'https://looker.test';
const ADMIN = { LOOKER_ADMIN_CLIENT_ID: 'admin-key-id', LOOKER_ADMIN_CLIENT_SECRET: 'admin-key-secret-value' };
const BASE = {
  LOOKER_URL: LOOKER,
  LOOKER_CLIENT_ID: 'looker-oauth-gateway',
  GATEWAY_URL: 'https://gw.example.com',
  // Random, as openssl rand -base64 32 makes them.
  SESSION_SECRET: 'tGCrwC9T7oN0FVWHnPPxjeRKzFCLHkYafnv1iuFhvz4=',
  ...ADMIN,
};

function setup(simOptions: SimulatorOptions = {}) {
  const sim = createLookerSimulator({
    clientId: 'looker-oauth-gateway',
    registerApp: false,
    apiKeys: [
      { clientId: 'admin-key-id', clientSecret: 'admin-key-secret-value', admin: true },
      { clientId: 'user-key-id', clientSecret: 'user-key-secret', admin: false },
    ],
    ...simOptions,
  });
  const output: string[] = [];
  const tool = { fetch: sim.fetch, print: (line: string) => output.push(line) };
  return { sim, output, tool, text: () => output.join('\n') };
}

function expectNoSecrets(text: string) {
  expect(text).not.toContain('admin-key-secret-value');
  expect(text).not.toContain('admin-key-id');
  expect(text).not.toContain(BASE.SESSION_SECRET);
}

describe('npm run register', () => {
  it('creates the app when absent, then says it is up to date; always logs the admin session out', async () => {
    const s = setup();
    expect(await register({ ...s.tool, vars: BASE, argv: [] })).toBe(0);
    expect(s.text()).toContain('✓ Registered the OAuth client app "looker-oauth-gateway".');
    const app = s.sim.apps.get('looker-oauth-gateway')!;
    expect(app).toMatchObject({ redirect_uri: 'https://gw.example.com/callback', enabled: true, display_name: 'Looker OAuth Gateway' });
    expect(s.sim.apiSessionCount()).toBe(0);

    s.output.length = 0;
    expect(await register({ ...s.tool, vars: BASE, argv: [] })).toBe(0);
    expect(s.text()).toContain('is registered and up to date; nothing to do');
    expect(s.text()).toContain('✓ Closed the admin API session.');
    expect(s.sim.apiSessionCount()).toBe(0);
    expectNoSecrets(s.text());
  });

  it('shows a difference as a dry run, and changes it only with --apply', async () => {
    const s = setup();
    await register({ ...s.tool, vars: { ...BASE, GATEWAY_URL: 'https://old.example.com' }, argv: [] });
    s.output.length = 0;
    expect(await register({ ...s.tool, vars: BASE, argv: ['--display-name', 'Team gateway'] })).toBe(0);
    expect(s.text()).toContain('redirect_uri: "https://old.example.com/callback" → "https://gw.example.com/callback"');
    expect(s.text()).toContain('display_name: "Looker OAuth Gateway" → "Team gateway"');
    expect(s.text()).toContain('Dry run: nothing changed');
    expect(s.sim.apps.get('looker-oauth-gateway')!.redirect_uri).toBe('https://old.example.com/callback');

    s.output.length = 0;
    expect(await register({ ...s.tool, vars: BASE, argv: ['--apply', '--display-name', 'Team gateway', '--group-id', '7'] })).toBe(0);
    expect(s.text()).toContain('✓ Updated');
    expect(s.sim.apps.get('looker-oauth-gateway')).toMatchObject({ redirect_uri: 'https://gw.example.com/callback', display_name: 'Team gateway', group_id: '7' });
    expect(s.sim.apiSessionCount()).toBe(0);
  });

  it('re-enables a disabled app with --apply', async () => {
    const s = setup();
    await register({ ...s.tool, vars: BASE, argv: [] });
    s.sim.apps.get('looker-oauth-gateway')!.enabled = false;
    s.output.length = 0;
    await register({ ...s.tool, vars: BASE, argv: ['--apply'] });
    expect(s.text()).toContain('enabled: false → true');
    expect(s.sim.apps.get('looker-oauth-gateway')!.enabled).toBe(true);
  });

  const failures: [string, Record<string, string | undefined>, SimulatorOptions, string][] = [
    ['a wrong admin key (Looker answers 404)', { LOOKER_ADMIN_CLIENT_SECRET: 'wrong' }, {}, 'Looker refused the admin API key (404)'],
    ['a key whose user is not an admin', { LOOKER_ADMIN_CLIENT_ID: 'user-key-id', LOOKER_ADMIN_CLIENT_SECRET: 'user-key-secret' }, {}, 'is not a Looker admin (403)'],
    ['a Looker too old for oauth_client_apps', {}, { withoutOAuthAppsApi: true }, 'too old for OAuth client apps'],
    ['an invalid GATEWAY_URL', { GATEWAY_URL: 'https://gw.example.com/path' }, {}, 'GATEWAY_URL must be an origin only'],
    ['a plain-http GATEWAY_URL', { GATEWAY_URL: 'http://gw.example.com' }, {}, 'GATEWAY_URL must use https'],
    ['a missing admin key', { LOOKER_ADMIN_CLIENT_ID: undefined, LOOKER_ADMIN_CLIENT_SECRET: undefined }, {}, 'LOOKER_ADMIN_CLIENT_ID is required'],
    ['a missing LOOKER_CLIENT_ID', { LOOKER_CLIENT_ID: undefined }, {}, 'LOOKER_CLIENT_ID is required'],
  ];
  for (const [name, vars, simOptions, message] of failures) {
    it(`fails clearly on ${name}`, async () => {
      const s = setup(simOptions);
      const code = await register({ ...s.tool, vars: { ...BASE, ...vars }, argv: [] });
      expect(code).toBe(1);
      expect(s.text()).toContain(message);
      expect(s.sim.apiSessionCount()).toBe(0);
      expectNoSecrets(s.text());
    });
  }

  it('fails clearly when Looker is unreachable', async () => {
    const s = setup();
    s.sim.faults.unreachable = true;
    expect(await register({ ...s.tool, vars: BASE, argv: [] })).toBe(1);
    expect(s.text()).toContain('Looker could not be reached at https://looker.test');
  });

  it('refuses unknown options', async () => {
    const s = setup();
    expect(await register({ ...s.tool, vars: BASE, argv: ['--client-secret', 'x'] })).toBe(2);
    expect(s.text()).toContain('unknown option --client-secret');
  });
});

const VAR_TABLES: WranglerFacts['varTables'] = [
  { table: '[vars]', environment: undefined, names: [] },
  { table: '[env.production.vars]', environment: 'production', names: ['GATEWAY_URL', 'LOOKER_URL', 'LOOKER_CLIENT_ID'] },
];
const LOCAL_WRANGLER: WranglerFacts = {
  environment: undefined,
  kvNamespaceId: '00000000000000000000000000000000',
  durableObjects: [ACCOUNTS_BINDING, DEVICE_FLOWS_BINDING],
  varTables: VAR_TABLES,
};
const PROD_WRANGLER: WranglerFacts = { ...LOCAL_WRANGLER, environment: 'production', kvNamespaceId: '0123456789abcdef0123456789abcdef' };

describe('npm run doctor', () => {
  async function registered(simOptions: SimulatorOptions = {}) {
    const s = setup(simOptions);
    await register({ ...s.tool, vars: BASE, argv: [] });
    s.output.length = 0;
    return s;
  }

  it('all green: exit 0, a ✓ per check', async () => {
    const s = await registered();
    const code = await doctor({ ...s.tool, vars: BASE, argv: [], wrangler: PROD_WRANGLER });
    expect(s.text()).not.toContain('✗');
    expect(code).toBe(0);
    for (const line of [
      '✓ configuration variables are valid',
      'answers at https://looker.test',
      '✓ LOOKER_API_URL matches the api_server_url',
      '✓ LOOKER_URL matches the web_server_url',
      '✓ OAuth client app "looker-oauth-gateway" is registered',
      '✓ the OAuth client app is enabled',
      '✓ its redirect_uri is https://gw.example.com/callback',
      'binds the SESSIONS KV namespace',
      `✓ wrangler.toml [env.production] binds the ${ACCOUNTS_BINDING} Durable Object`,
      `✓ wrangler.toml [env.production] binds the ${DEVICE_FLOWS_BINDING} Durable Object`,
      '✓ wrangler.toml sets no secret in [vars]',
      'All checks passed.',
    ]) {
      expect(s.text()).toContain(line);
    }
    expect(s.sim.apiSessionCount()).toBe(0);
    expectNoSecrets(s.text());
  });

  it('suggests the API URL Looker reports (e.g. the :19999 port)', async () => {
    const s = await registered({ apiServerUrl: 'https://looker.test:19999', webServerUrl: LOOKER });
    const code = await doctor({ ...s.tool, vars: BASE, argv: [], wrangler: PROD_WRANGLER });
    expect(code).toBe(1);
    expect(s.text()).toContain('Looker says its API is at https://looker.test:19999');
    expect(s.text()).toContain('fix: LOOKER_API_URL=https://looker.test:19999');
  });

  it('flags a wrong LOOKER_URL', async () => {
    const s = await registered({ webServerUrl: 'https://acme.cloud.looker.com' });
    expect(await doctor({ ...s.tool, vars: BASE, argv: [], wrangler: PROD_WRANGLER })).toBe(1);
    expect(s.text()).toContain('fix: LOOKER_URL=https://acme.cloud.looker.com');
  });

  it('flags a redirect_uri that does not match GATEWAY_URL, a disabled app, a missing app', async () => {
    const s = await registered();
    s.sim.apps.get('looker-oauth-gateway')!.redirect_uri = 'https://old.example.com/callback';
    s.sim.apps.get('looker-oauth-gateway')!.enabled = false;
    expect(await doctor({ ...s.tool, vars: BASE, argv: [], wrangler: PROD_WRANGLER })).toBe(1);
    expect(s.text()).toContain('✗ its redirect_uri is https://old.example.com/callback, but GATEWAY_URL/callback is https://gw.example.com/callback');
    expect(s.text()).toContain('✗ the OAuth client app is disabled');
    expect(s.text()).toContain('fix: npm run register -- --apply');

    const t = setup();
    expect(await doctor({ ...t.tool, vars: BASE, argv: [], wrangler: PROD_WRANGLER })).toBe(1);
    expect(t.text()).toContain('✗ no OAuth client app "looker-oauth-gateway" is registered');
    expect(t.text()).toContain('fix: npm run register');
  });

  it('flags a weak SESSION_SECRET and bad URLs, and does not contact Looker then', async () => {
    const s = setup();
    const code = await doctor({ ...s.tool, vars: { ...BASE, SESSION_SECRET: 'short', LOOKER_URL: 'http://looker.example.com' }, argv: [], wrangler: LOCAL_WRANGLER });
    expect(code).toBe(1);
    expect(s.text()).toContain('✗ SESSION_SECRET is too weak');
    expect(s.text()).toContain('fix: openssl rand -base64 32');
    expect(s.text()).toContain('✗ LOOKER_URL must use https');
    expect(s.sim.stats.versionsRequests).toBe(0);
    expectNoSecrets(s.text());
  });

  for (const [name, secret] of [
    ['32 hex digits', '0123456789abcdef0123456789abcdef'.split('').reverse().join('')],
    ['a long made-up phrase', 'our team gateway secret, please keep it safe and never share it'],
    ['a long repetition', 'abc'.repeat(30)],
  ]) {
    it(`flags a weak SESSION_SECRET it can read, in production too: ${name}`, async () => {
      const s = await registered();
      expect(await doctor({ ...s.tool, vars: { ...BASE, SESSION_SECRET: secret! }, argv: [], wrangler: PROD_WRANGLER })).toBe(1);
      expect(s.text()).toContain('✗ SESSION_SECRET is too weak: it needs at least 256 bits of randomness');
      expect(s.text()).toContain('fix: openssl rand -base64 32');
      expect(s.text()).not.toContain(secret!);
    });
  }

  it('flags secrets set in wrangler.toml [vars], in any environment, naming the command to use instead', async () => {
    const s = await registered();
    const code = await doctor({
      ...s.tool,
      vars: BASE,
      argv: [],
      wrangler: {
        ...PROD_WRANGLER,
        varTables: [
          { table: '[vars]', environment: undefined, names: ['SESSION_SECRET'] },
          { table: '[env.production.vars]', environment: 'production', names: ['GATEWAY_URL', 'LOOKER_ADMIN_CLIENT_SECRET'] },
          { table: '[env.staging.vars]', environment: 'staging', names: ['SESSION_SECRET', 'LOOKER_URL'] },
        ],
      },
    });
    expect(code).toBe(1);
    const text = s.text();
    expect(text).toContain('✗ SESSION_SECRET is set in wrangler.toml [vars]');
    expect(text).toContain('fix: remove it from wrangler.toml, then: npm exec wrangler -- secret put SESSION_SECRET\n');
    expect(text).toContain('✗ LOOKER_ADMIN_CLIENT_SECRET is set in wrangler.toml [env.production.vars]');
    expect(text).toContain('npm exec wrangler -- secret put LOOKER_ADMIN_CLIENT_SECRET --env production');
    expect(text).toContain('✗ SESSION_SECRET is set in wrangler.toml [env.staging.vars]');
    expect(text).toContain('npm exec wrangler -- secret put SESSION_SECRET --env staging');
    expect(text).not.toContain('GATEWAY_URL is set in wrangler.toml');
    expect(text).not.toContain('sets no secret');
    expectNoSecrets(text);
  });

  it(`local development: a missing ${ACCOUNTS_BINDING} binding is ✗ too`, async () => {
    const s = await registered();
    expect(await doctor({ ...s.tool, vars: BASE, argv: [], wrangler: { ...LOCAL_WRANGLER, durableObjects: ['SOMETHING_ELSE'] } })).toBe(1);
    expect(s.text()).toContain(`✗ wrangler.toml local development has no ${ACCOUNTS_BINDING} Durable Object binding`);
    expect(s.text()).toContain(`✗ wrangler.toml local development has no ${DEVICE_FLOWS_BINDING} Durable Object binding`);
  });

  it('flags an unreachable Looker', async () => {
    const s = await registered();
    s.sim.faults.unreachable = true;
    expect(await doctor({ ...s.tool, vars: BASE, argv: [], wrangler: PROD_WRANGLER })).toBe(1);
    expect(s.text()).toContain('✗ LOOKER_API_URL https://looker.test: not reachable');
  });

  it('production: a placeholder KV id, a missing Durable Object binding, no GATEWAY_URL are ✗', async () => {
    const s = await registered();
    const vars = { ...BASE, GATEWAY_URL: undefined, SESSION_SECRET: undefined };
    const code = await doctor({
      ...s.tool,
      vars,
      argv: [],
      wrangler: { ...PROD_WRANGLER, kvNamespaceId: '00000000000000000000000000000000', durableObjects: [] },
    });
    expect(code).toBe(1);
    expect(s.text()).toContain('binds SESSIONS to a placeholder id');
    expect(s.text()).toContain('kv namespace create SESSIONS --env production');
    expect(s.text()).toContain(`no ${ACCOUNTS_BINDING} Durable Object binding`);
    expect(s.text()).toContain('✗ GATEWAY_URL is not set for this environment');
    expect(s.text()).toContain('– SESSION_SECRET is a Worker secret');
    // The stand-in for the unreadable secret is judged strong, so no ✗ is about it.
    expect(s.text()).not.toContain('✗ SESSION_SECRET');
  });

  describe('with only the simulator (locally, no LOOKER_URL)', () => {
    /** A fetch that fails the test if the doctor contacts anything. */
    const noNetwork = { fetch: () => Promise.reject(new Error('the doctor must not contact anything here')) };

    it('a fresh clone (nothing set): nothing fails, exit 0, and it says how to check a real Looker', async () => {
      const s = setup();
      const code = await doctor({ ...s.tool, ...noNetwork, vars: {}, argv: [], wrangler: LOCAL_WRANGLER });
      expect(s.text()).not.toContain('✗');
      expect(code).toBe(0);
      for (const line of [
        '– no Looker configured (LOOKER_URL is unset): npm run dev uses the bundled Looker simulator',
        'to check a real Looker: set LOOKER_URL and LOOKER_CLIENT_ID in .dev.vars',
        '– SESSION_SECRET not set yet: npm run dev creates .dev.vars with a fresh one',
        '✓ configuration variables are valid for the simulator',
        '– Looker not contacted: none is configured',
        '✓ wrangler.toml local development binds the ACCOUNTS Durable Object',
        'No check failed.',
      ]) {
        expect(s.text()).toContain(line);
      }
      expect(s.text()).not.toContain('All checks passed');
    });

    it('after npm run dev made .dev.vars: its SESSION_SECRET is judged', async () => {
      const s = setup();
      expect(await doctor({ ...s.tool, ...noNetwork, vars: { SESSION_SECRET: BASE.SESSION_SECRET }, argv: [], wrangler: LOCAL_WRANGLER })).toBe(0);
      expect(s.text()).toContain('✓ configuration variables are valid for the simulator (SESSION_SECRET included)');
      expectNoSecrets(s.text());
      const weak = setup();
      expect(await doctor({ ...weak.tool, ...noNetwork, vars: { SESSION_SECRET: 'short' }, argv: [], wrangler: LOCAL_WRANGLER })).toBe(1);
      expect(weak.text()).toContain('✗ SESSION_SECRET is too weak');
      expect(weak.text()).toContain('1 check failed.');
    });

    it('what is wrong besides Looker still fails: a bad GATEWAY_URL, wrangler.toml', async () => {
      const s = setup();
      const code = await doctor({ ...s.tool, ...noNetwork, vars: { GATEWAY_URL: 'not a url' }, argv: [], wrangler: { ...LOCAL_WRANGLER, durableObjects: [] } });
      expect(code).toBe(1);
      expect(s.text()).toContain('✗ GATEWAY_URL');
      expect(s.text()).toContain(`✗ wrangler.toml local development has no ${ACCOUNTS_BINDING} Durable Object binding`);
    });

    it('is local only: production without LOOKER_URL fails as before; so does a local LOOKER_URL without LOOKER_CLIENT_ID', async () => {
      const prod = setup();
      expect(await doctor({ ...prod.tool, ...noNetwork, vars: { GATEWAY_URL: 'https://gw.example.com' }, argv: [], wrangler: PROD_WRANGLER })).toBe(1);
      expect(prod.text()).toContain('✗ LOOKER_URL is required');
      expect(prod.text()).not.toContain('no Looker configured');
      const local = setup();
      expect(await doctor({ ...local.tool, vars: { LOOKER_URL: LOOKER, SESSION_SECRET: BASE.SESSION_SECRET }, argv: [], wrangler: LOCAL_WRANGLER })).toBe(1);
      expect(local.text()).toContain('✗ LOOKER_CLIENT_ID is required');
    });
  });

  it('local development: the placeholder KV id is fine; no admin key means the app check is skipped', async () => {
    const s = await registered();
    const code = await doctor({ ...s.tool, vars: { ...BASE, ...{ LOOKER_ADMIN_CLIENT_ID: undefined, LOOKER_ADMIN_CLIENT_SECRET: undefined } }, argv: [], wrangler: LOCAL_WRANGLER });
    expect(code).toBe(0);
    expect(s.text()).toContain('– OAuth app not checked: set LOOKER_ADMIN_CLIENT_ID');
    expect(s.text()).toContain('(local KV under npm run dev)');
  });

  describe('--runtime deno', () => {
    const DENO: DenoFacts = { version: 'deno 2.9.6 (stable, release, x86_64-unknown-linux-gnu)' };
    // wrangler.toml is not read on Deno: facts that would fail every wrangler check prove it.
    const NO_WRANGLER: WranglerFacts = { environment: undefined, kvNamespaceId: undefined, durableObjects: [], varTables: [], problem: 'not read' };
    const SELF_HOSTED = { ...BASE, DENO_KV_PATH: '/var/lib/looker-gw/kv.sqlite3', TRUSTED_PROXY_HEADER: 'X-Forwarded-For' };

    it('self-hosted, all green: Looker, the app, Deno, the KV file and the proxy header; wrangler.toml is not judged', async () => {
      const s = await registered();
      const code = await doctor({ ...s.tool, vars: SELF_HOSTED, argv: ['--runtime', 'deno'], wrangler: NO_WRANGLER, deno: DENO });
      expect(s.text()).not.toContain('✗');
      expect(code).toBe(0);
      for (const line of [
        '✓ configuration variables are valid',
        '✓ OAuth client app "looker-oauth-gateway" is registered',
        '✓ its redirect_uri is https://gw.example.com/callback',
        `✓ ${DENO.version} (from npm install)`,
        '✓ DENO_KV_PATH /var/lib/looker-gw/kv.sqlite3 can be written here',
        "✓ TRUSTED_PROXY_HEADER: the client's address is read from x-forwarded-for",
        'All checks passed.',
      ]) {
        expect(s.text()).toContain(line);
      }
      expect(s.text()).not.toContain('wrangler.toml');
      expectNoSecrets(s.text());
    });

    it('Deno Deploy: no DENO_KV_PATH and no proxy header are right there, and said so', async () => {
      const s = await registered();
      expect(await doctor({ ...s.tool, vars: BASE, argv: ['--runtime', 'deno'], wrangler: NO_WRANGLER, deno: DENO })).toBe(0);
      expect(s.text()).toContain('– DENO_KV_PATH not set: right on Deno Deploy');
      expect(s.text()).toContain("– TRUSTED_PROXY_HEADER not set: the client is the connection's address");
    });

    it.each([
      [{ DENO_KV_PATH: ':memory:' }, {}, '✗ DENO_KV_PATH is :memory:: nothing survives a restart', 'fix: set DENO_KV_PATH to a file'],
      [{ DENO_KV_PATH: '/srv/kv.sqlite3' }, { kvFileProblem: 'its directory /srv does not exist' }, '✗ DENO_KV_PATH /srv/kv.sqlite3: its directory /srv does not exist', 'fix: create its directory'],
      [{ DENO_KV_PATH: 'https://kv.internal.example.com/' }, {}, '✗ DENO_KV_PATH is a KV Connect server (https://kv.internal.example.com), but DENO_KV_ACCESS_TOKEN is not set', 'fix: set DENO_KV_ACCESS_TOKEN'],
      [{ TRUSTED_PROXY_HEADER: 'x forwarded' }, {}, '✗ TRUSTED_PROXY_HEADER is not a header name ("x forwarded")', 'e.g. x-forwarded-for'],
      [{ TRUSTED_PROXY_HEADER: 'User-Agent' }, {}, '✗ TRUSTED_PROXY_HEADER names user-agent, a header every client writes itself', 'e.g. x-forwarded-for'],
      [{ GATEWAY_URL: 'http://gw.example.com' }, {}, '✗ GATEWAY_URL must use https', 'fix: set GATEWAY_URL in the environment the server runs with'],
      [{ SESSION_SECRET: 'short' }, {}, '✗ SESSION_SECRET', "fix: openssl rand -base64 32, then set SESSION_SECRET in the service's environment file"],
    ] as const)('%o is ✗, with its fix', async (vars, facts, problem, fix) => {
      const s = await registered();
      expect(await doctor({ ...s.tool, vars: { ...SELF_HOSTED, ...vars }, argv: ['--runtime', 'deno'], wrangler: NO_WRANGLER, deno: { ...DENO, ...facts } })).toBe(1);
      expect(s.text()).toContain(problem);
      expect(s.text()).toContain(fix);
      expect(s.text()).not.toContain('GATEWAY_URL not set');
      expectNoSecrets(s.text());
    });

    it('a KV Connect server with its token is ✓, and not contacted', async () => {
      const s = await registered();
      const vars = { ...SELF_HOSTED, DENO_KV_PATH: 'https://kv.internal.example.com', DENO_KV_ACCESS_TOKEN: 'kv-token-value' };
      expect(await doctor({ ...s.tool, vars, argv: ['--runtime', 'deno'], wrangler: NO_WRANGLER, deno: DENO })).toBe(0);
      expect(s.text()).toContain('✓ DENO_KV_PATH is a KV Connect server (https://kv.internal.example.com), with an access token (not contacted)');
      expect(s.text()).not.toContain('kv-token-value');
    });

    it('no Deno in node_modules is ✗ with npm install as the fix; --env and an unknown runtime are refused', async () => {
      const s = await registered();
      expect(await doctor({ ...s.tool, vars: SELF_HOSTED, argv: ['--runtime', 'deno'], wrangler: NO_WRANGLER, deno: { version: undefined } })).toBe(1);
      expect(s.text()).toContain('✗ no Deno in node_modules');
      expect(s.text()).toContain('fix: npm install');
      s.output.length = 0;
      expect(await doctor({ ...s.tool, vars: SELF_HOSTED, argv: ['--runtime', 'deno', '--env', 'production'], wrangler: NO_WRANGLER, deno: DENO })).toBe(2);
      expect(s.text()).toContain('--env names a wrangler.toml environment');
      s.output.length = 0;
      expect(await doctor({ ...s.tool, vars: SELF_HOSTED, argv: ['--runtime', 'bun'], wrangler: NO_WRANGLER })).toBe(2);
      expect(s.text()).toContain('--runtime must be workers or deno, not bun');
    });

    it('with only the simulator: ready for npm run dev -- --runtime deno', async () => {
      const s = setup();
      expect(await doctor({ ...s.tool, vars: {}, argv: ['--runtime', 'deno'], wrangler: NO_WRANGLER, deno: DENO })).toBe(0);
      expect(s.text()).toContain('Ready for npm run dev -- --runtime deno with the bundled Looker simulator');
    });
  });
});
