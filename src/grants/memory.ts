/** The isolate's memory of open grants (see GrantMemory). */
import { TtlMap } from '../util/ttl-map.ts';
import type { Grant } from './record.ts';

export interface Remembered {
  grant: Grant;
  checkedAt: number;
}

/**
 * The isolate's memory of open grants, by grant id. A grant ended here is remembered as
 * ended for a while: an answer from the ledger that was already on its way (a check, a
 * token minted a moment before) cannot put it back.
 */
export class GrantMemory {
  readonly #entries: TtlMap<string, Remembered>;
  readonly #ended: TtlMap<string, true>;

  constructor(now: () => number, maxEntries = 1000) {
    // Entries outlive LIVENESS_TTL_MS (they are re-confirmed, not re-read); the TTL only bounds idle memory.
    this.#entries = new TtlMap({ maxEntries, ttlMs: 10 * 60_000, now });
    // Longer than any ledger answer can take (its calls have deadlines far below this).
    this.#ended = new TtlMap({ maxEntries, ttlMs: 5 * 60_000, now });
  }

  get(grantId: string): Remembered | undefined {
    return this.#entries.get(grantId);
  }
  set(grant: Grant, checkedAt: number): void {
    if (this.#ended.get(grant.id) !== undefined) return;
    this.#entries.set(grant.id, { grant, checkedAt });
  }
  /** The grant is over: forget it, and refuse to learn it again. */
  forget(grantId: string): void {
    this.#entries.delete(grantId);
    this.#ended.set(grantId, true);
  }
  isEnded(grantId: string): boolean {
    return this.#ended.get(grantId) !== undefined;
  }
}
