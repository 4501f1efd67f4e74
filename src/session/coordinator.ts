/**
 * Who may spend a refresh token. Looker may rotate refresh tokens and reject the old
 * one, so two isolates refreshing one session at once could log the user out. A
 * coordinator runs the refresh for a given refresh token at most once at a time and
 * lets late callers reuse the result.
 *
 * - LocalRefreshCoordinator: one isolate (single-flight in memory). Enough for tests,
 *   `wrangler dev` and other single-process runtimes.
 * - The Durable Object coordinator (src/platform/refresh-coordinator.ts) serialises
 *   across every isolate and location: Workers KV has no compare-and-swap and reads may
 *   be up to a minute stale, so KV alone cannot make this safe.
 */
import { sha256 } from '@oslojs/crypto/sha2';
import { encodeHexLowerCase } from '@oslojs/encoding';
import type { TokenSet } from '../looker/oauth.ts';

export interface RefreshCoordinator {
  /**
   * True when it coordinates across isolates (a refused refresh then really means the
   * session is over); false when another isolate may have spent the token unseen.
   */
  readonly crossIsolate: boolean;
  /**
   * Runs `refresh` for this refresh token unless a refresh with it is running or has
   * recently succeeded somewhere; then returns that result instead. `scope` names the
   * session (its storage key), so one session's refreshes meet in one place.
   */
  run(scope: string, refreshToken: string, refresh: () => Promise<TokenSet>): Promise<TokenSet>;
}

/** A name for a refresh token that reveals nothing about it. */
export function refreshTokenKey(refreshToken: string): string {
  return encodeHexLowerCase(sha256(new TextEncoder().encode(`refresh\0${refreshToken}`)));
}

export class LocalRefreshCoordinator implements RefreshCoordinator {
  readonly crossIsolate = false;
  readonly #inFlight = new Map<string, Promise<TokenSet>>();

  run(_scope: string, refreshToken: string, refresh: () => Promise<TokenSet>): Promise<TokenSet> {
    const key = refreshTokenKey(refreshToken);
    const pending = this.#inFlight.get(key);
    if (pending !== undefined) return pending;
    const running = refresh().finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, running);
    return running;
  }
}
