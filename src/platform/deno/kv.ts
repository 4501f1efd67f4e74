/**
 * What the Deno KV stores share: optimistic transactions (read with versionstamps, commit
 * with checks, read again on a conflict), an in-process queue so one instance does not
 * race itself, and the rule that `expireIn` is only garbage collection — whether a record
 * is alive is always decided by the expiry kept inside its value.
 */

/** Deno KV deletes an expired key some time after `expireIn`, never before: records outlive their own expiry by this. */
export const GC_MARGIN_MS = 24 * 3600_000;
/** Deno KV's own limits (a call that breaks one throws): checks and mutations per atomic commit (getMany: 10 keys). */
export const MAX_CHECKS = 100;
export const MAX_MUTATIONS = 1000;
/** How often an optimistic transaction is tried before the caller is told the store cannot answer (a 503). */
const MAX_ATTEMPTS = 64;

export class KvConflictError extends Error {
  override readonly name = 'KvConflictError';
}

/**
 * Whether a commit failed because another process was writing the same local KV file (two
 * `deno serve` sharing DENO_KV_PATH): SQLite lets one process write at a time, and a commit
 * with checks that meets the other's write fails at once with "database is locked", having
 * written nothing. That is a conflict like a failed check: read again and decide again.
 */
export function isLockedByAnotherProcess(error: unknown): boolean {
  return error instanceof Error && /\bdatabase is locked\b/.test(error.message);
}

/** After the `attempt`-th conflict in a row: a short random pause (up to 50 ms), so that two processes stop colliding. */
export function conflictPause(attempt: number): Promise<void> | undefined {
  if (attempt === 0) return undefined;
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));
}

/**
 * Runs `attempt` until it commits: it returns `{ done: value }`, or `null` when its commit
 * failed a check (someone wrote what it read) and it must read again. A commit that
 * another process's write kept out (isLockedByAnotherProcess) is the same: read again.
 */
export async function optimistic<T>(what: string, attempt: () => Promise<{ done: T } | null>): Promise<T> {
  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    let result: { done: T } | null;
    try {
      result = await attempt();
    } catch (error) {
      if (!isLockedByAnotherProcess(error)) throw error;
      result = null;
    }
    if (result !== null) return result.done;
    await conflictPause(i);
  }
  throw new KvConflictError(`${what}: still conflicting after ${MAX_ATTEMPTS} attempts`);
}

/** One at a time per key, within this process (other processes are kept in order by versionstamp checks). */
export class Queue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(work, work);
    this.#tail = result.catch(() => {});
    return result;
  }
}

/** expireIn for a record alive until `until` (judged at `now`): never less than the record's life, plus a day. */
export function gcAfter(until: number, now: number): number {
  return Math.max(0, until - now) + GC_MARGIN_MS;
}
