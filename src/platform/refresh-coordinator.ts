/**
 * A Durable Object that serialises token refreshes per session across every isolate
 * and location (see src/session/coordinator.ts for why KV alone cannot).
 *
 * It is only a lock and a short-lived memory of results: the Looker call stays in the
 * Worker. Results are stored sealed with a key derived from SESSION_SECRET and the
 * refresh token that was spent, so only a caller who holds that refresh token can open
 * them, and the object's storage alone reveals nothing.
 */
import { DurableObject } from 'cloudflare:workers';
import type { TokenSet } from '../looker/oauth.ts';
import { type RefreshCoordinator, refreshTokenKey } from '../session/coordinator.ts';
import type { Sealer } from '../session/seal.ts';

/** How long a holder may take before waiters stop waiting for it. */
const LEASE_MS = 30_000;
/** How long a result is kept for late callers whose KV read was still stale. */
const RESULT_TTL_MS = 10 * 60_000;

type Acquired = { lease: string } | { sealed: string; issuedAt: number };

interface Lock {
  lease: string;
  expiresAt: number;
  released: Promise<void>;
  release: () => void;
}

export class RefreshCoordinatorObject extends DurableObject {
  readonly #locks = new Map<string, Lock>();

  /** Either a lease to refresh with this token, or the result someone else already got. */
  async acquire(tokenKey: string): Promise<Acquired> {
    for (;;) {
      const done = await this.ctx.storage.get<{ sealed: string; issuedAt: number; storedAt: number }>(`done:${tokenKey}`);
      if (done !== undefined && Date.now() - done.storedAt < RESULT_TTL_MS) return { sealed: done.sealed, issuedAt: done.issuedAt };
      const lock = this.#locks.get(tokenKey);
      if (lock === undefined || lock.expiresAt <= Date.now()) {
        let release!: () => void;
        const released = new Promise<void>((resolve) => (release = resolve));
        const lease = crypto.randomUUID();
        this.#locks.set(tokenKey, { lease, expiresAt: Date.now() + LEASE_MS, released, release });
        return { lease };
      }
      await Promise.race([lock.released, new Promise((resolve) => setTimeout(resolve, Math.max(0, lock.expiresAt - Date.now())))]);
    }
  }

  async complete(tokenKey: string, lease: string, sealed: string, issuedAt: number): Promise<void> {
    if (!this.#holds(tokenKey, lease)) return;
    await this.ctx.storage.put(`done:${tokenKey}`, { sealed, issuedAt, storedAt: Date.now() });
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + RESULT_TTL_MS);
    this.#unlock(tokenKey);
  }

  async release(tokenKey: string, lease: string): Promise<void> {
    if (this.#holds(tokenKey, lease)) this.#unlock(tokenKey);
  }

  #holds(tokenKey: string, lease: string): boolean {
    return this.#locks.get(tokenKey)?.lease === lease;
  }

  /** Drops the lock and wakes everyone waiting on it. */
  #unlock(tokenKey: string): void {
    const lock = this.#locks.get(tokenKey);
    this.#locks.delete(tokenKey);
    lock?.release();
  }

  override async alarm(): Promise<void> {
    const entries = await this.ctx.storage.list<{ storedAt: number }>({ prefix: 'done:' });
    const expired = [...entries].filter(([, v]) => Date.now() - v.storedAt >= RESULT_TTL_MS).map(([k]) => k);
    if (expired.length > 0) await this.ctx.storage.delete(expired);
    if (entries.size > expired.length) await this.ctx.storage.setAlarm(Date.now() + RESULT_TTL_MS);
  }
}

/** The RPC surface the Worker uses (kept structural so tests and other runtimes can stand in). */
export interface CoordinatorStub {
  acquire(tokenKey: string): Promise<Acquired>;
  complete(tokenKey: string, lease: string, sealed: string, issuedAt: number): Promise<void>;
  release(tokenKey: string, lease: string): Promise<void>;
}

export class DurableObjectRefreshCoordinator implements RefreshCoordinator {
  readonly crossIsolate = true;
  readonly #stubFor: (scope: string) => CoordinatorStub;
  readonly #sealer: Sealer;
  readonly #now: () => number;

  constructor(stubFor: (scope: string) => CoordinatorStub, sealer: Sealer, now: () => number) {
    this.#stubFor = stubFor;
    this.#sealer = sealer;
    this.#now = now;
  }

  /** One object per session, named by the session's storage key (a hash). */
  static forNamespace(namespace: DurableObjectNamespace<RefreshCoordinatorObject>, sealer: Sealer, now: () => number) {
    return new DurableObjectRefreshCoordinator((scope) => namespace.get(namespace.idFromName(scope)), sealer, now);
  }

  async run(scope: string, refreshToken: string, refresh: () => Promise<TokenSet>): Promise<TokenSet> {
    const tokenKey = refreshTokenKey(refreshToken);
    const stub = this.#stubFor(scope);
    const secret = new TextEncoder().encode(refreshToken);
    let acquired: Acquired;
    try {
      acquired = await stub.acquire(tokenKey);
    } catch {
      // The coordinator is unavailable: refreshing unguarded beats failing the request.
      return refresh();
    }
    if ('sealed' in acquired) {
      const opened = await this.#sealer.open('refresh', secret, tokenKey, acquired.sealed);
      if (opened !== null) {
        const tokens = JSON.parse(opened) as TokenSet;
        // The clock started when the tokens were issued, not now.
        const elapsedSeconds = Math.max(0, (this.#now() - acquired.issuedAt) / 1000);
        return { ...tokens, expiresIn: Math.max(1, tokens.expiresIn - elapsedSeconds) };
      }
      // Sealed under another SESSION_SECRET: fall through and refresh ourselves.
      return refresh();
    }
    let tokens: TokenSet;
    try {
      tokens = await refresh();
    } catch (error) {
      await stub.release(tokenKey, acquired.lease);
      throw error;
    }
    try {
      const sealed = await this.#sealer.seal('refresh', secret, tokenKey, JSON.stringify(tokens));
      await stub.complete(tokenKey, acquired.lease, sealed, this.#now());
    } catch {
      // The tokens are good whether or not the coordinator remembered them.
    }
    return tokens;
  }
}
