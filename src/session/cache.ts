/**
 * A small per-isolate memory of opened sessions, so the steady state of a busy session
 * costs no KV read and no decryption. Entries live at most `ttlMs` (30 s): no longer
 * than Workers KV's own read cache keeps a value stale in other locations, so a sign-out
 * elsewhere takes effect here no later than it would through KV. Writes and deletes in
 * this isolate update it at once.
 */
import type { SessionHandle, SessionRecord } from './store.ts';

export class SessionCache {
  readonly #entries = new Map<string, { record: SessionRecord; until: number }>();
  /** cookie value → its token and storage key: decoding and hashing are deterministic, so this needs no expiry, only a bound. */
  readonly #handles = new Map<string, SessionHandle>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(now: () => number, options: { maxEntries?: number; ttlMs?: number } = {}) {
    this.#now = now;
    this.#maxEntries = options.maxEntries ?? 1000;
    this.#ttlMs = options.ttlMs ?? 30_000;
  }

  get(key: string): SessionRecord | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    // Map order is insertion order: re-insert to keep recently used entries last.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.record;
  }

  set(key: string, record: SessionRecord): void {
    this.#entries.delete(key);
    this.#entries.set(key, { record, until: this.#now() + this.#ttlMs });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** The handle (token bytes and storage key) for a cookie value, computing it once per isolate. */
  handleFor(cookieValue: string, compute: () => SessionHandle | null): SessionHandle | null {
    let handle = this.#handles.get(cookieValue);
    if (handle === undefined) {
      const computed = compute();
      if (computed === null) return null;
      if (this.#handles.size >= this.#maxEntries) this.#handles.delete(this.#handles.keys().next().value!);
      this.#handles.set(cookieValue, computed);
      handle = computed;
    }
    return handle;
  }
}
