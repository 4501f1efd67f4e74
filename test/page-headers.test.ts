/**
 * Every HTML answer the site gives — pages, error pages, every status a route can answer
 * with — carries the same security headers, and a Content-Security-Policy whose
 * form-action names exactly the origins that page's forms lead to through a redirect:
 * Looker for "Your access" (create a credential) and the device code form, the command
 * line's loopback for its consent page, nothing else anywhere else.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { DeviceFlowStore } from '../src/callers/device-store.ts';
import type { Ledger } from '../src/grants/ledger.ts';
import {
  answerConsent,
  browserToConsent,
  cliRequest,
  createHarness,
  GATEWAY,
  type Harness,
  type HarnessOptions,
  isolatedKv,
  LOOKER,
  type TestKv,
} from './helpers.ts';
import { expectedCsp, NON_PAGE_PATHS, PAGE_SECURITY_HEADERS, type StatelessPage, statelessPages } from './policy-cases.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const SAME_ORIGIN = { ...FORM, origin: GATEWAY };
const CROSS_SITE = { ...FORM, origin: 'https://evil.example' };

/**
 * A harness whose storage objects (the per-person ledgers and the device sign-ins' store)
 * can be made to fail: every call (`'all'`), or the named methods only.
 */
function faultyHarness(options: HarnessOptions = {}) {
  const faults: { ledger: 'all' | Set<string> | null } = { ledger: null };
  const failing = (method: string | symbol) =>
    faults.ledger === 'all' || (faults.ledger !== null && typeof method === 'string' && faults.ledger.has(method));
  function wrap<T extends object>(real: T): T {
    // A Durable Object stub's methods are RPC proxies: call them as `stub[name](...)`.
    return new Proxy(real, {
      get: (_target, method) => (...args: unknown[]) =>
        failing(method)
          ? Promise.reject(new Error('Durable Object unavailable'))
          : (real as unknown as Record<string | symbol, (...a: unknown[]) => unknown>)[method]!(...args),
    });
  }
  return { h: createHarness({ ...options, wrapLedger: (l: Ledger) => wrap(l), wrapDeviceFlows: (d: DeviceFlowStore) => wrap(d) }), faults };
}

/** A KV namespace that can be made to fail every call. */
function faultyKv(): TestKv & { down: boolean } {
  const real = isolatedKv((env as unknown as { SESSIONS: KVNamespace }).SESSIONS);
  const kv = {
    ...real,
    down: false,
    get: (key: string) => (kv.down ? Promise.reject(new Error('KV unavailable')) : real.get(key)),
    put: (key: string, value: string, options: { expirationTtl: number }) => (kv.down ? Promise.reject(new Error('KV unavailable')) : real.put(key, value, options)),
    delete: (key: string) => (kv.down ? Promise.reject(new Error('KV unavailable')) : real.delete(key)),
  };
  return kv;
}

const enterCode = (h: Harness, code: string, headers: Record<string, string> = SAME_ORIGIN) =>
  h.request('/device', { method: 'POST', headers, body: new URLSearchParams({ user_code: code }).toString() });

async function startDevice(h: Harness): Promise<string> {
  const res = await h.request('/cli/device/code', { method: 'POST', withCookies: false, headers: FORM, body: 'name=build+server' });
  if (res.status !== 200) throw new Error(`POST /cli/device/code answered ${res.status}`);
  return ((await res.json()) as { user_code: string }).user_code;
}

/** A signed-in browser's "Create credential" up to its consent page. */
async function pageConsent(h: Harness): Promise<string> {
  await h.signIn();
  return browserToConsent(h, await h.request('/access/credentials', { method: 'POST', headers: SAME_ORIGIN, body: 'name=nightly' }));
}

/** A device sign-in whose code this browser entered, up to the consent page. */
async function deviceConsent(h: Harness): Promise<string> {
  return browserToConsent(h, await enterCode(h, await startDevice(h)));
}

interface Case {
  /** What the answer is. */
  name: string;
  status: number;
  /** The origins besides the gateway's own its form-action must name. */
  formTargets?: string[];
  /** Text the page must show (that it is the page meant). */
  shows: string;
  answer: () => Promise<Response>;
}

const LOOPBACK_PORT = 49321;

/** A page a request alone reaches (test/policy-cases.ts: the gateway on Deno's end-to-end test reads the same list). */
const stateless = (page: StatelessPage): Case => ({
  name: page.name,
  status: page.status,
  shows: page.shows,
  ...(page.formToLooker ? { formTargets: [LOOKER] } : {}),
  answer: () => createHarness().request(page.path, { method: page.method, headers: { ...page.headers }, ...(page.body === undefined ? {} : { body: page.body }) }),
});

const CASES: Case[] = [
  ...statelessPages(GATEWAY).map(stateless),
  // Home and sign-in.
  {
    name: 'home, signed in',
    status: 200,
    shows: 'Signed in to Looker',
    answer: async () => {
      const h = createHarness();
      await h.signIn();
      return h.request('/');
    },
  },
  {
    name: 'home, the Looker session has ended',
    status: 200,
    shows: 'Your Looker session has ended',
    answer: async () => {
      const h = createHarness();
      await h.signIn();
      h.clock.advance(3700);
      h.sim.faults.token = 'invalid-grant';
      return h.request('/');
    },
  },
  {
    name: 'home, Looker down',
    status: 502,
    shows: 'could not be reached',
    answer: async () => {
      const h = createHarness();
      await h.signIn();
      h.sim.faults.api = 'down';
      return h.request('/');
    },
  },
  {
    name: 'home, Looker does not answer in time',
    status: 504,
    shows: 'did not answer in time',
    answer: async () => {
      const h = createHarness({ lookerTimeoutMs: 50 });
      await h.signIn();
      h.sim.faults.api = 'hang';
      return h.request('/');
    },
  },
  {
    name: 'home, the ledger cannot confirm the session',
    status: 503,
    shows: 'Please try again',
    answer: async () => {
      const { h, faults } = faultyHarness();
      await h.signIn();
      h.clock.advance(10); // past the isolate's trust in its memory
      faults.ledger = 'all';
      return h.request('/');
    },
  },
  {
    name: 'an unhandled error (KV failing under a session cookie)',
    status: 500,
    shows: 'Something went wrong',
    answer: async () => {
      const kv = faultyKv();
      const h = createHarness({ kv });
      await h.signIn();
      // Another isolate, which has not seen the session: it must read KV.
      const other = createHarness(h.share());
      for (const [name, value] of h.jar) other.jar.set(name, value);
      kv.down = true;
      return other.request('/');
    },
  },
  {
    name: 'the configuration is broken',
    status: 500,
    shows: 'not configured correctly',
    answer: () => createHarness({ vars: { LOOKER_URL: undefined } }).request('/'),
  },
  {
    name: 'POST /logout, the ledger unavailable',
    status: 503,
    shows: 'end your session',
    answer: async () => {
      const { h, faults } = faultyHarness();
      await h.signIn();
      faults.ledger = 'all';
      return h.request('/logout', { method: 'POST', headers: SAME_ORIGIN });
    },
  },
  {
    name: 'a callback, Looker down',
    status: 502,
    shows: 'could not be reached',
    answer: async () => {
      const h = createHarness();
      const { path } = await h.startSignIn();
      h.sim.faults.token = 'down';
      return h.request(path);
    },
  },
  {
    name: 'a callback, Looker does not answer in time',
    status: 504,
    shows: 'did not answer in time',
    answer: async () => {
      const h = createHarness({ lookerTimeoutMs: 50 });
      const { path } = await h.startSignIn();
      h.sim.faults.token = 'hang';
      return h.request(path);
    },
  },
  {
    name: 'a callback, the session cannot be stored',
    status: 503,
    shows: 'finish the sign-in',
    answer: async () => {
      const { h, faults } = faultyHarness();
      const { path } = await h.startSignIn();
      faults.ledger = 'all';
      return h.request(path);
    },
  },
  {
    name: "a callback for a credential, its grant cannot be held for consent",
    status: 503,
    shows: 'prepare the credential',
    answer: async () => {
      const { h, faults } = faultyHarness();
      const start = await h.request((await cliRequest()).authorizePath);
      const back = new URL(await h.authorize(start));
      faults.ledger = 'all';
      return h.request(back.pathname + back.search);
    },
  },
  {
    name: "a callback with access_denied for a device's sign-in",
    status: 200,
    shows: 'Nothing was created',
    answer: async () => {
      const h = createHarness();
      const toLooker = await enterCode(h, await startDevice(h));
      const state = new URL(toLooker.headers.get('location')!).searchParams.get('state')!;
      return h.request(`/callback?error=access_denied&state=${encodeURIComponent(state)}`);
    },
  },

  // Your access.
  {
    name: 'Your access',
    status: 200,
    formTargets: [LOOKER],
    shows: 'Your access',
    answer: async () => {
      const h = createHarness();
      await h.signIn();
      return h.request('/access');
    },
  },
  {
    name: 'Your access, the ledger cannot list',
    status: 503,
    shows: 'list your access',
    answer: async () => {
      const { h, faults } = faultyHarness();
      await h.signIn();
      faults.ledger = new Set(['list']);
      return h.request('/access');
    },
  },
  {
    name: 'revoke, from another site',
    status: 403,
    shows: 'Forbidden',
    answer: async () => {
      const h = createHarness();
      await h.signIn();
      return h.request('/access/revoke', { method: 'POST', headers: CROSS_SITE, body: 'grant=x' });
    },
  },
  {
    name: 'revoke, naming nothing',
    status: 400,
    shows: 'Nothing to revoke',
    answer: async () => {
      const h = createHarness();
      await h.signIn();
      return h.request('/access/revoke', { method: 'POST', headers: SAME_ORIGIN, body: 'grant=x' });
    },
  },
  {
    name: 'revoke, the ledger unavailable',
    status: 503,
    shows: 'revoke it',
    answer: async () => {
      const { h, faults } = faultyHarness();
      await h.signIn();
      faults.ledger = new Set(['end']);
      return h.request('/access/revoke', { method: 'POST', headers: SAME_ORIGIN, body: `grant=${'A'.repeat(22)}` });
    },
  },
  {
    name: 'sign out everywhere, asking first',
    status: 200,
    shows: 'Yes, sign out everywhere',
    answer: async () => {
      const h = createHarness();
      await h.signIn();
      return h.request('/access/sign-out-everywhere');
    },
  },
  {
    name: 'sign out everywhere, the ledger cannot list',
    status: 503,
    shows: 'list your access',
    answer: async () => {
      const { h, faults } = faultyHarness();
      await h.signIn();
      faults.ledger = new Set(['list']);
      return h.request('/access/sign-out-everywhere');
    },
  },
  {
    name: 'sign out everywhere, the ledger unavailable',
    status: 503,
    shows: 'sign you out everywhere',
    answer: async () => {
      const { h, faults } = faultyHarness();
      await h.signIn();
      faults.ledger = new Set(['end']);
      return h.request('/access/sign-out-everywhere', { method: 'POST', headers: SAME_ORIGIN });
    },
  },
  {
    name: 'create a credential, from another site',
    status: 403,
    shows: 'Forbidden',
    answer: async () => {
      const h = createHarness();
      await h.signIn();
      return h.request('/access/credentials', { method: 'POST', headers: CROSS_SITE, body: 'name=x' });
    },
  },

  // The command line's pages.
  {
    name: 'consent, for the command line on this computer',
    status: 200,
    formTargets: [`http://127.0.0.1:${LOOPBACK_PORT}`],
    shows: 'on this computer',
    answer: async () => {
      const h = createHarness();
      const consentPath = await browserToConsent(h, await h.request((await cliRequest({ port: LOOPBACK_PORT })).authorizePath));
      return h.request(consentPath);
    },
  },
  {
    name: 'consent, for a device',
    status: 200,
    shows: 'A device asks to use the Looker API',
    answer: async () => {
      const h = createHarness();
      return h.request(await deviceConsent(h));
    },
  },
  {
    name: 'consent, for a credential made on Your access',
    status: 200,
    shows: 'as a new script credential',
    answer: async () => {
      const h = createHarness();
      return h.request(await pageConsent(h));
    },
  },
  {
    name: 'consent answered from another site',
    status: 403,
    shows: 'Forbidden',
    answer: async () => {
      const h = createHarness();
      return answerConsent(h, await pageConsent(h), 'allow', { origin: 'https://evil.example' });
    },
  },
  {
    name: 'consent answered, the ledger unavailable',
    status: 503,
    shows: 'record your answer',
    answer: async () => {
      const { h, faults } = faultyHarness();
      const consentPath = await pageConsent(h);
      faults.ledger = 'all';
      return answerConsent(h, consentPath, 'allow');
    },
  },
  {
    name: 'Deny',
    status: 200,
    shows: 'Nothing was created',
    answer: async () => {
      const h = createHarness();
      return answerConsent(h, await pageConsent(h), 'deny');
    },
  },
  {
    name: 'Allow: the credential, shown once',
    status: 200,
    shows: 'client_secret',
    answer: async () => {
      const h = createHarness();
      return answerConsent(h, await pageConsent(h), 'allow');
    },
  },
  {
    name: 'Allow: the credential cannot be created',
    status: 503,
    shows: 'create the credential',
    answer: async () => {
      const { h, faults } = faultyHarness();
      const consentPath = await pageConsent(h);
      faults.ledger = new Set(['createGrant']);
      return answerConsent(h, consentPath, 'allow');
    },
  },
  {
    name: 'Allow, for a device',
    status: 200,
    shows: 'Device allowed',
    answer: async () => {
      const h = createHarness();
      return answerConsent(h, await deviceConsent(h), 'allow');
    },
  },
  ...(['allow', 'deny'] as const).map(
    (decision): Case => ({
      name: `${decision === 'allow' ? 'Allow' : 'Deny'}, for a device another browser already answered`,
      status: 409,
      shows: 'Already answered',
      answer: async () => {
        const h = createHarness();
        const other = createHarness(h.share());
        const code = await startDevice(h);
        const first = await browserToConsent(h, await enterCode(h, code));
        const second = await browserToConsent(other, await enterCode(other, code));
        expect((await answerConsent(h, first, 'allow')).status).toBe(200);
        return answerConsent(other, second, decision);
      },
    }),
  ),
  {
    name: 'the device code form, too many wrong codes',
    status: 429,
    formTargets: [LOOKER],
    shows: 'Too many wrong codes',
    answer: async () => {
      const h = createHarness();
      for (let i = 0; i < 20; i++) await enterCode(h, 'BBBB-BBBB');
      return enterCode(h, 'BBBB-BBBB');
    },
  },
  {
    name: 'the device code form, the ledger unavailable',
    status: 503,
    formTargets: [LOOKER],
    shows: 'look up the code',
    answer: async () => {
      const { h, faults } = faultyHarness();
      faults.ledger = 'all';
      return enterCode(h, 'BBBB-BBBB');
    },
  },
];

describe('security headers of every HTML answer', () => {
  for (const c of CASES) {
    it(`${c.status} ${c.name}`, async () => {
      const res = await c.answer();
      const html = await res.text();
      expect(res.status).toBe(c.status);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(html).toContain(c.shows);
      expect(res.headers.get('content-security-policy')).toBe(expectedCsp(c.formTargets ?? []));
      for (const [name, value] of Object.entries(PAGE_SECURITY_HEADERS)) {
        if (typeof value === 'string') expect(res.headers.get(name), name).toBe(value);
        else expect(res.headers.get(name), name).toMatch(value);
      }
    });
  }

  it('the cases cover every status a page can answer with', () => {
    expect(new Set(CASES.map((c) => c.status))).toEqual(new Set([200, 400, 401, 403, 404, 405, 409, 410, 429, 500, 502, 503, 504]));
  });

  it("after waiting out too many wrong codes, the form's next code still leads to Looker", async () => {
    // The 429 page's form is the one the person submits next: its CSP must let that POST's redirect go to Looker.
    const h = createHarness();
    for (let i = 0; i < 20; i++) await enterCode(h, 'BBBB-BBBB');
    const waiting = await enterCode(h, 'BBBB-BBBB');
    expect(waiting.status).toBe(429);
    expect(waiting.headers.get('content-security-policy')).toContain(`form-action 'self' ${LOOKER};`);
    h.clock.advance(601);
    const toLooker = await enterCode(h, await startDevice(h));
    expect(toLooker.status).toBe(303);
    expect(new URL(toLooker.headers.get('location')!).origin).toBe(LOOKER);
  });

  it('answers that are not pages carry the same headers: redirects, health, the command line, assets', async () => {
    const h = createHarness();
    for (const path of NON_PAGE_PATHS) {
      const res = await h.request(path);
      expect(res.headers.get('content-security-policy'), path).toBe(expectedCsp([]));
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('referrer-policy'), path).toBe('same-origin');
      await res.body?.cancel();
    }
  });
});
