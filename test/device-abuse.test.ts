/**
 * The device sign-in stores something before anyone signs in, and its user codes are
 * short. One network may not use up the gateway's room for device sign-ins, nor guess
 * codes quickly, not even with requests sent all at once; a web page cannot make its
 * visitors' browsers do either; and a flood cannot lock everyone else out.
 */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { DeviceLimits } from '../src/callers/device-store.ts';
import { networkGroupOf, networkOf } from '../src/http/client.ts';
import { credentialName } from '../src/site/flows.tsx';
import { answerConsent, browserToConsent, createHarness, GATEWAY, type Harness, ledgerWith } from './helpers.ts';

const startDevice = (h: Harness, ip: string, headers: Record<string, string> = {}) =>
  h.request('/cli/device/code', {
    method: 'POST',
    withCookies: false,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'cf-connecting-ip': ip, ...headers },
    body: 'name=probe',
  });

const enterCode = (h: Harness, ip: string, code: string) =>
  h.request('/device', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: GATEWAY, 'cf-connecting-ip': ip },
    body: new URLSearchParams({ user_code: code }).toString(),
  });

const poll = async (h: Harness, deviceCode: string, headers: Record<string, string> = {}) => {
  const res = await h.request('/cli/token', {
    method: 'POST',
    withCookies: false,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode }).toString(),
  });
  return { status: res.status, body: (await res.json()) as { error?: string } };
};

/** Runs a query in the harness's device-flow object (what is stored, not what the gateway says). */
function stored(h: Harness, query: string): Promise<number> {
  const namespace = (env as unknown as { DEVICE_FLOWS: DurableObjectNamespace }).DEVICE_FLOWS;
  const stub = namespace.get(namespace.idFromName(`${h.ledgerNamePrefix}device-flow`));
  return runInDurableObject(stub, (_instance, state) => state.storage.sql.exec<{ n: number }>(query).one().n);
}

/** An address in 2001:db8:1:N::/64 (one network for a given N). */
const inNetwork = (n: number, host: number) => `2001:db8:1:${n.toString(16)}:${(host >> 16).toString(16)}:${(host & 0xffff).toString(16)}::1`;

describe('networks', () => {
  it('an IPv6 address counts as its /64, an IPv4 address as itself', () => {
    expect(networkOf('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(networkOf('2001:DB8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(networkOf('2001:0db8:0001:0002:0000:0000:0000:0001')).toBe('2001:db8:1:2::/64');
    expect(networkOf('::1')).toBe('0:0:0:0::/64');
    expect(networkOf('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    expect(networkOf('203.0.113.7')).toBe('203.0.113.7');
    expect(networkOf('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(networkOf('not an address')).toBe('not an address');
    // IPv4-mapped, in any spelling, is the IPv4 address.
    for (const spelling of ['0:0:0:0:0:ffff:203.0.113.7', '::ffff:cb00:7107', '::FFFF:203.0.113.7']) expect(networkOf(spelling)).toBe('203.0.113.7');
  });

  it('a network group is an IPv6 /48 or an IPv4 /24', () => {
    expect(networkGroupOf('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1::/48');
    expect(networkGroupOf('2001:db8:1:ffff::1')).toBe('2001:db8:1::/48');
    expect(networkGroupOf('203.0.113.7')).toBe('203.0.113.0/24');
    expect(networkGroupOf('::ffff:203.0.113.7')).toBe('203.0.113.0/24');
  });
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

  it('a flood from 200 addresses of one IPv6 /64, all at once: 10 started, 190 refused with nothing stored; other networks unaffected', async () => {
    const h = createHarness();
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => startDevice(h, inNetwork(1, i + 1))));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(190);
    expect(await stored(h, 'SELECT COUNT(*) AS n FROM devices')).toBe(10);
    expect((await startDevice(h, inNetwork(2, 1))).status).toBe(200);
    expect((await startDevice(h, '198.51.100.9')).status).toBe(200);
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

  it('200 wrong codes sent at once from one /64 are judged as if sent one by one: 20 wrong, 180 told to wait, the count stops at 20', async () => {
    const h = createHarness();
    const started = (await (await startDevice(h, '198.51.100.9')).json()) as { user_code: string };
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => enterCode(h, inNetwork(3, i + 1), 'BBBB-BBBB')));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 400)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(180);
    // Refused entries were not counted: the stored count is exactly the limit.
    expect(await stored(h, `SELECT count AS n FROM wrong_codes WHERE network LIKE 'n:%'`)).toBe(20);
    expect(await stored(h, `SELECT count AS n FROM wrong_codes WHERE network LIKE 'g:%'`)).toBe(20);
    // The right code from that network waits too; from another it works.
    expect((await enterCode(h, inNetwork(3, 999), started.user_code)).status).toBe(429);
    expect((await enterCode(h, inNetwork(4, 1), started.user_code)).status).toBe(303);
  });

  it('when the gateway-wide room is full, the busiest network gives way: nobody else is locked out, and what is stored stays bounded', async () => {
    const limits: DeviceLimits = { perNetwork: 10, total: 30, wrongCodesPerNetwork: 20, wrongCodesPerGroup: 100, wrongCodesWindowMs: 600_000, wrongCodeNetworks: 5 };
    const h = createHarness({ deviceLimits: limits });
    // An attacker fills the room from three networks (10 each, the per-network limit)…
    const attacker: string[] = [];
    for (let n = 0; n < 3; n++) {
      for (let i = 0; i < 10; i++) {
        const res = await startDevice(h, inNetwork(10 + n, i));
        expect(res.status).toBe(200);
        attacker.push(((await res.json()) as { device_code: string }).device_code);
        h.clock.advance(1);
      }
    }
    expect(await stored(h, 'SELECT COUNT(*) AS n FROM devices')).toBe(30);
    // …and a person's device sign-in still starts: the oldest of the busiest network gave way.
    const person = await startDevice(h, '198.51.100.9');
    expect(person.status).toBe(200);
    expect(await stored(h, 'SELECT COUNT(*) AS n FROM devices')).toBe(30);
    expect((await poll(h, attacker[0]!)).body.error).toBe('expired_token');
    expect((await poll(h, attacker[1]!)).body.error).toBe('authorization_pending');
    expect(h.logs.some((l) => l.includes('"device_codes_shed"'))).toBe(true);
    // The attacker keeps going from new networks: the room never grows, and the person's sign-in survives
    // (theirs is the only one of its network; the attacker's networks always hold more).
    const personCode = ((await person.json()) as { device_code: string }).device_code;
    for (let n = 0; n < 5; n++) for (let i = 0; i < 10; i++) expect((await startDevice(h, inNetwork(20 + n, i))).status).toBe(200);
    expect(await stored(h, 'SELECT COUNT(*) AS n FROM devices')).toBe(30);
    h.clock.advance(6);
    expect((await poll(h, personCode)).body.error).toBe('authorization_pending');

    // Wrong-code counters are bounded too: the oldest window gives way.
    for (let n = 0; n < 8; n++) {
      expect((await enterCode(h, inNetwork(40 + n, 1), 'BBBB-BBBB')).status).toBe(400);
      h.clock.advance(1);
    }
    expect(await stored(h, 'SELECT COUNT(*) AS n FROM wrong_codes')).toBe(5);
  });

  it('browsers cannot be made to start, poll or revoke from another site (403, nothing stored); the command line sends neither header', async () => {
    const h = createHarness();
    const crossSite: Record<string, string>[] = [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'null' }];
    for (const headers of crossSite) {
      const res = await startDevice(h, '203.0.113.7', headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
    }
    expect(await stored(h, 'SELECT COUNT(*) AS n FROM devices')).toBe(0);
    const ok = await startDevice(h, '203.0.113.7');
    expect(ok.status).toBe(200);
    const { device_code: deviceCode } = (await ok.json()) as { device_code: string };
    // The gateway's own origin is fine (a same-origin page); another site's poll and revoke are refused.
    expect((await startDevice(h, '203.0.113.7', { origin: GATEWAY })).status).toBe(200);
    expect((await poll(h, deviceCode, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await poll(h, deviceCode)).body.error).toBe('authorization_pending');
    const revoke = await h.request('/cli/revoke', {
      method: 'POST',
      withCookies: false,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' },
      body: 'client_id=x&client_secret=y',
    });
    expect(revoke.status).toBe(403);
    expect(h.logs.filter((l) => l.includes('"csrf_refused"')).length).toBeGreaterThanOrEqual(6);
  });

  it('a storage fault is a 503 to try again, not a limit', async () => {
    const h = createHarness({
      wrapDeviceFlows: (store) => ({ ...store, start: () => Promise.reject(new Error('storage down')), enter: store.enter, answer: store.answer, poll: store.poll }),
    });
    const res = await startDevice(h, '203.0.113.7');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(((await res.json()) as { error: string }).error).toBe('temporarily_unavailable');
  });

  it('a flood from many /64s of one /48 gives way before a person who is half-way through signing in', async () => {
    const limits: DeviceLimits = { perNetwork: 10, total: 30, wrongCodesPerNetwork: 20, wrongCodesPerGroup: 100, wrongCodesWindowMs: 600_000, wrongCodeNetworks: 100 };
    const h = createHarness({ deviceLimits: limits });
    // One sign-in from each of 30 /64s (every network holds one: a tie, which a queue would settle by age).
    for (let n = 0; n < 30; n++) expect((await startDevice(h, inNetwork(100 + n, 1))).status).toBe(200);
    h.clock.advance(1);
    const person = (await (await startDevice(h, '198.51.100.9')).json()) as { device_code: string; user_code: string };
    const consentPath = await browserToConsent(h, await enterCode(h, '198.51.100.20', person.user_code));
    // While the person is at Looker, 60 more from new /64s of the same /48.
    for (let n = 0; n < 60; n++) expect((await startDevice(h, inNetwork(200 + n, 1))).status).toBe(200);
    expect(await stored(h, 'SELECT COUNT(*) AS n FROM devices')).toBe(30);
    const allowed = await answerConsent(h, consentPath, 'allow');
    expect(allowed.status).toBe(200);
    h.clock.advance(6);
    const collected = await poll(h, person.device_code);
    expect(collected.status).toBe(200);
  });

  it('filling the counters cannot reset a guesser: the smallest counts give way, not the one holding it back', async () => {
    const limits: DeviceLimits = { perNetwork: 10, total: 5000, wrongCodesPerNetwork: 20, wrongCodesPerGroup: 1000, wrongCodesWindowMs: 600_000, wrongCodeNetworks: 6 };
    const h = createHarness({ deviceLimits: limits });
    for (let i = 0; i < 20; i++) expect((await enterCode(h, '203.0.113.7', 'BBBB-BBBB')).status).toBe(400);
    // Other networks (other /24s: each adds a network and a group counter) fill the table many times over.
    for (let n = 0; n < 20; n++) expect((await enterCode(h, `198.51.${n}.1`, 'x')).status).toBe(400);
    expect(await stored(h, 'SELECT COUNT(*) AS n FROM wrong_codes')).toBe(6);
    expect((await enterCode(h, '203.0.113.7', 'BBBB-BBBB')).status).toBe(429);
  });

  it('one /48 gets 100 wrong codes in ten minutes, however many /64s it uses', async () => {
    const h = createHarness();
    let wrong = 0;
    for (let n = 0; n < 12; n++) {
      for (let i = 0; i < 10; i++) if ((await enterCode(h, inNetwork(300 + n, i), 'BBBB-BBBB')).status === 400) wrong++;
    }
    expect(wrong).toBe(100);
    expect((await enterCode(h, inNetwork(400, 1), 'BBBB-BBBB')).status).toBe(429);
    expect((await enterCode(h, '2001:db8:2::1', 'BBBB-BBBB')).status).toBe(400);
  });

  it('a network told to wait, or at its limit, is told again from memory: no call to the device-flow store', async () => {
    let calls = 0;
    const h = createHarness({
      wrapDeviceFlows: (store) => ({
        start: (...a) => (calls++, store.start(...a)),
        enter: (...a) => (calls++, store.enter(...a)),
        answer: (...a) => store.answer(...a),
        poll: (...a) => store.poll(...a),
      }),
    });
    for (let i = 0; i < 20; i++) await enterCode(h, '203.0.113.7', 'BBBB-BBBB');
    expect((await enterCode(h, '203.0.113.7', 'BBBB-BBBB')).status).toBe(429);
    for (let i = 0; i < 10; i++) await startDevice(h, '203.0.113.8');
    expect((await startDevice(h, '203.0.113.8')).status).toBe(429);
    const before = calls;
    for (let i = 0; i < 50; i++) {
      expect((await enterCode(h, '203.0.113.7', 'CCCC-CCCC')).status).toBe(429);
      expect((await startDevice(h, '203.0.113.8')).status).toBe(429);
    }
    expect(calls).toBe(before);
    // The memory ends with the window: ten minutes later both may try again.
    h.clock.advance(601);
    expect((await enterCode(h, '203.0.113.7', 'BBBB-BBBB')).status).toBe(400);
    expect((await startDevice(h, '203.0.113.8')).status).toBe(200);
  });

  it('when the credential cannot be stored at collection: 503 JSON, nothing created, the Looker grant revoked', async () => {
    let fail = false;
    const h = createHarness({ wrapLedger: (ledger) => ledgerWith(ledger, { createGrant: (original, ...args) => (fail ? Promise.reject(new Error('down')) : original(...args)) }) });
    const device = (await (await startDevice(h, '203.0.113.7')).json()) as { device_code: string; user_code: string };
    const consentPath = await browserToConsent(h, await enterCode(h, '203.0.113.7', device.user_code));
    const lookerToken = h.tokenResponses.at(-1)!.access_token as string;
    expect((await answerConsent(h, consentPath, 'allow')).status).toBe(200);
    fail = true;
    h.clock.advance(6);
    const res = await h.request('/cli/token', {
      method: 'POST',
      withCookies: false,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device.device_code }).toString(),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await res.json()) as { error_description: string }).error_description).toContain('Run the sign-in again');
    expect(h.sim.hasAccessToken(lookerToken)).toBe(false);
  });

  it('two browsers answering one device: the second is told its answer was not used (never a false "Denied")', async () => {
    const h = createHarness();
    const device = (await (await startDevice(h, '203.0.113.7')).json()) as { device_code: string; user_code: string };
    const first = await browserToConsent(h, await enterCode(h, '198.51.100.1', device.user_code));
    const second = await browserToConsent(h, await enterCode(h, '198.51.100.2', device.user_code));
    expect((await answerConsent(h, first, 'allow')).status).toBe(200);
    const late = await answerConsent(h, second, 'deny');
    expect(late.status).toBe(409);
    expect(await late.text()).toContain('already answered in another browser');
    h.clock.advance(6);
    expect((await poll(h, device.device_code)).status).toBe(200);
  });
});

describe('names a device chooses', () => {
  it('cannot hide, stack or garble what the consent page says around them', () => {
    expect(credentialName('a\u202Eevil', 'x')).toBe('aevil');
    expect(credentialName(`z${'\u0336'.repeat(63)}`, 'x')).toBe('z\u0336\u0336');
    expect(credentialName('\u3164\u2800\u3164', 'fallback')).toBe('fallback');
    expect(credentialName(`${'a'.repeat(63)}😀😀`, 'x')).toBe(`${'a'.repeat(63)}😀`);
    expect(credentialName('  build   box  ', 'x')).toBe('build box');
  });
});
