/**
 * The device sign-in stores something before anyone signs in, and its user codes are
 * short: one client may not use up the gateway's room for device sign-ins, nor guess
 * codes quickly.
 */
import { describe, expect, it } from 'vitest';
import { createHarness, GATEWAY } from './helpers.ts';

const startDevice = (h: ReturnType<typeof createHarness>, ip: string) =>
  h.request('/cli/device/code', {
    method: 'POST',
    withCookies: false,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'cf-connecting-ip': ip },
    body: 'name=probe',
  });

const enterCode = (h: ReturnType<typeof createHarness>, ip: string, code: string) =>
  h.request('/device', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: GATEWAY, 'cf-connecting-ip': ip },
    body: new URLSearchParams({ user_code: code }).toString(),
  });

describe('device sign-in abuse', () => {
  it('one client address may hold at most 10 device sign-ins at once; others are not affected', async () => {
    const h = createHarness();
    for (let i = 0; i < 10; i++) expect((await startDevice(h, '203.0.113.7')).status).toBe(200);
    const refused = await startDevice(h, '203.0.113.7');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('600');
    expect(((await refused.json()) as { error: string }).error).toBe('slow_down');
    expect((await startDevice(h, '198.51.100.9')).status).toBe(200);
    // Ten minutes later the first ones have expired.
    h.clock.advance(601);
    expect((await startDevice(h, '203.0.113.7')).status).toBe(200);
  });

  it('after 20 wrong codes a client address waits ten minutes, even for a right one; others can still enter theirs', async () => {
    const h = createHarness();
    const started = (await (await startDevice(h, '198.51.100.9')).json()) as { user_code: string };
    for (let i = 0; i < 20; i++) expect((await enterCode(h, '203.0.113.7', 'BBBB-BBBB')).status).toBe(400);
    const locked = await enterCode(h, '203.0.113.7', started.user_code);
    expect(locked.status).toBe(429);
    expect(await locked.text()).toContain('Too many wrong codes');
    // Someone else's entry of the right code is not affected.
    expect((await enterCode(h, '198.51.100.9', started.user_code)).status).toBe(303);
    h.clock.advance(601);
    expect((await enterCode(h, '203.0.113.7', 'BBBB-BBBB')).status).toBe(400);
  });
});
