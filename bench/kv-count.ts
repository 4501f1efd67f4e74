/**
 * Counting a Deno KV handle's operations, for the benchmark's Deno entry
 * (bench/deno-servers/gateway.ts): a Proxy that counts each call that reaches the
 * database and otherwise passes everything through. Written against no Deno type, so
 * that Node type-checks and unit-tests it (test/node/bench-kv-count.test.ts) with a
 * stand-in for Deno.Kv, and Deno runs it around the real one.
 */

/** The calls that reach the database: reads, writes, and `atomic().commit()` (one write of many mutations). */
export const KV_OPERATIONS = ['get', 'getMany', 'list', 'watch', 'set', 'delete', 'enqueue', 'commit'] as const;
export type KvOperation = (typeof KV_OPERATIONS)[number];
export type KvCounts = Record<KvOperation, number>;

const READS: readonly KvOperation[] = ['get', 'getMany', 'list', 'watch'];

export const noKvCounts = (): KvCounts => ({ get: 0, getMany: 0, list: 0, watch: 0, set: 0, delete: 0, enqueue: 0, commit: 0 });

/** Reads and writes in `counts` (every operation is one or the other). */
export function readsAndWrites(counts: KvCounts): { reads: number; writes: number } {
  let reads = 0;
  let writes = 0;
  for (const operation of KV_OPERATIONS) {
    if (READS.includes(operation)) reads += counts[operation];
    else writes += counts[operation];
  }
  return { reads, writes };
}

/** What happened between two readings of the same counts. */
export function kvCountsSince(before: KvCounts, after: KvCounts): KvCounts {
  const since = noKvCounts();
  for (const operation of KV_OPERATIONS) since[operation] = after[operation] - before[operation];
  return since;
}

const isOperation = (name: string | symbol): name is KvOperation => typeof name === 'string' && (KV_OPERATIONS as readonly string[]).includes(name);

/**
 * `kv` with every operation counted in `counts`. Methods run on the real object (Deno's
 * classes keep their state in private fields, which a Proxy as `this` would not reach),
 * and a method that returns its own object (an atomic operation's chained `check`,
 * `set`…) returns the counting one, so that the chain's `commit` is counted. `atomic()`
 * hands out an atomic operation of which only `commit` counts: its `set`, `delete`,
 * `sum`… only add to what that one commit writes.
 */
export function countingKv<T extends object>(kv: T, counts: KvCounts): T {
  return passThrough(kv, {
    counted: (name) => (isOperation(name) && name !== 'commit' ? name : undefined),
    wrapResultOf: (name) => (name === 'atomic' ? (operation) => passThrough(operation, { counted: (n) => (n === 'commit' ? n : undefined), wrapResultOf: () => undefined }, counts) : undefined),
  }, counts);
}

interface Counting {
  /** The operation a call of this method is, if it is one. */
  counted(name: string | symbol): KvOperation | undefined;
  /** How to wrap the object this method returns, if at all. */
  wrapResultOf(name: string | symbol): ((result: object) => object) | undefined;
}

function passThrough<T extends object>(target: T, counting: Counting, counts: KvCounts): T {
  const proxy: T = new Proxy(target, {
    get(object, name) {
      const value: unknown = Reflect.get(object, name, object);
      if (typeof value !== 'function') return value;
      const operation = counting.counted(name);
      const wrap = counting.wrapResultOf(name);
      return (...args: unknown[]) => {
        if (operation !== undefined) counts[operation]++;
        const result: unknown = Reflect.apply(value, object, args);
        if (result === object) return proxy;
        return wrap !== undefined && typeof result === 'object' && result !== null ? wrap(result) : result;
      };
    },
  });
  return proxy;
}

/** The line the benchmark's Deno entry writes to stderr with its counts, and how the benchmark reads it back. */
export const KV_COUNTS_MARKER = 'bench-kv-counts';

export function kvCountsLine(counts: KvCounts): string {
  return JSON.stringify({ [KV_COUNTS_MARKER]: counts });
}

/** The counts in a line of the entry's stderr, or undefined for any other line. */
export function parseKvCountsLine(line: string): KvCounts | undefined {
  if (!line.includes(KV_COUNTS_MARKER)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  const counts = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)[KV_COUNTS_MARKER] : undefined;
  if (typeof counts !== 'object' || counts === null) return undefined;
  const read = noKvCounts();
  for (const operation of KV_OPERATIONS) {
    const n = (counts as Record<string, unknown>)[operation];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return undefined;
    read[operation] = n;
  }
  return read;
}
