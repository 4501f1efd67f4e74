import { describe, expect, it } from 'vitest';
import { resolveApiTarget } from '../src/api/target.ts';

// resolveApiTarget builds the target by appending, without parsing it again (it runs on
// every proxied request). These tests hold it to what a second parse would have checked:
// whatever it accepts, the runtime's URL parser reads as LOOKER_API_URL's host and a path
// under LOOKER_API_URL's /api/.

const BASES = ['https://looker.example.com', 'https://looker.example.com:19999', 'http://localhost:8788/looker'];

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

const PIECES = ['/', '/', '.', '..', '%', '2e', '2E', '2f', '2F', '5c', '00', '\\', 'a', 'evil.example', '@', ':', '//', '#', '?', ' ', '\t', '\u0000', 'é', ';', 'https:', '%252e', 'api'];

function hostilePath(next: () => number): string {
  let path = next() < 0.9 ? '/api/' : '/';
  const length = Math.floor(next() * 10);
  for (let i = 0; i < length; i++) path += PIECES[Math.floor(next() * PIECES.length)];
  return path;
}

function expectUnderApi(url: string, base: string, input: string) {
  const parsed = new URL(url);
  const expected = new URL(base);
  expect(parsed.origin, input).toBe(expected.origin);
  expect(parsed.pathname.startsWith(`${expected.pathname.replace(/\/$/, '')}/api/`), `${input} → ${parsed.pathname}`).toBe(true);
}

describe('resolveApiTarget', () => {
  it('keeps path and query exactly as given', () => {
    const target = resolveApiTarget('/api/4.0/looks/search', '?title=a%20b&fields=id,title', 'https://looker.example.com');
    expect(target).toEqual({ ok: true, url: 'https://looker.example.com/api/4.0/looks/search?title=a%20b&fields=id,title' });
  });

  it('refuses what could be read as another path', () => {
    for (const path of ['/api//evil.example', '/api/a/../b', '/api/./x', '/api/%2e%2e/x', '/api/a%2Fb', '/api/a%5cb', '/api/a\\b', '/api/a%00', '/api/a\u0000', '/api/..', '/api/..#x', '/api/a/..?b', '/x/api/y']) {
      const target = resolveApiTarget(path, '', 'https://looker.example.com');
      expect(target.ok, path).toBe(false);
      if (!target.ok) expect(target.status).toBe(400);
    }
  });

  it('whatever it accepts stays on LOOKER_API_URL under /api/ (10,000 generated paths)', () => {
    const next = random(20261128);
    let accepted = 0;
    for (let i = 0; i < 10_000; i++) {
      const base = BASES[i % BASES.length]!;
      const path = hostilePath(next);
      const search = next() < 0.3 ? `?q=${hostilePath(next)}` : '';
      const target = resolveApiTarget(path, search, base);
      if (!target.ok) continue;
      accepted++;
      expectUnderApi(target.url, base, JSON.stringify(path + search));
    }
    // The generator must exercise the accepting branch too, or this proves nothing.
    expect(accepted).toBeGreaterThan(1000);
  });
});
