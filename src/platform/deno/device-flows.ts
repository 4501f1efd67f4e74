/**
 * Device sign-ins in progress (src/callers/device-store.ts) in Deno KV, judged exactly as
 * the Durable Object judges them (src/platform/cloudflare/device-flow-object.ts): every
 * call reads what it counts and commits what it changes in one atomic commit that checks
 * the store's guard record, which every change rewrites. A commit that finds the guard
 * changed (another instance wrote meanwhile) is read and decided again, so N calls at once,
 * from any number of instances, are judged as the same N one after another. Within one
 * instance the calls queue (no conflicts with itself).
 *
 * Records (under [..., 'device', name]): the guard {pending, counters}; each device sign-in
 * by its device key; the user code's key → device key; pending sign-ins by network and by
 * network group (started, key); every sign-in by expiry; wrong-code counters by key, by
 * window end and by (count, window end). Expired ones are deleted first thing in every
 * call, in commits of their own (each atomic, bounded in size).
 */
import type {
  DeviceAnswer,
  DeviceEntry,
  DeviceFlowStore,
  DeviceLimits,
  DevicePollState,
  DeviceStart,
  NewDevice,
  Requester,
} from '../../callers/device-store.ts';
import { SLOW_DOWN_STEP_SECONDS } from '../../callers/device-store.ts';
import type { GrantScope } from '../../grants/scope.ts';
import { GC_MARGIN_MS, optimistic, Queue } from './kv.ts';

/** Expired sign-ins or counters deleted per commit while sweeping: about eight keys of ~150 bytes each, within a commit's 80 KiB of keys. */
const SWEEP_BATCH = 40;

interface Guard {
  /** Pending sign-ins. */
  pending: number;
  /** Wrong-code counters (networks and groups). */
  counters: number;
}

interface DeviceRecord {
  deviceKey: string;
  userCodeKey: string;
  network: string;
  group: string;
  name: string;
  /** Absent in a sign-in stored before scopes (it asked for everything). */
  scope?: GrantScope;
  requester: Requester;
  startedAt: number;
  expiresAt: number;
  status: 'pending' | 'approved' | 'denied';
  interval: number;
  lastPolledAt: number;
  personKey?: string;
  waiting?: string;
}

interface Counter {
  count: number;
  windowEndsAt: number;
}

/** A network group's pending sign-ins: how many, and when the oldest started. */
interface GroupSize {
  count: number;
  first: number;
}

/** Pending sign-ins that join or leave groups in one commit. */
type GroupChanges = Map<string, { added: { startedAt: number; deviceKey: string }[]; removed: { startedAt: number; deviceKey: string }[] }>;

export interface DenoDeviceFlowOptions {
  prefix?: Deno.KvKey;
}

export class DenoKvDeviceFlows implements DeviceFlowStore {
  readonly #kv: Deno.Kv;
  readonly #base: Deno.KvKey;
  readonly #queue = new Queue();

  constructor(kv: Deno.Kv, name: string, options: DenoDeviceFlowOptions = {}) {
    this.#kv = kv;
    this.#base = [...(options.prefix ?? []), 'device', name];
  }

  get #guardKey(): Deno.KvKey {
    return [...this.#base, 'guard'];
  }
  #deviceKey = (deviceKey: string): Deno.KvKey => [...this.#base, 'device', deviceKey];
  #codeKey = (userCodeKey: string): Deno.KvKey => [...this.#base, 'code', userCodeKey];
  #networkKey = (d: DeviceRecord): Deno.KvKey => [...this.#base, 'network', d.network, d.deviceKey];
  #groupKey = (d: DeviceRecord): Deno.KvKey => [...this.#base, 'group', d.group, d.startedAt, d.deviceKey];
  #expiryKey = (d: DeviceRecord): Deno.KvKey => [...this.#base, 'expiry', d.expiresAt, d.deviceKey];
  #groupSizeKey = (group: string): Deno.KvKey => [...this.#base, 'group-size', group];
  /** Listed backwards, the busiest group comes first (most pending, then the one whose oldest started first). */
  #busiestKey = (group: string, size: GroupSize): Deno.KvKey => [...this.#base, 'busiest', size.count, -size.first, group];
  #counterKey = (key: string): Deno.KvKey => [...this.#base, 'counter', key];
  #counterWindowKey = (key: string, c: Counter): Deno.KvKey => [...this.#base, 'counter-window', c.windowEndsAt, key];
  #counterSizeKey = (key: string, c: Counter): Deno.KvKey => [...this.#base, 'counter-size', c.count, c.windowEndsAt, key];

  start(device: NewDevice, limits: DeviceLimits): Promise<DeviceStart> {
    return this.#serial<DeviceStart>('start', device.startedAt, async (guard, read) => {
      let first: number | null = null;
      let fromNetwork = 0;
      for await (const { value } of this.#kv.list<number>({ prefix: [...this.#base, 'network', device.network] })) {
        fromNetwork++;
        first = first === null ? value : Math.min(first, value);
      }
      if (fromNetwork >= limits.perNetwork) return { answer: { ok: false, reason: 'network limit', retryAt: first ?? device.startedAt } };
      if ((await this.#kv.get(this.#codeKey(device.userCodeKey))).value !== null) return { answer: { ok: false, reason: 'user code taken' } };
      const op = this.#kv.atomic().check(read);
      const groups: GroupChanges = new Map();
      let pending = guard.pending;
      let shed = 0;
      if (pending === limits.total) {
        // Full: make room at the expense of the network group holding the most (ties: whoever waited longest).
        let busiest: string | undefined;
        for await (const { key } of this.#kv.list({ prefix: [...this.#base, 'busiest'] }, { reverse: true, limit: 1 })) busiest = key[key.length - 1] as string;
        if (busiest !== undefined) {
          let victim: DeviceRecord | null = null;
          for await (const { key } of this.#kv.list({ prefix: [...this.#base, 'group', busiest] }, { limit: 1 })) {
            victim = (await this.#kv.get<DeviceRecord>(this.#deviceKey(key[key.length - 1] as string))).value;
          }
          if (victim !== null) {
            this.#deleteRow(op, victim, groups);
            pending--;
            shed++;
          }
        }
      } else if (pending > limits.total) {
        // Over (the limit was lowered): as many as it takes, judged the same way, from one reading of every group.
        const all = new Map<string, { count: number; first: number; oldest: { startedAt: number; deviceKey: string }[] }>();
        for await (const { key } of this.#kv.list({ prefix: [...this.#base, 'group'] })) {
          const [group, startedAt, deviceKey] = key.slice(-3) as [string, number, string];
          const g = all.get(group) ?? { count: 0, first: startedAt, oldest: [] };
          g.count++;
          g.first = Math.min(g.first, startedAt);
          g.oldest.push({ startedAt, deviceKey });
          all.set(group, g);
        }
        while (pending >= limits.total) {
          let busiest: { count: number; first: number; oldest: { startedAt: number; deviceKey: string }[] } | undefined;
          for (const g of all.values()) {
            if (g.count > 0 && (busiest === undefined || g.count > busiest.count || (g.count === busiest.count && g.first < busiest.first))) busiest = g;
          }
          if (busiest === undefined) break;
          const oldest = busiest.oldest.shift()!;
          busiest.count--;
          busiest.first = busiest.oldest[0]?.startedAt ?? Infinity;
          const row = (await this.#kv.get<DeviceRecord>(this.#deviceKey(oldest.deviceKey))).value;
          if (row !== null) this.#deleteRow(op, row, groups);
          pending--;
          shed++;
        }
      }
      const row: DeviceRecord = {
        deviceKey: device.deviceKey,
        userCodeKey: device.userCodeKey,
        network: device.network,
        group: device.group,
        name: device.name,
        scope: device.scope,
        requester: device.requester,
        startedAt: device.startedAt,
        expiresAt: device.expiresAt,
        status: 'pending',
        interval: device.interval,
        lastPolledAt: 0,
      };
      const expireIn = Math.max(0, row.expiresAt - row.startedAt) + GC_MARGIN_MS;
      op.set(this.#deviceKey(row.deviceKey), row, { expireIn })
        .set(this.#codeKey(row.userCodeKey), row.deviceKey, { expireIn })
        .set(this.#networkKey(row), row.expiresAt, { expireIn })
        .set(this.#groupKey(row), null, { expireIn })
        .set(this.#expiryKey(row), null, { expireIn })
        .set(this.#guardKey, { ...guard, pending: pending + 1 } satisfies Guard);
      changesOf(groups, row.group).added.push({ startedAt: row.startedAt, deviceKey: row.deviceKey });
      await this.#regroup(op, groups);
      return { answer: { ok: true, shed }, op };
    });
  }

  enter(userCodeKey: string | null, from: { network: string; group: string }, now: number, limits: DeviceLimits): Promise<DeviceEntry> {
    return this.#serial<DeviceEntry>('enter', now, async (guard, read) => {
      const keys = [
        { key: `n:${from.network}`, max: limits.wrongCodesPerNetwork },
        { key: `g:${from.group}`, max: limits.wrongCodesPerGroup },
      ];
      const rows = await this.#kv.getMany<Counter[]>(keys.map((c) => this.#counterKey(c.key)));
      const counted = keys.map((c, i) => ({ ...c, row: rows[i]!.value }));
      const blocked = counted.filter((c) => c.row !== null && c.row.count >= c.max);
      if (blocked.length > 0) return { answer: { status: 'wait', until: Math.max(...blocked.map((c) => c.row!.windowEndsAt)) } };
      if (userCodeKey !== null) {
        const deviceKey = (await this.#kv.get<string>(this.#codeKey(userCodeKey))).value;
        const row = deviceKey === null ? null : (await this.#kv.get<DeviceRecord>(this.#deviceKey(deviceKey))).value;
        if (row !== null && row.status === 'pending') {
          return { answer: { status: 'found', device: { name: row.name, scope: row.scope ?? 'write', requester: row.requester, startedAt: row.startedAt } } };
        }
      }
      const op = this.#kv.atomic().check(read);
      let counters = guard.counters;
      const dropped = new Set<string>();
      // Counters this call wrote (their stored index entries are stale until it commits).
      const added: { key: string; counter: Counter }[] = [];
      for (const c of counted) {
        if (c.row !== null) {
          const counter = { count: c.row.count + 1, windowEndsAt: c.row.windowEndsAt };
          op.delete(this.#counterSizeKey(c.key, c.row)).set(this.#counterKey(c.key), counter).set(this.#counterSizeKey(c.key, counter), null);
          added.push({ key: c.key, counter });
          continue;
        }
        if (counters >= limits.wrongCodeNetworks) {
          // Full: drop the smallest count (then the oldest), never one that is holding a guesser back.
          const smallest = await this.#smallestCounter(dropped, added);
          if (smallest !== null) {
            op.delete(this.#counterKey(smallest.key)).delete(this.#counterWindowKey(smallest.key, smallest.counter)).delete(this.#counterSizeKey(smallest.key, smallest.counter));
            dropped.add(smallest.key);
            const i = added.findIndex((a) => a.key === smallest.key);
            if (i >= 0) added.splice(i, 1);
            counters--;
          }
        }
        const counter = { count: 1, windowEndsAt: now + limits.wrongCodesWindowMs };
        const expireIn = limits.wrongCodesWindowMs + GC_MARGIN_MS;
        op.set(this.#counterKey(c.key), counter, { expireIn })
          .set(this.#counterWindowKey(c.key, counter), null, { expireIn })
          .set(this.#counterSizeKey(c.key, counter), null, { expireIn });
        added.push({ key: c.key, counter });
        counters++;
      }
      op.set(this.#guardKey, { ...guard, counters } satisfies Guard);
      return { answer: { status: 'unknown' }, op };
    });
  }

  answer(userCodeKey: string, answer: DeviceAnswer, now: number): Promise<boolean> {
    return this.#serial<boolean>('answer', null, async (guard, read) => {
      const deviceKey = (await this.#kv.get<string>(this.#codeKey(userCodeKey))).value;
      const row = deviceKey === null ? null : (await this.#kv.get<DeviceRecord>(this.#deviceKey(deviceKey))).value;
      if (row === null || row.status !== 'pending' || row.expiresAt <= now) return { answer: false };
      const answered: DeviceRecord = answer.allowed
        ? { ...row, status: 'approved', personKey: answer.personKey, waiting: answer.waiting }
        : { ...row, status: 'denied' };
      // No longer pending: it leaves the network's and the group's count.
      const op = this.#kv
        .atomic()
        .check(read)
        .set(this.#deviceKey(row.deviceKey), answered, { expireIn: Math.max(0, row.expiresAt - now) + GC_MARGIN_MS })
        .delete(this.#networkKey(row))
        .delete(this.#groupKey(row))
        .set(this.#guardKey, { ...guard, pending: guard.pending - 1 } satisfies Guard);
      const groups: GroupChanges = new Map([[row.group, { added: [], removed: [{ startedAt: row.startedAt, deviceKey: row.deviceKey }] }]]);
      await this.#regroup(op, groups);
      return { answer: true, op };
    });
  }

  poll(deviceKey: string, now: number): Promise<DevicePollState> {
    return this.#serial<DevicePollState>('poll', null, async (guard, read) => {
      const row = (await this.#kv.get<DeviceRecord>(this.#deviceKey(deviceKey))).value;
      if (row === null || row.expiresAt <= now) return { answer: { status: 'expired' } };
      const op = this.#kv.atomic().check(read);
      if (row.status === 'denied' || row.status === 'approved') {
        // Told once: the command line stops polling, and the record's job is done.
        this.#deleteRow(op, row);
        op.set(this.#guardKey, guard);
        if (row.status === 'denied') return { answer: { status: 'denied' }, op };
        if (row.personKey === undefined || row.waiting === undefined) return { answer: { status: 'expired' }, op };
        return { answer: { status: 'approved', personKey: row.personKey, waiting: row.waiting }, op };
      }
      const expireIn = Math.max(0, row.expiresAt - now) + GC_MARGIN_MS;
      op.set(this.#guardKey, guard);
      if (now - row.lastPolledAt < row.interval * 1000) {
        const interval = row.interval + SLOW_DOWN_STEP_SECONDS;
        op.set(this.#deviceKey(deviceKey), { ...row, interval, lastPolledAt: now } satisfies DeviceRecord, { expireIn });
        return { answer: { status: 'slow_down', interval }, op };
      }
      op.set(this.#deviceKey(deviceKey), { ...row, lastPolledAt: now } satisfies DeviceRecord, { expireIn });
      return { answer: { status: 'pending' }, op };
    });
  }

  /**
   * One call, queued behind this instance's others: sweep what expired by `sweepAt`, read
   * the guard, decide; the decision's commit (if it writes) checks the guard, and on a
   * conflict everything is read and decided again. A refusal writes nothing.
   */
  #serial<T>(
    what: string,
    sweepAt: number | null,
    decide: (guard: Guard, read: Deno.KvEntryMaybe<Guard>) => Promise<{ answer: T; op?: Deno.AtomicOperation }>,
  ): Promise<T> {
    return this.#queue.run(() =>
      optimistic(what, async () => {
        if (sweepAt !== null) await this.#sweep(sweepAt);
        const read = await this.#kv.get<Guard>(this.#guardKey);
        const { answer, op } = await decide(read.value ?? { pending: 0, counters: 0 }, read);
        if (op === undefined) return { done: answer };
        return (await op.commit()).ok ? { done: answer } : null;
      }),
    );
  }

  /** Deletes every sign-in and counter that expired by `now`, in bounded commits that keep the guard's counts. */
  async #sweep(now: number): Promise<void> {
    for (;;) {
      const expired: Deno.KvKey[] = [];
      for await (const { key } of this.#kv.list({ start: [...this.#base, 'expiry'], end: [...this.#base, 'expiry', now + 1] }, { limit: SWEEP_BATCH })) expired.push(key);
      if (expired.length === 0) break;
      const read = await this.#kv.get<Guard>(this.#guardKey);
      const guard = read.value ?? { pending: 0, counters: 0 };
      const rows = await getAll<DeviceRecord>(this.#kv, expired.map((key) => this.#deviceKey(key[key.length - 1] as string)));
      const op = this.#kv.atomic().check(read);
      const groups: GroupChanges = new Map();
      let pending = guard.pending;
      expired.forEach((key, i) => {
        const row = rows[i]!.value;
        if (row === null) op.delete(key);
        else {
          if (row.status === 'pending') pending--;
          this.#deleteRow(op, row, groups);
        }
      });
      await this.#regroup(op, groups);
      op.set(this.#guardKey, { ...guard, pending } satisfies Guard);
      await op.commit();
    }
    for (;;) {
      const ended: { key: string; windowEndsAt: number }[] = [];
      for await (const { key } of this.#kv.list({ start: [...this.#base, 'counter-window'], end: [...this.#base, 'counter-window', now + 1] }, { limit: SWEEP_BATCH })) {
        ended.push({ windowEndsAt: key[key.length - 2] as number, key: key[key.length - 1] as string });
      }
      if (ended.length === 0) break;
      const read = await this.#kv.get<Guard>(this.#guardKey);
      const guard = read.value ?? { pending: 0, counters: 0 };
      const rows = await getAll<Counter>(this.#kv, ended.map((e) => this.#counterKey(e.key)));
      const op = this.#kv.atomic().check(read);
      let counters = guard.counters;
      ended.forEach((e, i) => {
        const counter = rows[i]!.value;
        op.delete(this.#counterWindowKey(e.key, { count: 0, windowEndsAt: e.windowEndsAt }));
        if (counter !== null && counter.windowEndsAt === e.windowEndsAt) {
          op.delete(this.#counterKey(e.key)).delete(this.#counterSizeKey(e.key, counter));
          counters--;
        }
      });
      op.set(this.#guardKey, { ...guard, counters } satisfies Guard);
      await op.commit();
    }
  }

  /** The counter with the smallest count (then the earliest window), leaving out those dropped and counting those added in this call. */
  async #smallestCounter(dropped: Set<string>, added: { key: string; counter: Counter }[]): Promise<{ key: string; counter: Counter } | null> {
    let best: { key: string; counter: Counter } | null = null;
    const written = new Set(added.map((a) => a.key));
    for await (const { key } of this.#kv.list({ prefix: [...this.#base, 'counter-size'] }, { limit: dropped.size + written.size + 1 })) {
      const [count, windowEndsAt, name] = key.slice(-3) as [number, number, string];
      if (dropped.has(name) || written.has(name)) continue;
      best = { key: name, counter: { count, windowEndsAt } };
      break;
    }
    for (const a of added) {
      if (best === null || a.counter.count < best.counter.count || (a.counter.count === best.counter.count && a.counter.windowEndsAt < best.counter.windowEndsAt)) best = a;
    }
    return best;
  }

  #deleteRow(op: Deno.AtomicOperation, row: DeviceRecord, groups?: GroupChanges): void {
    op.delete(this.#deviceKey(row.deviceKey)).delete(this.#expiryKey(row));
    op.delete(this.#codeKey(row.userCodeKey));
    if (row.status === 'pending') {
      op.delete(this.#networkKey(row)).delete(this.#groupKey(row));
      groups !== undefined && changesOf(groups, row.group).removed.push({ startedAt: row.startedAt, deviceKey: row.deviceKey });
    }
  }

  /**
   * Brings each changed group's size and its place among the busiest up to date in `op`:
   * its count, and when its oldest pending sign-in started (read from the group's own
   * index, leaving out those this commit removes).
   */
  async #regroup(op: Deno.AtomicOperation, groups: GroupChanges): Promise<void> {
    for (const [group, { added, removed }] of groups) {
      const stored = (await this.#kv.get<GroupSize>(this.#groupSizeKey(group))).value;
      const count = (stored?.count ?? 0) + added.length - removed.length;
      if (stored !== null) op.delete(this.#busiestKey(group, stored));
      if (count <= 0) {
        op.delete(this.#groupSizeKey(group));
        continue;
      }
      const gone = new Set(removed.map((r) => r.deviceKey));
      let first = Math.min(...added.map((a) => a.startedAt));
      for await (const { key } of this.#kv.list({ prefix: [...this.#base, 'group', group] }, { limit: gone.size + 1 })) {
        if (gone.has(key[key.length - 1] as string)) continue;
        first = Math.min(first, key[key.length - 2] as number);
        break;
      }
      const size: GroupSize = { count, first };
      op.set(this.#groupSizeKey(group), size).set(this.#busiestKey(group, size), null);
    }
  }
}

function changesOf(groups: GroupChanges, group: string) {
  let changes = groups.get(group);
  if (changes === undefined) {
    changes = { added: [], removed: [] };
    groups.set(group, changes);
  }
  return changes;
}

/** Deno KV's getMany reads at most 10 keys at a time: these keys, 10 by 10. */
async function getAll<T>(kv: Deno.Kv, keys: Deno.KvKey[]): Promise<Deno.KvEntryMaybe<T>[]> {
  const entries: Deno.KvEntryMaybe<T>[] = [];
  for (let i = 0; i < keys.length; i += 10) entries.push(...(await kv.getMany<T[]>(keys.slice(i, i + 10))));
  return entries;
}
