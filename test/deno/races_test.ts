/**
 * Two instances racing on one Deno KV, made deterministic: one instance's commit is held
 * after it has read and decided, while the other commits; then it is let go. Its commit
 * must fail its versionstamp checks, and it must read and decide again.
 */
import { DenoKvDeviceFlows } from '../../src/platform/deno/device-flows.ts';
import { DenoKvLedger } from '../../src/platform/deno/ledger.ts';
import { equal, ok, within } from '../contract/contract.ts';

/** The database, except that once armed, the next commit waits until `release()` (and `held` resolves when it starts waiting). */
function heldCommit(kv: Deno.Kv) {
  let armed = false;
  let arrived!: () => void;
  let release!: () => void;
  const held = new Promise<void>((resolve) => (arrived = resolve));
  const gate = new Promise<void>((resolve) => (release = resolve));
  const wrapOp = (op: Deno.AtomicOperation): Deno.AtomicOperation => {
    const proxy: Deno.AtomicOperation = new Proxy(op, {
      get(target, property) {
        if (property === 'commit') {
          return async () => {
            if (armed) {
              armed = false;
              arrived();
              await gate;
            }
            return target.commit();
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        // Chained calls (check, set, delete, sum) return the operation: hand back the wrapper.
        return (...args: unknown[]) => {
          const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
          return result === target ? proxy : result;
        };
      },
    });
    return proxy;
  };
  const wrapped = new Proxy(kv, {
    get(target, property) {
      if (property === 'atomic') return () => wrapOp(target.atomic());
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { kv: wrapped, arm: () => (armed = true), held, release };
}

const T0 = Date.UTC(2026, 10, 28, 12);

Deno.test('a refresh that read the grant before another instance signed out cannot store it afterwards', async () => {
  const kv = await Deno.openKv(':memory:');
  try {
    const gated = heldCommit(kv);
    const refresher = new DenoKvLedger(gated.kv, 'person:p');
    const other = new DenoKvLedger(kv, 'person:p');
    await other.createGrant({ grantId: 'g', kind: 'session', label: 'b', createdAt: T0, lastUsedAt: T0, expiresAt: T0 + 86_400_000, version: 1, sealed: 's1', revocation: 'r1', kvKeys: [] });
    const ticket = await refresher.beginRefresh('g', 1, T0);
    ok('lease' in ticket, 'lease');
    gated.arm();
    const storing = refresher.completeRefresh('g', 'lease' in ticket ? ticket.lease : '', { version: 2, sealed: 's2', revocation: 'r2', expiresAt: T0 + 86_400_000 }, T0);
    await gated.held; // it has read the live grant and decided to store version 2
    equal((await other.end({ grantId: 'g' })).length, 1, 'signed out in the other instance');
    gated.release();
    equal(await storing, 'ended', 'its commit failed; read again, the grant is over');
    equal(await other.check('g', 0, T0, false), { alive: false }, 'still signed out');
  } finally {
    kv.close();
  }
});

Deno.test('a device sign-in counted by one instance while another filled the network is refused once it reads again', async () => {
  const kv = await Deno.openKv(':memory:');
  try {
    const gated = heldCommit(kv);
    const first = new DenoKvDeviceFlows(gated.kv, 'device-flow');
    const second = new DenoKvDeviceFlows(kv, 'device-flow');
    const limits = { perNetwork: 10, total: 5000, wrongCodesPerNetwork: 20, wrongCodesPerGroup: 100, wrongCodesWindowMs: 600_000, wrongCodeNetworks: 10_000 };
    const device = (i: number) => ({ deviceKey: `d${i}`, userCodeKey: `c${i}`, name: 'n', scope: 'write' as const, network: 'net', group: 'grp', requester: { address: 'a' }, interval: 5, startedAt: T0 + i, expiresAt: T0 + 600_000 });
    for (let i = 0; i < 9; i++) equal((await second.start(device(i), limits)).ok, true, `start ${i}`);
    gated.arm();
    const racing = first.start(device(100), limits);
    await gated.held; // it counted 9 and decided to store the 10th
    equal((await second.start(device(101), limits)).ok, true, 'the other instance stored the 10th');
    gated.release();
    equal(await racing, { ok: false, reason: 'network limit', retryAt: T0 + 600_000 }, 'read again: the network is full');
    equal(await second.poll('d100', T0 + 200), { status: 'expired' }, 'nothing stored for it');
  } finally {
    kv.close();
  }
});

Deno.test('a waiter for a lease hears its release through Deno KV’s watch, with no polling at all', async () => {
  const kv = await Deno.openKv(':memory:');
  try {
    // A sleep that never ends: only a change to the grant or its lease can wake the waiter.
    const never = () => new Promise<void>(() => {});
    const holder = new DenoKvLedger(kv, 'person:p', { sleep: never });
    const waiter = new DenoKvLedger(kv, 'person:p', { sleep: never });
    await holder.createGrant({ grantId: 'g', kind: 'session', label: 'b', createdAt: T0, lastUsedAt: T0, expiresAt: T0 + 86_400_000, version: 1, sealed: 's1', revocation: 'r1', kvKeys: [] });
    const ticket = await holder.beginRefresh('g', 1, T0);
    const waiting = waiter.beginRefresh('g', 1, T0);
    await holder.completeRefresh('g', 'lease' in ticket ? ticket.lease : '', { version: 2, sealed: 's2', revocation: 'r2', expiresAt: T0 + 86_400_000 }, T0);
    equal(await within(waiting, 5_000, 'the waiter'), { current: { version: 2, sealed: 's2' } }, 'woken by the store');
    const second = await waiter.beginRefresh('g', 2, T0);
    const third = holder.beginRefresh('g', 2, T0);
    await waiter.releaseRefresh('g', 'lease' in second ? second.lease : '');
    ok('lease' in (await within(third, 5_000, 'the next waiter')), 'woken by the release');
  } finally {
    kv.close();
  }
});
