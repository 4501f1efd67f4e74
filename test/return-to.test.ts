import { describe, expect, it } from 'vitest';
import { safeReturnTo } from '../src/site/return-to.ts';
import { createHarness, GATEWAY } from './helpers.ts';

/** Inputs that must never lead anywhere but a path on the gateway. */
const HOSTILE = [
  '//evil.example',
  '//evil.example/path',
  '///evil.example',
  '////evil.example',
  '/\\evil.example',
  '\\\\evil.example',
  '\\/evil.example',
  '/\\/evil.example',
  '/%5Cevil.example',
  '/%5cevil.example',
  '/%2F%2Fevil.example',
  '/%2f/evil.example',
  '/%252F%252Fevil.example',
  '/%25252F%25252Fevil.example',
  '%2F%2Fevil.example',
  'https://evil.example',
  'https:evil.example',
  'http://evil.example/',
  'HTTPS://EVIL.EXAMPLE',
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'vbscript:msgbox(1)',
  '/\t/evil.example',
  '/\n/evil.example',
  '/\r/evil.example',
  '/%09/evil.example',
  '/%0a/evil.example',
  '/%0d/evil.example',
  '/%00/evil.example',
  '\u0000//evil.example',
  ' //evil.example',
  '/ /evil.example',
  '/./\\evil.example',
  '/.//evil.example',
  '/a/..//evil.example',
  '/../..//evil.example',
  '/%2e%2e//evil.example',
  '/%2e/%2fevil.example',
  '/.%2F/evil.example',
  '@evil.example',
  'evil.example',
  '.evil.example',
  '//gateway.test@evil.example',
  'https://gateway.test@evil.example',
  'https://user:pass@gateway.test/',
  '/\u2028/evil.example',
  '/\u3002evil.example'.replace('\u3002', '\u2029'),
  '//\u0065vil.example',
  '/%E2%80%A8/evil.example',
  '/' + 'a'.repeat(3000),
  '/login',
  '/callback?code=x',
  '/logout',
  '',
];

describe('safeReturnTo', () => {
  for (const input of HOSTILE) {
    it(`refuses ${JSON.stringify(input).slice(0, 60)}`, () => {
      const result = safeReturnTo(input, GATEWAY);
      expect(result === '/' || (result.startsWith('/') && !result.startsWith('//'))).toBe(true);
      // Whatever comes back must resolve to the gateway itself.
      expect(new URL(result, GATEWAY).origin).toBe(GATEWAY);
      // And for these inputs, specifically, the answer is the home page.
      expect(result).toBe('/');
    });
  }

  const SAFE: [string, string][] = [
    ['/', '/'],
    ['/dashboards/7', '/dashboards/7'],
    ['/dashboards/7?tab=2&x=a%20b', '/dashboards/7?tab=2&x=a%20b'],
    ['/a/b#section', '/a/b#section'],
    ['/a/./b/../c', '/a/c'],
    ['/javascript:alert(1)', '/javascript:alert(1)'],
    ['/@evil.example', '/@evil.example'], // a path on the gateway, not a host
    ['/search?next=//evil.example', '/search?next=//evil.example'],
  ];
  for (const [input, expected] of SAFE) {
    it(`keeps ${input}`, () => {
      expect(safeReturnTo(input, GATEWAY)).toBe(expected);
    });
  }
});

describe('return_to through the whole sign-in', () => {
  it('every hostile return_to ends at "/" on the gateway', async () => {
    const h = createHarness();
    for (const input of HOSTILE.slice(0, 20)) {
      h.jar.clear();
      const res = await h.signIn(input);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/');
    }
  });

  it('a return_to that is not percent-encoded in the query string', async () => {
    const h = createHarness();
    const login = await h.request('/login?return_to=//evil.example');
    const back = new URL(await h.authorize(login));
    const res = await h.request(back.pathname + back.search);
    expect(res.headers.get('location')).toBe('/');
  });
});
