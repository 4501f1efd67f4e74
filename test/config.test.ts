import { describe, expect, it } from 'vitest';
import { estimateSecretBits, parseVariables } from '../src/config.ts';
import { ACCOUNTS_BINDING, DEVICE_FLOWS_BINDING, KV_BINDING } from '../src/platform/cloudflare/bindings.ts';
import { cloudflareRuntime } from '../src/platform/cloudflare/runtime.ts';
import { createHarness, SESSION_SECRET } from './helpers.ts';

/** The variables and the Worker's bindings, checked as the gateway checks them on an isolate's first request. */
function parseConfig(env: Record<string, unknown>) {
  const variables = parseVariables(env);
  const stores = cloudflareRuntime({ defer: () => {} }).storesFor(env);
  const problems = [...(variables.ok ? [] : variables.problems), ...(stores.ok ? [] : stores.problems)];
  return problems.length === 0 ? variables : { ok: false as const, problems };
}

/** Stand-ins for the bindings: the runtime only checks that they can name objects, and read and write. */
const KV = { get: async () => null, put: async () => {}, delete: async () => {} };
const NAMESPACE = { idFromName: () => ({}) };
const BINDINGS = { [ACCOUNTS_BINDING]: NAMESPACE, [DEVICE_FLOWS_BINDING]: NAMESPACE, [KV_BINDING]: KV };

const randomBytes = (n: number) => crypto.getRandomValues(new Uint8Array(n));
const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const base64url = (bytes: Uint8Array) => base64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

describe('configuration errors', () => {
  it('every request answers 500 naming each bad variable, never its value', async () => {
    const h = createHarness({
      vars: {
        LOOKER_URL: 'not a url',
        LOOKER_CLIENT_ID: undefined,
        SESSION_SECRET: 'short-secret-value',
        GATEWAY_URL: 'https://gw.example/some/path',
      },
    });
    for (const path of ['/', '/login', '/callback?code=x&state=y']) {
      const res = await h.request(path);
      expect(res.status).toBe(500);
      const body = await res.text();
      expect(body).toContain('LOOKER_URL');
      expect(body).toContain('LOOKER_CLIENT_ID');
      expect(body).toContain('SESSION_SECRET');
      expect(body).toContain('GATEWAY_URL');
      expect(body).not.toContain('short-secret-value');
      expect(body).not.toContain('not a url');
      expect(body).not.toMatch(/at .*\.ts:\d+/);
    }
    // Logged once per isolate, not once per request.
    const logged = h.logs.filter((l) => l.includes('config_invalid'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).not.toContain('short-secret-value');
    expect(logged[0]).toContain('SESSION_SECRET');
  });

  it('answers JSON to JSON clients', async () => {
    const h = createHarness({ vars: { LOOKER_URL: undefined } });
    const res = await h.request('/', { headers: { accept: 'application/json' } });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { problems: { variable: string; problem: string }[] };
    expect(body.problems.map((p) => p.variable)).toEqual(['LOOKER_URL']);
  });

  it('refuses plain-http Looker URLs except on localhost', () => {
    const base = { LOOKER_CLIENT_ID: 'x', SESSION_SECRET, ...BINDINGS };
    const bad = parseConfig({ ...base, LOOKER_URL: 'http://looker.example.com' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems[0]!.problem).toContain('https');
    expect(parseConfig({ ...base, LOOKER_URL: 'http://localhost:8788' }).ok).toBe(true);
    expect(parseConfig({ ...base, LOOKER_URL: 'http://127.0.0.1:9999' }).ok).toBe(true);
  });

  it('defaults LOOKER_API_URL to LOOKER_URL and the scope to cors_api; strips trailing slashes', () => {
    const result = parseConfig({ LOOKER_URL: 'https://acme.cloud.looker.com/', LOOKER_CLIENT_ID: 'x', SESSION_SECRET, ...BINDINGS });
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.config.lookerUrl).toBe('https://acme.cloud.looker.com');
      expect(result.config.lookerApiUrl).toBe('https://acme.cloud.looker.com');
      expect(result.config.lookerScope).toBe('cors_api');
      expect(result.config.gatewayOrigin).toBeUndefined();
    }
  });

  it('names every problem at once', () => {
    const result = parseConfig({ LOOKER_URL: 'ftp://x', LOOKER_API_URL: 'https://u:p@x', GATEWAY_URL: 'nope', LOOKER_SCOPE: 'a"b' });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems.map((p) => p.variable).sort()).toEqual(
        ['GATEWAY_URL', 'LOOKER_API_URL', 'LOOKER_CLIENT_ID', 'LOOKER_SCOPE', 'LOOKER_URL', 'SESSION_SECRET', ACCOUNTS_BINDING, DEVICE_FLOWS_BINDING, KV_BINDING].sort(),
      );
    }
  });
});

describe('SESSION_SECRET strength', () => {
  const base = { LOOKER_URL: 'https://acme.cloud.looker.com', LOOKER_CLIENT_ID: 'x', ...BINDINGS };

  it('accepts secrets with at least 256 bits of randomness: 64 hex digits, 43+ base64 characters', () => {
    for (let i = 0; i < 200; i++) {
      for (const secret of [hex(randomBytes(32)), hex(randomBytes(32)).toUpperCase(), base64(randomBytes(32)), base64url(randomBytes(32)), base64(randomBytes(48)), hex(randomBytes(64))]) {
        const result = parseConfig({ ...base, SESSION_SECRET: secret });
        expect(result.ok, `${secret} (${estimateSecretBits(secret)} bits)`).toBe(true);
      }
    }
    expect(parseConfig({ ...base, SESSION_SECRET }).ok).toBe(true);
  });

  it('refuses what only looks long: 32 hex digits, repetition, patterns, phrases of few distinct characters', () => {
    const weak = [
      hex(randomBytes(16)),
      base64(randomBytes(24)),
      base64url(randomBytes(31)),
      'a'.repeat(64),
      'ab'.repeat(40),
      '0123456789abcdef'.repeat(4),
      'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_'.repeat(2),
      hex(randomBytes(8)).repeat(8),
      'passwordpasswordpasswordpasswordpasswordpassword12',
      'correct horse battery staple correct horse battery staple',
      'this is our team secret for the looker gateway, do not share it',
      'test-session-secret-0123456789abcdefghijkl',
    ];
    for (const secret of weak) {
      const result = parseConfig({ ...base, SESSION_SECRET: secret });
      expect(result.ok, `${secret} (${estimateSecretBits(secret)} bits)`).toBe(false);
      if (!result.ok) {
        expect(result.problems).toHaveLength(1);
        expect(result.problems[0]!.variable).toBe('SESSION_SECRET');
        expect(result.problems[0]!.problem).toContain('256 bits');
        expect(result.problems[0]!.problem).toContain('openssl rand -base64 32');
        expect(JSON.stringify(result.problems)).not.toContain(secret);
      }
    }
  });

  it('estimates bits from the alphabet the characters come from', () => {
    expect(estimateSecretBits(hex(randomBytes(32)))).toBe(256);
    expect(estimateSecretBits(hex(randomBytes(16)))).toBe(128);
    const b64 = base64(randomBytes(32));
    expect(estimateSecretBits(b64)).toBe(258); // 43 characters of 6 bits; the padding carries none
    expect(estimateSecretBits('')).toBe(0);
  });
});

describe('the Worker\'s bindings', () => {
  const vars = { LOOKER_URL: 'https://acme.cloud.looker.com', LOOKER_CLIENT_ID: 'x', SESSION_SECRET };

  it('is a configuration problem when missing or not a Durable Object namespace (each of the two)', () => {
    for (const [name, className] of [[ACCOUNTS_BINDING, 'AccountObject'], [DEVICE_FLOWS_BINDING, 'DeviceFlowObject']] as const) {
      for (const binding of [undefined, 'a string', {}, { idFromName: 'not a function' }, null]) {
        const result = parseConfig({ ...vars, ...BINDINGS, [name]: binding });
        expect(result.ok, String(binding)).toBe(false);
        if (!result.ok) {
          expect(result.problems.map((p) => p.variable)).toEqual([name]);
          expect(result.problems[0]!.problem).toMatch(new RegExp(`Durable Object class ${className}`));
        }
      }
    }
    expect(parseConfig({ ...vars, ...BINDINGS }).ok).toBe(true);
  });

  it('a missing or wrong KV binding is a configuration problem too', () => {
    for (const kv of [undefined, 'a string', {}, { get: () => null }, null]) {
      const result = parseConfig({ ...vars, ...BINDINGS, [KV_BINDING]: kv });
      expect(result.ok, String(kv)).toBe(false);
      if (!result.ok) expect(result.problems).toEqual([{ variable: KV_BINDING, problem: expect.stringMatching(/KV namespace/) }]);
    }
  });

  it('are not checked by parseVariables (the operator tools see no bindings)', () => {
    expect(parseVariables(vars).ok).toBe(true);
  });

  it('missing: every request answers 500 with the configuration page naming it', async () => {
    const h = createHarness({ vars: { [ACCOUNTS_BINDING]: undefined } });
    for (const path of ['/', '/login', '/api/4.0/user']) {
      const res = await h.request(path);
      expect(res.status, path).toBe(500);
      expect(await res.text(), path).toContain(ACCOUNTS_BINDING);
    }
    expect(h.upstream).toEqual([]);
  });
});

describe('gateway origin and cookies', () => {
  it('without GATEWAY_URL, redirect_uri follows the request origin', async () => {
    const h = createHarness({ vars: { GATEWAY_URL: undefined } });
    const res = await h.request('/login');
    expect(new URL(res.headers.get('location')!).searchParams.get('redirect_uri')).toBe('https://gateway.test/callback');
  });

  it('on http://localhost the cookies still use __Host- and Secure (browsers allow it there)', async () => {
    const h = createHarness({ vars: { GATEWAY_URL: 'http://localhost:8787' } });
    const res = await h.request('/login');
    const cookie = res.headers.getSetCookie()[0]!;
    expect(cookie).toMatch(/^__Host-lgw_login_[\w-]{12}=/);
    expect(cookie).toMatch(/Secure/);
  });

  it('a plain-http non-local origin is sent to https (or refused, on another port) before any cookie is set', async () => {
    const h = createHarness({ vars: { GATEWAY_URL: undefined } });
    const res = await h.app.fetch(new Request('http://10.1.2.3/login'), h.bindings);
    expect(res.status).toBe(308);
    expect(res.headers.get('location')).toBe('https://10.1.2.3/login');
    expect(res.headers.getSetCookie()).toEqual([]);
    const other = await h.app.fetch(new Request('http://10.1.2.3:8787/login'), h.bindings);
    expect(other.status).toBe(400);
    expect(other.headers.getSetCookie()).toEqual([]);
  });
});
