/**
 * Holder records (sessions, credentials: src/callers/records.ts) in Deno KV, with what
 * Workers KV gives: a value that ends after its TTL. The expiry is kept in the value and
 * checked on every read; Deno KV's `expireIn` only deletes it some time later.
 */
import type { KeyValueStore } from '../../callers/records.ts';
import { GC_MARGIN_MS } from './kv.ts';

interface Held {
  value: string;
  expiresAt: number;
}

export class DenoKvHolderStore implements KeyValueStore {
  readonly #kv: Deno.Kv;
  readonly #prefix: Deno.KvKey;
  readonly #clock: () => number;

  constructor(kv: Deno.Kv, options: { prefix?: Deno.KvKey; clock?: () => number } = {}) {
    this.#kv = kv;
    this.#prefix = [...(options.prefix ?? []), 'holder'];
    this.#clock = options.clock ?? Date.now;
  }

  async get(key: string): Promise<string | null> {
    const entry = await this.#kv.get<Held>([...this.#prefix, key]);
    if (entry.value === null || entry.value.expiresAt <= this.#clock()) return null;
    return entry.value.value;
  }

  async put(key: string, value: string, options: { expirationTtl: number }): Promise<void> {
    const ttlMs = options.expirationTtl * 1000;
    await this.#kv.set([...this.#prefix, key], { value, expiresAt: this.#clock() + ttlMs } satisfies Held, { expireIn: ttlMs + GC_MARGIN_MS });
  }

  async delete(key: string): Promise<void> {
    await this.#kv.delete([...this.#prefix, key]);
  }
}
