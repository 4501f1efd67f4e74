/**
 * The counting Deno KV handle of the benchmark's Deno entry, against a stand-in with the
 * shape that matters: private fields (as Deno's classes keep their state), an atomic
 * operation whose chained methods return itself, a list iterator. And the stderr line the
 * counts travel on.
 */
import { describe, expect, it } from 'vitest';
import { countingKv, kvCountsLine, kvCountsSince, noKvCounts, parseKvCountsLine, readsAndWrites } from '../../bench/kv-count.ts';

class StandInAtomic {
  readonly #mutations: string[] = [];
  readonly #committed: string[][];
  constructor(committed: string[][]) {
    this.#committed = committed;
  }
  check(..._entries: unknown[]): this {
    return this;
  }
  set(key: string, _value: unknown): this {
    this.#mutations.push(`set ${key}`);
    return this;
  }
  delete(key: string): this {
    this.#mutations.push(`delete ${key}`);
    return this;
  }
  sum(key: string, _n: bigint): this {
    this.#mutations.push(`sum ${key}`);
    return this;
  }
  async commit(): Promise<{ ok: boolean }> {
    this.#committed.push([...this.#mutations]);
    return { ok: true };
  }
}

class StandInKv {
  readonly #values = new Map<string, unknown>();
  readonly committed: string[][] = [];
  async get(key: string) {
    return { key, value: this.#values.get(key) ?? null };
  }
  async getMany(keys: string[]) {
    return Promise.all(keys.map((key) => this.get(key)));
  }
  async set(key: string, value: unknown) {
    this.#values.set(key, value);
    return { ok: true };
  }
  async delete(key: string) {
    this.#values.delete(key);
  }
  async *list() {
    for (const [key, value] of this.#values) yield { key, value };
  }
  atomic() {
    return new StandInAtomic(this.committed);
  }
  close() {
    return 'closed';
  }
}

describe('countingKv', () => {
  it('counts each read and write and passes the answers through', async () => {
    const counts = noKvCounts();
    const kv = countingKv(new StandInKv(), counts);
    await kv.set('a', 1);
    expect((await kv.get('a')).value).toBe(1);
    expect((await kv.getMany(['a', 'b'])).map((e) => e.value)).toEqual([1, null]);
    const listed = [];
    for await (const entry of kv.list()) listed.push(entry.key);
    expect(listed).toEqual(['a']);
    await kv.delete('a');
    expect(counts).toEqual({ ...noKvCounts(), get: 1, getMany: 1, list: 1, set: 1, delete: 1 });
    expect(readsAndWrites(counts)).toEqual({ reads: 3, writes: 2 });
  });

  it('counts an atomic operation once, at its commit, however many mutations it chains', async () => {
    const counts = noKvCounts();
    const inner = new StandInKv();
    const kv = countingKv(inner, counts);
    const op = kv.atomic().check({}).set('a', 1).delete('b');
    op.sum('c', 1n);
    expect(counts.commit).toBe(0);
    expect(await op.commit()).toEqual({ ok: true });
    expect(inner.committed).toEqual([['set a', 'delete b', 'sum c']]);
    expect(counts).toEqual({ ...noKvCounts(), commit: 1 });
    expect(readsAndWrites(counts)).toEqual({ reads: 0, writes: 1 });
  });

  it('runs methods on the real object (private fields work) and counts nothing else', () => {
    const counts = noKvCounts();
    const kv = countingKv(new StandInKv(), counts);
    expect(kv.close()).toBe('closed');
    expect(kv.committed).toEqual([]);
    expect(counts).toEqual(noKvCounts());
  });
});

describe('kvCountsSince', () => {
  it('gives what happened between two readings', () => {
    const before = { ...noKvCounts(), get: 3, commit: 1 };
    const after = { ...noKvCounts(), get: 5, commit: 1, set: 2 };
    expect(kvCountsSince(before, after)).toEqual({ ...noKvCounts(), get: 2, set: 2 });
  });
});

describe('the counts line', () => {
  it('reads back what the entry writes', () => {
    const counts = { ...noKvCounts(), get: 7, getMany: 1, commit: 2 };
    expect(parseKvCountsLine(kvCountsLine(counts))).toEqual(counts);
  });

  it.each([
    ['a log line', '{"level":"info","event":"request"}'],
    ['a warning', 'Warning: something'],
    ['broken JSON', '{"bench-kv-counts":{'],
    ['a missing operation', JSON.stringify({ 'bench-kv-counts': { get: 1 } })],
    ['a negative count', kvCountsLine({ ...noKvCounts(), get: -1 })],
    ['a fraction', kvCountsLine({ ...noKvCounts(), set: 0.5 })],
  ])('is not read from %s', (_what, line) => {
    expect(parseKvCountsLine(line)).toBeUndefined();
  });
});
