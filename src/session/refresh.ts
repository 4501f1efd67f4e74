/**
 * Keeps a session's Looker access token fresh. Shared by every route that calls
 * Looker on the user's behalf (the home page, the API proxy).
 *
 * - Refreshes when the token has less than REFRESH_MARGIN_MS left.
 * - Single-flight per isolate: concurrent callers on one session share one refresh;
 *   across isolates a RefreshCoordinator (a Durable Object in production) makes sure
 *   one refresh token is spent once.
 * - Keeps the old refresh token when Looker returns none; replaces it when a new one comes.
 * - A refused refresh (any 4xx: Looker's error shape is not documented) ends the
 *   session — unless the stored session meanwhile holds other tokens, i.e. another
 *   isolate refreshed first and Looker rotated the refresh token.
 * - Looker unreachable while the current access token still works: keep using it.
 * - A call whose token Looker refuses (an admin revoked it) is renewed once and repeated.
 */
import type { OAuthClient, TokenSet } from '../looker/oauth.ts';
import { refreshAccessToken } from '../looker/oauth.ts';
import type { RefreshCoordinator } from './coordinator.ts';
import { LookerRejectedError } from '../looker/errors.ts';
import { SESSION_TTL_SECONDS, type SessionHandle, type SessionRecord, type SessionStore } from './store.ts';

export const REFRESH_MARGIN_MS = 60_000;
/** Re-reads of the session after a refused refresh, and the pauses between them. */
const ADOPTION_WAITS_MS = [100, 250, 500, 0];

/** The session is over: its tokens are gone at Looker and it has been deleted from the store. */
export class SessionEndedError extends Error {
  override readonly name = 'SessionEndedError';
}

export interface RefreshDependencies {
  store: SessionStore;
  oauth: OAuthClient;
  coordinator: RefreshCoordinator;
}

export interface FreshSession {
  record: SessionRecord;
  refreshed: boolean;
}

export interface RefreshEvent {
  outcome: 'refreshed' | 'ended' | 'adopted' | 'failed';
  reason?: string;
}

export class TokenRefresher {
  readonly #inFlight = new Map<string, Promise<FreshSession>>();
  readonly #now: () => number;
  readonly #onEvent: (event: RefreshEvent) => void;

  constructor(now: () => number, onEvent: (event: RefreshEvent) => void) {
    this.#now = now;
    this.#onEvent = onEvent;
  }

  needsRefresh(record: SessionRecord): boolean {
    return record.grant.accessTokenExpiresAt - this.#now() < REFRESH_MARGIN_MS;
  }

  /**
   * The session with an access token good for at least REFRESH_MARGIN_MS, refreshing
   * if needed (or always, with `force`, e.g. after Looker answered 401 to the token).
   */
  async ensureFresh(
    deps: RefreshDependencies,
    handle: SessionHandle,
    record: SessionRecord,
    options: { force?: boolean } = {},
  ): Promise<FreshSession> {
    if (!options.force && !this.needsRefresh(record)) return { record, refreshed: false };
    const pending = this.#inFlight.get(handle.key);
    if (pending !== undefined) return pending;
    const refresh = this.#refresh(deps, handle, record, options.force === true).finally(() =>
      this.#inFlight.delete(handle.key),
    );
    this.#inFlight.set(handle.key, refresh);
    return refresh;
  }

  /**
   * Calls Looker with the session's access token, refreshed first if needed. If Looker
   * refuses the token (`isRefused`) although it should be valid, and the call can be
   * repeated, the token is renewed once and the call made again; the refused result is
   * handed to `discard` first. Throws SessionEndedError when the renewal is refused.
   */
  async callWithAccessToken<T>(
    deps: RefreshDependencies,
    handle: SessionHandle,
    record: SessionRecord,
    call: (accessToken: string) => Promise<T>,
    options: { isRefused: (result: T) => boolean; canRepeat: boolean; discard?: (result: T) => Promise<void> },
  ): Promise<{ result: T; record: SessionRecord; refreshed: boolean }> {
    // The steady state (token still good) takes no detour through the refresh machinery.
    const fresh = this.needsRefresh(record) ? await this.ensureFresh(deps, handle, record) : { record, refreshed: false };
    const result = await call(fresh.record.grant.accessToken);
    if (!options.canRepeat || !options.isRefused(result)) return { result, ...fresh };
    await options.discard?.(result);
    const renewed = await this.ensureFresh(deps, handle, fresh.record, { force: true });
    return { result: await call(renewed.record.grant.accessToken), record: renewed.record, refreshed: true };
  }

  async #refresh(
    { store, oauth, coordinator }: RefreshDependencies,
    handle: SessionHandle,
    record: SessionRecord,
    force: boolean,
  ): Promise<FreshSession> {
    const now = this.#now();
    const stillValid = !force && record.grant.accessTokenExpiresAt > now;
    const refreshToken = record.grant.refreshToken;
    if (refreshToken === null) {
      if (stillValid) return { record, refreshed: false };
      await store.deleteSession(handle);
      this.#onEvent({ outcome: 'ended', reason: 'no refresh token' });
      throw new SessionEndedError('The Looker session expired and cannot be renewed');
    }
    let tokens: TokenSet;
    let spent = false;
    try {
      tokens = await coordinator.run(handle.key, refreshToken, () => {
        spent = true;
        return refreshAccessToken(oauth, { refreshToken, redirectUri: record.redirectUri });
      });
    } catch (error) {
      if (error instanceof LookerRejectedError) {
        // Another isolate may have spent this refresh token a moment ago (Looker rotates):
        // without a cross-isolate coordinator, give its write a short while to land
        // before calling the session over.
        for (const waitMs of coordinator.crossIsolate ? [0] : ADOPTION_WAITS_MS) {
          const latest = await store.reloadSession(handle);
          if (latest !== null && latest.grant.refreshToken !== refreshToken && !this.needsRefresh(latest)) {
            this.#onEvent({ outcome: 'adopted', reason: 'another instance refreshed first' });
            return { record: latest, refreshed: true };
          }
          if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
        }
        await store.deleteSession(handle);
        this.#onEvent({ outcome: 'ended', reason: error.code ?? `status ${error.status}` });
        throw new SessionEndedError('Looker no longer accepts this session; sign in again');
      }
      this.#onEvent({ outcome: 'failed', reason: error instanceof Error ? error.name : 'unknown' });
      if (stillValid) return { record, refreshed: false };
      throw error;
    }
    const refreshedAt = this.#now();
    const next: SessionRecord = {
      ...record,
      grant: {
        accessToken: tokens.accessToken,
        accessTokenExpiresAt: refreshedAt + tokens.expiresIn * 1000,
        refreshToken: tokens.refreshToken ?? refreshToken,
      },
      expiresAt: tokens.refreshToken === null ? record.expiresAt : refreshedAt + SESSION_TTL_SECONDS * 1000,
    };
    if (spent) {
      // Only the caller that spent the refresh token writes (KV allows one write per
      // second per key); others got the same tokens from the coordinator.
      try {
        await store.saveSession(handle, next);
      } catch (error) {
        this.#onEvent({ outcome: 'failed', reason: `saving the refreshed session: ${error instanceof Error ? error.name : 'unknown'}` });
      }
    }
    this.#onEvent({ outcome: spent ? 'refreshed' : 'adopted' });
    return { record: next, refreshed: true };
  }
}
