/**
 * Looker's auth endpoints (token, login, logout) must be unreachable through the proxy
 * however they are spelled: a generated corpus of spellings, each sent with every
 * forwarded method through the whole app, must never reach Looker and must be answered
 * with 400 or 404 JSON. And the legal paths around them still forward byte for byte.
 */
import { describe, expect, it } from 'vitest';
import { createHarness, GATEWAY, LOOKER_API } from './helpers.ts';

const AUTH_PATHS = [
  '/api/token',
  '/api/login',
  '/api/logout',
  '/api/4.0/login',
  '/api/4.0/logout',
  '/api/3.1/login',
  '/api/4.0/login/7',
  '/api/4.0/token',
];

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * The spellings the gateway is to answer itself (an SDK login shim), as the runtime
 * hands them over. Until it does they are refused like every other spelling; a dot
 * segment that the URL parser resolves into one of them is indistinguishable from it.
 */
const GATEWAY_ANSWERED = new Set(['POST /api/4.0/login', 'POST /api/3.1/login', 'POST /api/login', 'DELETE /api/4.0/logout', 'DELETE /api/logout']);

const hex = (char: string) => char.charCodeAt(0).toString(16).padStart(2, '0');

/** Every spelling of `path` the corpus tries, each with what it varies (for failure messages). */
function spellings(path: string): [string, string][] {
  const out: [string, string][] = [];
  const segments = path.split('/').slice(1);
  // Percent-encoding of each character in turn, upper- and lower-case hex.
  for (let i = 0; i < path.length; i++) {
    if (path[i] === '/') continue;
    const code = hex(path[i]!);
    for (const h of new Set([code.toLowerCase(), code.toUpperCase()])) {
      out.push([`${path.slice(0, i)}%${h}${path.slice(i + 1)}`, `encoded ${path[i]} as %${h}`]);
    }
  }
  // The whole name encoded, and double encoding of its first character.
  const name = segments.find((s) => /^(?:login|logout|token)$/.test(s))!;
  out.push([path.replace(name, [...name].map((c) => `%${hex(c)}`).join('')), 'name fully encoded']);
  out.push([path.replace(name, `%25${hex(name[0]!)}${name.slice(1)}`), 'double encoding']);
  out.push([path.replace(name, `%2525${hex(name[0]!)}${name.slice(1)}`), 'triple encoding']);
  // Case.
  out.push([path.toUpperCase(), 'upper case']);
  out.push([path.replace(name, name.toUpperCase()), 'name upper case']);
  out.push([path.replace(name, name[0]!.toUpperCase() + name.slice(1)), 'name capitalised']);
  out.push([path.replace(name, [...name].map((c, i) => (i % 2 ? c.toUpperCase() : c)).join('')), 'name mixed case']);
  // Case folding beyond ASCII: the Kelvin sign lower-cases to k, dotless i upper-cases to I.
  out.push([path.replace(name, name.replace('k', '%E2%84%AA').replace('i', '%C4%B1')), 'name with Unicode look-alikes']);
  // Matrix parameters after each segment, and encoded.
  for (let i = 1; i <= segments.length; i++) {
    out.push([`/${segments.slice(0, i).join('/')};x${i < segments.length ? '/' : ''}${segments.slice(i).join('/')}`, `;x after segment ${i}`]);
  }
  out.push([`${path}%3Bx`, 'encoded ;x']);
  out.push([`${path};`, 'trailing ;']);
  // Format suffixes and trailing bits.
  for (const suffix of ['.json', '.xml', '.JSON', '/', '%20', '%3F', '%23', '%00', '%09']) {
    out.push([`${path}${suffix}`, `suffix ${suffix}`]);
  }
  // Dot segments, literal and encoded (the runtime's URL parser resolves both).
  const parent = path.slice(0, path.lastIndexOf('/'));
  const last = path.slice(path.lastIndexOf('/') + 1);
  out.push([`${parent}/x/../${last}`, 'dot segments']);
  out.push([`${parent}/x/%2e%2e/${last}`, 'encoded dot segments']);
  out.push([`${parent}/x/%2E%2E/${last}`, 'encoded dot segments (upper case)']);
  out.push([`${parent}/./${last}`, 'single dot segment']);
  out.push([`${parent}/%2e/${last}`, 'encoded single dot segment']);
  out.push([`${parent}/x%2f..%2f${last}`, 'encoded slashes around a dot segment']);
  out.push([`${parent}/%252e%252e/x/${last}`, 'double-encoded dot segment']);
  // Encoded slashes and backslashes instead of a slash.
  for (const slash of ['%2f', '%2F', '%5c', '%5C', '%252f']) {
    out.push([`${parent}${slash}${last}`, `${slash} as the last slash`]);
  }
  out.push([`${parent}//${last}`, 'empty segment']);
  return out;
}

const CORPUS = AUTH_PATHS.flatMap((path) => spellings(path).map(([spelling, what]) => ({ path, spelling, what })));

async function signedIn() {
  const h = createHarness();
  await h.signIn();
  h.upstream.length = 0;
  return h;
}

describe("Looker's auth endpoints are unreachable however spelled", () => {
  it(`the corpus is large and holds every kind of spelling (${CORPUS.length} spellings)`, () => {
    expect(CORPUS.length).toBeGreaterThan(AUTH_PATHS.length * 40);
    expect(CORPUS.some((c) => c.spelling === '/api/4.0/%6cogin')).toBe(true);
    expect(CORPUS.some((c) => c.spelling === '/api/4.0/%6Cogout')).toBe(true);
    expect(CORPUS.some((c) => c.spelling === '/api/%74oken')).toBe(true);
    expect(CORPUS.some((c) => c.spelling === '/api/4.0/login;x')).toBe(true);
    expect(CORPUS.some((c) => c.spelling === '/api/4.0/login.json')).toBe(true);
    expect(CORPUS.some((c) => c.spelling === '/api/4.0/%256cogin')).toBe(true);
  });

  for (const path of AUTH_PATHS) {
    it(`no spelling of ${path} reaches Looker, with any method`, async () => {
      const h = await signedIn();
      for (const { spelling, what } of CORPUS.filter((c) => c.path === path)) {
        const parsed = new URL(spelling, GATEWAY).pathname;
        for (const method of METHODS) {
          const label = `${method} ${spelling} (${what})`;
          const res = await h.request(`${spelling}?client_id=id&client_secret=secret`, {
            method,
            headers: { origin: GATEWAY, accept: 'application/json' },
          });
          expect(h.upstream.map((r) => `${r.method} ${r.url}`), label).toEqual([]);
          if (GATEWAY_ANSWERED.has(`${method} ${parsed}`)) continue;
          // Sudo in the SDKs' own spelling is refused with 403 and a message saying why.
          const sudo = method === 'POST' && /^\/api\/4\.0\/login\/\d+$/.test(parsed);
          expect(sudo ? [403] : [400, 404], label).toContain(res.status);
          expect(res.headers.get('content-type'), label).toMatch(/^application\/json/);
          if (method !== 'HEAD') expect(typeof ((await res.json()) as { message: unknown }).message, label).toBe('string');
        }
      }
    });
  }

  it('an auth endpoint names what to use instead', async () => {
    const h = await signedIn();
    for (const [method, path] of [['POST', '/api/4.0/log%C4%B1n'], ['DELETE', '/api/4.0/LOGOUT'], ['POST', '/api/token.json']]) {
      const res = await h.request(path!, { method, headers: { origin: GATEWAY } });
      expect(res.status, path).toBe(404);
      expect(await res.json(), path).toMatchObject({ login_url: `${GATEWAY}/login`, logout_url: `${GATEWAY}/logout` });
    }
  });

  it('an ambiguous path says what is wrong with it', async () => {
    const h = await signedIn();
    const cases: [string, RegExp][] = [
      ['/api/4.0/looks;jsessionid=x', /;/],
      ['/api/4.0/%6cooks', /unreserved/],
      ['/api/4.0/looks%2f1', /slash/],
      ['/api/4.0/looks/%00', /control/],
      ['/api/4.0/looks/%2541', /double/],
      ['/api/4.0/looks/%zz', /%/],
      ['/api/4.0/looks/%C3', /UTF-8/],
    ];
    for (const [path, message] of cases) {
      const res = await h.request(path);
      expect(res.status, path).toBe(400);
      expect(((await res.json()) as { message: string }).message, path).toMatch(message);
    }
    expect(h.upstream).toEqual([]);
  });
});

describe('legal paths still forward byte for byte', () => {
  const legal = [
    '/api/4.0/echo/a%40b',
    '/api/4.0/echo/a%20b%C3%A9%3Bc%40d',
    '/api/4.0/echo/%E2%82%AC/%2C%3A%2B%26%3D%24%21%27%28%29%2A',
    '/api/4.0/echo/100%25',
    '/api/4.0/echo/%3F%23',
    '/api/4.0/echo/login',
    '/api/4.0/echo/token',
    '/api/4.0/echo/LoGiN.json',
    '/api/4.0/user_login_lockouts',
    '/api/4.0/user_login_lockout/abc',
    '/api/4.0/echo/trailing/',
  ];
  for (const path of legal) {
    it(path, async () => {
      const h = await signedIn();
      const res = await h.request(`${path}?q=%7E%2F&login=1`);
      expect(res.status).not.toBe(400);
      expect(h.upstream.map((r) => r.url)).toEqual([`${LOOKER_API}${path}?q=%7E%2F&login=1`]);
      if (path.startsWith('/api/4.0/echo/')) expect(((await res.json()) as { path: string }).path).toBe(path);
    });
  }
});
