import { describe, expect, it } from 'vitest';
import { isApiUrl } from '../src/app.ts';
import { createHarness } from './helpers.ts';

describe('which app answers', () => {
  it('sends /api and everything under /api/ to the API proxy, nothing else', () => {
    for (const url of ['https://gw.test/api', 'https://gw.test/api/', 'https://gw.test/api/4.0/user', 'https://gw.test/api?x=1', 'http://localhost:8787/api/x']) {
      expect(isApiUrl(url), url).toBe(true);
    }
    for (const url of ['https://gw.test/', 'https://gw.test/apix', 'https://gw.test/api-docs', 'https://gw.test/login?next=/api/x', 'https://gw.test/x/api/y']) {
      expect(isApiUrl(url), url).toBe(false);
    }
  });

  it('answers a path next to /api from the site, as an HTML page', async () => {
    const h = createHarness();
    const res = await h.request('/apix');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });

  it('answers /api itself from the proxy, as JSON', async () => {
    const h = createHarness();
    const res = await h.request('/api');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.status).toBeGreaterThanOrEqual(400);
  });
});
