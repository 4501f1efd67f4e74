import { describe, expect, it } from 'vitest';
import { authEndpointOf, canonicalApiPath, resolveApiTarget } from '../src/http/api-target.ts';

// resolveApiTarget builds the target by appending, without parsing it again (it runs on
// every proxied request). These tests hold it to what a second parse would have checked:
// whatever it accepts, the runtime's URL parser reads as LOOKER_API_URL's host and a path
// under LOOKER_API_URL's /api/, and no plausible reading of it by a server names one of
// Looker's auth endpoints.

const BASES = ['https://looker.example.com', 'https://looker.example.com:19999', 'http://localhost:8788/looker'];
const LOOKER = 'https://looker.example.com';

/** A small deterministic PRNG (mulberry32), so a failure names a reproducible input. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  '/', '/', '.', '..', '%', '2e', '2E', '2f', '2F', '5c', '00', '\\', 'a', 'evil.example', '@', ':', '//', '#', '?', ' ', '\t',
  '\u0000', 'é', ';', 'https:', '%252e', 'api', 'login', 'LOGIN', 'logout', 'token', 'l', 'ogin', '%6c', '%6C', '%25', '%3b',
  '%3B', '.json', '4.0', '%E2%84%AA', '%C4%B1', '%EF%BD%8C', '%20', '%40', '%C3%A9', 'x',
];
const PREFIXES = ['/api/', '/api/4.0/', '/api/3.1/', '/'];

function hostilePath(next: () => number): string {
  let path = PREFIXES[Math.floor(next() * PREFIXES.length)]!;
  const length = Math.floor(next() * 8);
  for (let i = 0; i < length; i++) path += PIECES[Math.floor(next() * PIECES.length)];
  return path;
}

function expectUnderApi(url: string, base: string, input: string) {
  const parsed = new URL(url);
  const expected = new URL(base);
  expect(parsed.origin, input).toBe(expected.origin);
  expect(parsed.pathname.startsWith(`${expected.pathname.replace(/\/$/, '')}/api/`), `${input} → ${parsed.pathname}`).toBe(true);
}

/**
 * How servers might read a path, written independently of the gateway's code: taken
 * as is, percent-decoded once or twice; matrix parameters dropped or kept; backslashes
 * as slashes; compared case-insensitively the way Java's equalsIgnoreCase and Unicode
 * case folding do; dot segments resolved, empty segments collapsed.
 */
function readings(path: string): string[] {
  const decodings = [path];
  for (let i = 0; i < 2; i++) {
    try {
      decodings.push(decodeURIComponent(decodings.at(-1)!));
    } catch {
      break;
    }
  }
  const out: string[] = [];
  for (const decoded of decodings) {
    for (const matrix of [decoded, decoded.replace(/;[^/]*/g, '')]) {
      const folded = matrix.replaceAll('\\', '/').normalize('NFKC').toUpperCase().toLowerCase();
      const stack: string[] = [];
      for (const segment of folded.split('/')) {
        if (segment === '' || segment === '.') continue;
        if (segment === '..') stack.pop();
        else stack.push(segment);
      }
      out.push(`/${stack.join('/')}`);
    }
  }
  return out;
}

const NAMES_AUTH = /^\/api\/(?:[^/]+\/)?(?:login|logout|token)/;

describe('resolveApiTarget', () => {
  it('keeps path and query exactly as given', () => {
    const target = resolveApiTarget('GET', '/api/4.0/looks/search', '?title=a%20b&fields=id,title', LOOKER);
    expect(target).toEqual({ ok: true, url: 'https://looker.example.com/api/4.0/looks/search?title=a%20b&fields=id,title' });
    const encoded = resolveApiTarget('GET', '/api/4.0/looks/a%40b%20%C3%A9%3B', '?q=%7e', LOOKER);
    expect(encoded).toEqual({ ok: true, url: 'https://looker.example.com/api/4.0/looks/a%40b%20%C3%A9%3B?q=%7e' });
  });

  it('refuses what could be read as another path, with 400', () => {
    for (const path of [
      '/api//evil.example', '/api/a/../b', '/api/./x', '/api/%2e%2e/x', '/api/a%2Fb', '/api/a%5cb', '/api/a\\b', '/api/a%00',
      '/api/a\u0000', '/api/..', '/api/..#x', '/api/a/..?b', '/x/api/y', '/api', '/api/a;b', '/api/a;', '/api/%6cooks', '/api/%7E',
      '/api/%2D', '/api/%5F', '/api/%41', '/api/%30', '/api/a%252e', '/api/a%2541', '/api/a%', '/api/a%zz', '/api/a%4', '/api/%C3',
      '/api/%C0%AF', '/api/%C2%85', '/api/%7f', '/api/%1F',
    ]) {
      const target = resolveApiTarget('GET', path, '', LOOKER);
      expect(target.ok, path).toBe(false);
      if (!target.ok) expect(target.status, path).toBe(400);
    }
  });

  it('lets a % that is not double encoding through: %25 needs two hex digits after it to be one', () => {
    expect(resolveApiTarget('GET', '/api/4.0/x/100%25', '', LOOKER).ok).toBe(true);
    expect(resolveApiTarget('GET', '/api/4.0/x/100%25z', '', LOOKER).ok).toBe(true);
    expect(resolveApiTarget('GET', '/api/4.0/x/100%251', '', LOOKER).ok).toBe(true);
  });

  it('names the auth endpoint a path reaches, and whether the gateway answers that exact spelling itself', () => {
    const cases: [string, string, string, boolean][] = [
      ['POST', '/api/4.0/login', 'login', true],
      ['POST', '/api/3.1/login', 'login', true],
      ['POST', '/api/login', 'login', true],
      ['DELETE', '/api/4.0/logout', 'logout', true],
      ['DELETE', '/api/logout', 'logout', true],
      ['GET', '/api/4.0/login', 'login', false],
      ['POST', '/api/4.0/LOGIN', 'login', false],
      ['POST', '/api/4.0/login/7', 'login', false],
      ['POST', '/api/4.0/login.json', 'login', false],
      ['POST', '/api/4.0/login/', 'login', false],
      ['POST', '/api/4.0/log%C4%B1n', 'login', false],
      ['DELETE', '/api/3.1/logout', 'logout', false],
      ['POST', '/api/4.0/logout', 'logout', false],
      ['POST', '/api/token', 'token', false],
      ['POST', '/api/4.0/to%E2%84%AAen', 'token', false],
      ['GET', '/api/4.0/token%3Bx', 'token', false],
      ['GET', '/api/x%20y/token', 'token', false],
    ];
    for (const [method, path, endpoint, gatewayAnswers] of cases) {
      const target = resolveApiTarget(method, path, '?client_id=a&client_secret=b', LOOKER);
      expect(target, `${method} ${path}`).toMatchObject({ ok: false, status: 404, reason: 'auth-endpoint', endpoint, gatewayAnswers });
    }
  });

  it('forwards paths that only mention an auth endpoint elsewhere', () => {
    for (const path of ['/api/4.0/user_login_lockouts', '/api/4.0/users/7/login', '/api/4.0/looks/token', '/api/4.0/a/b/login', '/api/4.0/x%3B/login']) {
      expect(resolveApiTarget('POST', path, '', LOOKER).ok, path).toBe(true);
    }
  });

  it('whatever it accepts stays on LOOKER_API_URL under /api/ and no reading of it names an auth endpoint (20,000 generated paths)', () => {
    const next = random(20261128);
    let accepted = 0;
    let refusedAuth = 0;
    for (let i = 0; i < 20_000; i++) {
      const base = BASES[i % BASES.length]!;
      const path = hostilePath(next);
      const search = next() < 0.3 ? `?q=${hostilePath(next)}` : '';
      const target = resolveApiTarget('POST', path, search, base);
      const namesAuth = readings(path).filter((reading) => NAMES_AUTH.test(reading));
      if (!target.ok) {
        if (namesAuth.length > 0) refusedAuth++;
        continue;
      }
      accepted++;
      expectUnderApi(target.url, base, JSON.stringify(path + search));
      expect(namesAuth, JSON.stringify(path)).toEqual([]);
    }
    // The generator must exercise both branches, or this proves nothing.
    expect(accepted).toBeGreaterThan(2000);
    expect(refusedAuth).toBeGreaterThan(500);
  });
});

describe('canonicalApiPath', () => {
  it('decodes, folds case (beyond ASCII too), drops matrix parameters and empty segments, resolves dot segments', () => {
    const cases: [string, string][] = [
      ['/api/4.0/LOGIN', '/api/4.0/login'],
      ['/api/4.0/a%40b%20%C3%A9%3Bc=d/e', '/api/4.0/a@b é/e'],
      ['/api/4.0%3Bv=1/login', '/api/4.0/login'],
      ['/api/4.0/%3B/login', '/api/4.0/login'],
      ['/api/4.0/to%E2%84%AAen', '/api/4.0/token'],
      ['/api/4.0/log%C4%B1n', '/api/4.0/login'],
      ['/api/4.0/%EF%BD%8C%EF%BD%8F%EF%BD%87%EF%BD%89%EF%BD%8E', '/api/4.0/login'],
      ['/api/4.0/x/%EF%BC%8E%EF%BC%8E/login', '/api/4.0/login'],
      ['/api/4.0/%EF%BC%8Flogin', '/api/4.0/login'],
      ['/api/4.0/user/', '/api/4.0/user'],
    ];
    for (const [path, canonical] of cases) expect(canonicalApiPath(path), path).toEqual({ ok: true, path: canonical });
  });

  it('refuses ambiguous paths, saying why', () => {
    const cases: [string, RegExp][] = [
      ['/api/4.0/a;b', /matrix/],
      ['/api/4.0/%6cogin', /unreserved/],
      ['/api/4.0/a%2fb', /slash/],
      ['/api/4.0/a%5Cb', /slash/],
      ['/api/4.0/a%00', /control/],
      ['/api/4.0/a%C2%9F', /control/],
      ['/api/4.0/%256cogin', /double/],
      ['/api/4.0/a%', /%XX/],
      ['/api/4.0/%FF', /UTF-8/],
      ['/api/4.0//a', /empty/],
      ['/api/4.0/../a', /dot/],
      ['/api/%EF%BC%8E%EF%BC%8E/x', /outside/],
    ];
    for (const [path, problem] of cases) {
      const result = canonicalApiPath(path);
      expect(result.ok, path).toBe(false);
      if (!result.ok) expect(result.problem, path).toMatch(problem);
    }
  });
});

describe('authEndpointOf', () => {
  it('names token, login and logout under /api/ and /api/<version>/, with any suffix', () => {
    const cases: [string, string | undefined][] = [
      ['/api/token', 'token'],
      ['/api/4.0/token', 'token'],
      ['/api/anything/token', 'token'],
      ['/api/login', 'login'],
      ['/api/4.0/login/7', 'login'],
      ['/api/4.0/login.xml', 'login'],
      ['/api/3.1/logout', 'logout'],
      ['/api/logout;x', 'logout'],
      ['/api/4.0/user', undefined],
      ['/api/4.0/user_login_lockouts', undefined],
      ['/api/4.0/users/1/login', undefined],
      ['/api/a/b/token', undefined],
      ['/apilogin', undefined],
    ];
    for (const [path, endpoint] of cases) expect(authEndpointOf(path), path).toBe(endpoint);
  });
});
