/**
 * The device-flow store's contract (src/callers/device-store.ts), one suite for the
 * Durable Object and for Deno KV: a sign-in's life, and every limit judged as if the
 * calls came one after another even when they come all at once.
 */
import type { DeviceFlowStore, DeviceLimits, NewDevice } from '../../src/callers/device-store.ts';
import { equal, ok, type Register } from './contract.ts';

export interface DeviceFlowSubject {
  /** A fresh, empty store. */
  store: DeviceFlowStore;
  close?(): Promise<void> | void;
}

const T0 = Date.UTC(2026, 10, 28, 12, 0, 0);
const TEN_MINUTES = 600_000;
const LIMITS: DeviceLimits = { perNetwork: 10, total: 5000, wrongCodesPerNetwork: 20, wrongCodesPerGroup: 100, wrongCodesWindowMs: TEN_MINUTES, wrongCodeNetworks: 10_000 };

let serial = 0;
const device = (network: string, group: string, startedAt: number, overrides: Partial<NewDevice> = {}): NewDevice => {
  const n = ++serial;
  return {
    deviceKey: `device-${n}-${Math.random().toString(36).slice(2)}`,
    userCodeKey: `code-${n}-${Math.random().toString(36).slice(2)}`,
    name: `probe ${n}`,
    scope: 'write',
    network,
    group,
    requester: { address: `addr of ${network}`, country: 'NL' },
    interval: 5,
    startedAt,
    expiresAt: startedAt + TEN_MINUTES,
    ...overrides,
  };
};

const from = (network: string, group = `group of ${network}`) => ({ network, group });

export function describeDeviceFlowContract(name: string, make: () => Promise<DeviceFlowSubject> | DeviceFlowSubject, register: Register): void {
  const test = (title: string, run: (store: DeviceFlowStore) => Promise<void>) =>
    register(`${name}: ${title}`, async () => {
      const subject = await make();
      try {
        await run(subject.store);
      } finally {
        await subject.close?.();
      }
    });

  test('a read-only sign-in is found with the scope it asked for', async (store) => {
    const d = device('net-r', 'grp-r', T0, { scope: 'read' });
    equal(await store.start(d, LIMITS), { ok: true, shed: 0 }, 'started');
    equal(
      await store.enter(d.userCodeKey, from('net-r2'), T0 + 1_000, LIMITS),
      { status: 'found', device: { name: d.name, scope: 'read', requester: d.requester, startedAt: T0 } },
      'found, read-only',
    );
  });

  test('a sign-in: pending, slow_down when polled too soon, found by its code, allowed, told once', async (store) => {
    const d = device('net-a', 'grp-a', T0);
    equal(await store.start(d, LIMITS), { ok: true, shed: 0 }, 'started');
    equal(await store.poll(d.deviceKey, T0 + 5_000), { status: 'pending' }, 'first poll');
    equal(await store.poll(d.deviceKey, T0 + 6_000), { status: 'slow_down', interval: 10 }, 'too soon');
    equal(await store.poll(d.deviceKey, T0 + 16_000), { status: 'pending' }, 'after the new interval');
    equal(
      await store.enter(d.userCodeKey, from('net-b'), T0 + 20_000, LIMITS),
      { status: 'found', device: { name: d.name, scope: 'write', requester: d.requester, startedAt: T0 } },
      'found by its code',
    );
    equal(await store.answer(d.userCodeKey, { allowed: true, personKey: 'p', waiting: 'w' }, T0 + 30_000), true, 'allowed');
    equal(await store.answer(d.userCodeKey, { allowed: false }, T0 + 30_000), false, 'a second answer is not used');
    equal(await store.enter(d.userCodeKey, from('net-b'), T0 + 31_000, LIMITS), { status: 'unknown' }, 'no longer waiting for a code');
    equal(await store.poll(d.deviceKey, T0 + 40_000), { status: 'approved', personKey: 'p', waiting: 'w' }, 'approved');
    equal(await store.poll(d.deviceKey, T0 + 50_000), { status: 'expired' }, 'told once');
  });

  test('denied is told once; an expired sign-in cannot be answered', async (store) => {
    const d = device('net-a', 'grp-a', T0);
    await store.start(d, LIMITS);
    equal(await store.answer(d.userCodeKey, { allowed: false }, T0 + 1), true, 'denied');
    equal(await store.poll(d.deviceKey, T0 + 10_000), { status: 'denied' }, 'denied');
    equal(await store.poll(d.deviceKey, T0 + 20_000), { status: 'expired' }, 'once');
    const late = device('net-a', 'grp-a', T0);
    await store.start(late, LIMITS);
    equal(await store.answer(late.userCodeKey, { allowed: true, personKey: 'p', waiting: 'w' }, T0 + TEN_MINUTES), false, 'expired');
    equal(await store.poll(late.deviceKey, T0 + TEN_MINUTES), { status: 'expired' }, 'expired');
  });

  test('per network: 10 waiting at once, the 11th refused until the first expires; a refused start stores nothing', async (store) => {
    for (let i = 0; i < 10; i++) equal((await store.start(device('net-a', 'grp-a', T0 + i), LIMITS)).ok, true, `start ${i}`);
    const refused = device('net-a', 'grp-a', T0 + 10);
    equal(await store.start(refused, LIMITS), { ok: false, reason: 'network limit', retryAt: T0 + TEN_MINUTES }, 'refused, until the first expires');
    equal(await store.poll(refused.deviceKey, T0 + 11), { status: 'expired' }, 'nothing stored for it');
    equal((await store.start(device('net-b', 'grp-a', T0 + 10), LIMITS)).ok, true, 'another network');
    equal((await store.start(device('net-a', 'grp-a', T0 + TEN_MINUTES), LIMITS)).ok, true, 'after the first expired');
  });

  test('an allowed or denied sign-in no longer counts toward its network', async (store) => {
    const first = device('net-a', 'grp-a', T0);
    await store.start(first, LIMITS);
    for (let i = 1; i < 10; i++) await store.start(device('net-a', 'grp-a', T0 + i), LIMITS);
    await store.answer(first.userCodeKey, { allowed: false }, T0 + 20);
    equal((await store.start(device('net-a', 'grp-a', T0 + 21), LIMITS)).ok, true, 'room again');
  });

  test('200 starts at once from one network: exactly 10 stored', async (store) => {
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => store.start(device('net-a', 'grp-a', T0 + (i % 3)), LIMITS)));
    equal(results.filter((r) => r.ok).length, 10, 'started');
    equal(results.filter((r) => !r.ok && r.reason === 'network limit').length, 190, 'refused');
  });

  test('a user code in use is refused', async (store) => {
    const d = device('net-a', 'grp-a', T0);
    await store.start(d, LIMITS);
    equal(await store.start(device('net-b', 'grp-b', T0, { userCodeKey: d.userCodeKey }), LIMITS), { ok: false, reason: 'user code taken' }, 'taken');
  });

  test('a full room gives way: the oldest of the busiest group goes, and whoever else waits stays', async (store) => {
    const limits = { ...LIMITS, total: 30 };
    const person = device('net-person', 'grp-person', T0);
    await store.start(person, limits);
    const flood: NewDevice[] = [];
    // 29 from three networks of one group (10, 10, 9), one second apart.
    for (let i = 0; i < 29; i++) {
      const d = device(`net-${Math.floor(i / 10)}`, 'grp-flood', T0 + 1000 + i * 1000);
      flood.push(d);
      equal((await store.start(d, limits)).ok, true, `flood ${i}`);
    }
    equal(await store.start(device('net-x', 'grp-x', T0 + 40_000), limits), { ok: true, shed: 1 }, 'room made');
    equal(await store.poll(flood[0]!.deviceKey, T0 + 41_000), { status: 'expired' }, 'the oldest of the busiest group went');
    equal(await store.poll(flood[1]!.deviceKey, T0 + 41_000), { status: 'pending' }, 'the next one stays');
    for (let i = 0; i < 40; i++) equal((await store.start(device(`net-more-${i}`, 'grp-flood', T0 + 50_000 + i), limits)).ok, true, `more ${i}`);
    equal(await store.poll(person.deviceKey, T0 + 60_000), { status: 'pending' }, "the person's sign-in survived");
  });

  test('ties between groups: the group whose oldest waited longest gives way', async (store) => {
    const limits = { ...LIMITS, total: 4 };
    const a1 = device('net-a', 'grp-a', T0 + 2);
    const b1 = device('net-b', 'grp-b', T0 + 1);
    await store.start(a1, limits);
    await store.start(b1, limits);
    await store.start(device('net-a', 'grp-a', T0 + 3), limits);
    await store.start(device('net-b', 'grp-b', T0 + 4), limits);
    equal(await store.start(device('net-c', 'grp-c', T0 + 5), limits), { ok: true, shed: 1 }, 'shed one');
    equal(await store.poll(b1.deviceKey, T0 + 6), { status: 'expired' }, 'grp-b (oldest first) gave way');
    equal(await store.poll(a1.deviceKey, T0 + 6), { status: 'pending' }, 'grp-a stays');
  });

  test('20 wrong codes per network, then it waits (even with a right code), until the window ends', async (store) => {
    const d = device('net-a', 'grp-a', T0);
    await store.start(d, LIMITS);
    for (let i = 0; i < 20; i++) equal(await store.enter('wrong', from('net-g'), T0 + i, LIMITS), { status: 'unknown' }, `wrong ${i}`);
    equal(await store.enter(d.userCodeKey, from('net-g'), T0 + 100, LIMITS), { status: 'wait', until: T0 + TEN_MINUTES }, 'waits');
    equal((await store.enter(d.userCodeKey, from('net-other'), T0 + 100, LIMITS)).status, 'found', 'another network finds it');
    equal(await store.enter(null, from('net-g'), T0 + TEN_MINUTES, LIMITS), { status: 'unknown' }, 'the window ended');
  });

  test('200 wrong codes at once from one network: 20 counted, 180 told to wait', async (store) => {
    const results = await Promise.all(Array.from({ length: 200 }, () => store.enter('wrong', from('net-g'), T0, LIMITS)));
    equal(results.filter((r) => r.status === 'unknown').length, 20, 'counted');
    equal(results.filter((r) => r.status === 'wait').length, 180, 'waiting');
  });

  test('100 wrong codes per group, however many networks', async (store) => {
    let unknown = 0;
    for (let n = 0; n < 12; n++) for (let i = 0; i < 10; i++) if ((await store.enter('wrong', from(`net-${n}`, 'grp-g'), T0, LIMITS)).status === 'unknown') unknown++;
    equal(unknown, 100, 'counted for the group');
    equal((await store.enter('wrong', from('net-new', 'grp-g'), T0, LIMITS)).status, 'wait', 'the group waits');
    equal((await store.enter('wrong', from('net-new', 'grp-other'), T0, LIMITS)).status, 'unknown', 'another group does not');
  });

  test('counters are bounded and give way smallest-first: filling them cannot free a guesser', async (store) => {
    const limits = { ...LIMITS, wrongCodesPerGroup: 1000, wrongCodeNetworks: 6 };
    for (let i = 0; i < 20; i++) await store.enter('wrong', from('net-guesser', 'grp-guesser'), T0 + i, limits);
    for (let n = 0; n < 20; n++) equal((await store.enter('wrong', from(`net-${n}`, `grp-${n}`), T0 + 100 + n, limits)).status, 'unknown', `other ${n}`);
    equal((await store.enter('wrong', from('net-guesser', 'grp-guesser'), T0 + 200, limits)).status, 'wait', 'the guesser still waits');
  });

  test('many sign-ins and counters expiring at once are all cleared, and their room is free again', async (store) => {
    for (let n = 0; n < 30; n++) for (let i = 0; i < 10; i++) equal((await store.start(device(`net-${n}`, `grp-${n % 7}`, T0 + i), LIMITS)).ok, true, `start ${n}/${i}`);
    for (let n = 0; n < 30; n++) await store.enter('wrong', from(`net-w${n}`), T0, LIMITS);
    const later = T0 + TEN_MINUTES + 10;
    for (let n = 0; n < 30; n++) for (let i = 0; i < 10; i++) equal((await store.start(device(`net-${n}`, `grp-${n % 7}`, later + i), { ...LIMITS, total: 300 })).ok, true, `again ${n}/${i}`);
    equal(await store.start(device('net-last', 'grp-last', later + 20), { ...LIMITS, total: 300 }), { ok: true, shed: 1 }, 'the room holds exactly the 300 live ones');
  });

  test('a right code is not counted as wrong', async (store) => {
    const d = device('net-a', 'grp-a', T0);
    await store.start(d, LIMITS);
    for (let i = 0; i < 30; i++) equal((await store.enter(d.userCodeKey, from('net-g'), T0 + i, LIMITS)).status, 'found', `found ${i}`);
    ok((await store.enter('wrong', from('net-g'), T0 + 100, LIMITS)).status === 'unknown', 'no count was used up');
  });
}
