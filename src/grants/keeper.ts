/**
 * The gateway's side of Looker grants: creating one, confirming it is still alive,
 * keeping its access token fresh, and ending it. Shared by every kind of caller (browser
 * sessions, script credentials, gateway access tokens): they differ only in how they
 * find a grant and the key that opens it (a GrantAccess).
 *
 * - Liveness: the ledger (a Durable Object per person) decides. An isolate trusts its own
 *   memory of a grant for at most LIVENESS_TTL_MS, then asks the ledger again; a grant
 *   ended in this isolate is forgotten at once.
 * - Refresh: when under REFRESH_MARGIN_MS remain (or Looker refused the token), by the
 *   refresh protocol (refresh.ts): one refresh per grant at a time, everywhere, and only
 *   an OAuth `invalid_grant` from Looker ends a grant.
 */
import { open, seal, type Sealer, type SealKey } from '../crypto/seal.ts';
import { revokeAccessToken, type TokenSet } from '../looker/oauth.ts';
import { type GrantAccess, GrantUnavailableError, LIVENESS_TTL_MS } from './access.ts';
import type { EndedGrant, GrantKind, GrantSummary } from './ledger.ts';
import type { GrantScope } from './scope.ts';
import { type Grant, grantStorageKey, parseGrant, parseJson, isObject, serializeGrant } from './record.ts';
import { describeFault, type FreshGrant, type GrantLifecycle, Refresher, type RefreshDependencies } from './refresh.ts';

/** Refresh when less than this is left on the access token. */
export const REFRESH_MARGIN_MS = 60_000;

export interface KeeperDependencies extends RefreshDependencies {
  sealer: Sealer;
  /** Deletes a KV record of a grant's holder when the grant ends. */
  deleteRecord: (key: string) => Promise<void>;
}

export class GrantKeeper implements GrantLifecycle {
  readonly #d: KeeperDependencies;
  readonly #refresher: Refresher;

  constructor(dependencies: KeeperDependencies) {
    this.#d = dependencies;
    this.#refresher = new Refresher(dependencies, this);
  }

  /**
   * The grant with an access token good for at least REFRESH_MARGIN_MS, refreshing if
   * needed (or always, with `force`: Looker refused the token although it should be valid).
   */
  ensureFresh(access: GrantAccess, grant: Grant, options: { force?: boolean } = {}): Promise<FreshGrant> {
    return this.#refresher.ensureFresh(access, grant, options);
  }

  needsRefresh(grant: Grant): boolean {
    return grant.tokens.accessTokenExpiresAt - this.#d.now() < REFRESH_MARGIN_MS;
  }

  /** Seals and records a new grant (version 1) in its person's ledger. */
  async create(
    access: GrantAccess,
    init: {
      kind: GrantKind;
      label: string;
      scope: GrantScope;
      tokens: TokenSet;
      redirectUri: string;
      expiresAt: number;
      kvKeys: string[];
      clientId?: string;
      redirectHost?: string;
    },
  ): Promise<Grant> {
    const now = this.#d.now();
    const grant: Grant = {
      id: access.grantId,
      personKey: access.personKey,
      kind: init.kind,
      scope: init.scope,
      version: 1,
      tokens: {
        accessToken: init.tokens.accessToken,
        accessTokenExpiresAt: now + init.tokens.expiresIn * 1000,
        refreshToken: init.tokens.refreshToken,
      },
      redirectUri: init.redirectUri,
      createdAt: now,
      expiresAt: init.expiresAt,
    };
    await this.#d.ledgerFor(access.personKey).createGrant({
      grantId: grant.id,
      kind: init.kind,
      label: init.label,
      scope: init.scope,
      createdAt: now,
      // A session is used by the sign-in that made it; a credential or an agent not until it calls.
      lastUsedAt: init.kind === 'session' ? now : 0,
      expiresAt: grant.expiresAt,
      version: 1,
      sealed: await this.sealGrant(access.key, grant),
      revocation: await this.revocationFor(grant),
      kvKeys: init.kvKeys,
      ...(init.clientId === undefined ? {} : { clientId: init.clientId }),
      ...(init.redirectHost === undefined ? {} : { redirectHost: init.redirectHost }),
    });
    this.#d.memory.set(grant, now);
    return grant;
  }

  sealGrant(key: SealKey, grant: Grant): Promise<string> {
    return seal(key, grantStorageKey(grant.id, grant.version), serializeGrant(grant));
  }

  async openGrant(access: GrantAccess, version: number, sealed: string): Promise<Grant | null> {
    const text = await open(access.key, grantStorageKey(access.grantId, version), sealed);
    return text === null ? null : parseGrant(text, access.grantId, access.personKey, version);
  }

  /**
   * The grant if it is alive: from the isolate's memory while that is recent enough,
   * else confirmed by the ledger (adopting a newer version stored elsewhere). Null when
   * the grant is over. Throws GrantUnavailableError when the ledger cannot be asked.
   */
  async confirm(access: GrantAccess, options: { touch: boolean }): Promise<Grant | null> {
    const now = this.#d.now();
    const remembered = this.#d.memory.get(access.grantId);
    if (remembered !== undefined && now - remembered.checkedAt < LIVENESS_TTL_MS) {
      if (remembered.grant.expiresAt > now) return remembered.grant;
      this.#d.memory.forget(access.grantId);
      return null;
    }
    // Each request asks the ledger itself: a promise made by one request must never be
    // awaited by another (if the first is cancelled, the second would wait forever).
    await this.#refresher.storeUnsaved(access);
    return this.checkWithLedger(access, remembered?.grant, options.touch);
  }

  async checkWithLedger(access: GrantAccess, known: Grant | undefined, touch: boolean): Promise<Grant | null> {
    const now = this.#d.now();
    let answer;
    try {
      answer = await this.#d.ledgerFor(access.personKey).check(access.grantId, known?.version ?? 0, now, touch);
    } catch (error) {
      throw new GrantUnavailableError('The gateway could not confirm the session right now', { retryAfter: 1, cause: error });
    }
    if (!answer.alive) {
      this.#d.memory.forget(access.grantId);
      return null;
    }
    const grant = answer.sealed === null ? known : await this.openGrant(access, answer.version, answer.sealed);
    if (grant === undefined || grant === null || grant.expiresAt <= now) {
      this.#d.memory.forget(access.grantId);
      return null;
    }
    this.#d.memory.set(grant, now);
    return grant;
  }

  /** Remembers a grant the ledger just confirmed through another path (an access token's check). */
  remember(grant: Grant): void {
    this.#d.memory.set(grant, this.#d.now());
  }

  /**
   * The grant from the isolate's memory, without waiting, when that memory is recent
   * enough to trust (the steady state); undefined when `confirm` must be asked.
   */
  confirmedFromMemory(grantId: string): Grant | undefined {
    const remembered = this.#d.memory.get(grantId);
    if (remembered === undefined) return undefined;
    const now = this.#d.now();
    return now - remembered.checkedAt < LIVENESS_TTL_MS && remembered.grant.expiresAt > now ? remembered.grant : undefined;
  }

  /** The isolate's copy of a grant, if it has one (liveness is the caller's to judge). */
  remembered(grantId: string): Grant | undefined {
    return this.#d.memory.get(grantId)?.grant;
  }

  forget(grantId: string): void {
    this.#d.memory.forget(grantId);
  }



  /**
   * Calls Looker with the grant's access token, refreshed first if needed. If Looker
   * refuses the token (`isRefused`) and the call can be repeated, the token is renewed
   * once and the call made again (the refused result is handed to `discard` first).
   */
  async callWithAccessToken<T>(
    access: GrantAccess,
    grant: Grant,
    call: (accessToken: string) => Promise<T>,
    options: { isRefused: (result: T) => boolean; canRepeat: boolean; discard?: (result: T) => Promise<void> },
  ): Promise<{ result: T; grant: Grant; refreshed: boolean }> {
    // The steady state (token still good) takes no detour through the refresh machinery.
    const fresh = this.needsRefresh(grant) ? await this.ensureFresh(access, grant) : { grant, refreshed: false };
    const result = await call(fresh.grant.tokens.accessToken);
    if (!options.canRepeat || !options.isRefused(result)) return { result, ...fresh };
    await options.discard?.(result);
    const renewed = await this.ensureFresh(access, fresh.grant, { force: true });
    return { result: await call(renewed.grant.tokens.accessToken), grant: renewed.grant, refreshed: true };
  }

  /**
   * Ends grants in the ledger, then deletes their holders' KV records and revokes their
   * access tokens at Looker. Returns what was alive.
   */
  async end(personKey: string, which: { grantId: string } | { all: true }, reason: string): Promise<EndedGrant[]> {
    const ended = await this.#d.ledgerFor(personKey).end(which);
    await this.cleanUp(ended, reason);
    return ended;
  }

  /** Everything alive that acts as this person (for "Your access"). */
  list(personKey: string): Promise<GrantSummary[]> {
    return this.#d.ledgerFor(personKey).list(this.#d.now());
  }

  async describe(personKey: string, grantId: string): Promise<GrantSummary | null> {
    return (await this.list(personKey)).find((g) => g.grantId === grantId) ?? null;
  }

  async cleanUp(ended: EndedGrant[], reason: string): Promise<void> {
    await Promise.all(
      ended.map(async (grant) => {
        this.#d.memory.forget(grant.grantId);
        this.#d.onEvent({ event: 'grant_ended', kind: grant.kind, reason });
        await Promise.all(grant.kvKeys.map((key) => this.#d.deleteRecord(key).catch(() => {})));
        const revocable = await this.#openRevocation(grant.grantId, grant.revocation);
        if (revocable !== null && revocable.accessTokenExpiresAt > this.#d.now()) {
          await this.revokeQuietly(revocable.accessToken);
        }
      }),
    );
  }






  async revocationFor(grant: Grant): Promise<string> {
    const key = await this.#d.sealer.keyFor('revocation', new TextEncoder().encode(grant.id));
    const { accessToken, accessTokenExpiresAt } = grant.tokens;
    return seal(key, `revocation:${grant.id}`, JSON.stringify({ accessToken, accessTokenExpiresAt }));
  }

  async #openRevocation(grantId: string, sealed: string): Promise<{ accessToken: string; accessTokenExpiresAt: number } | null> {
    const key = await this.#d.sealer.keyFor('revocation', new TextEncoder().encode(grantId));
    const text = await open(key, `revocation:${grantId}`, sealed);
    const value = text === null ? undefined : parseJson(text);
    if (!isObject(value) || typeof value.accessToken !== 'string' || typeof value.accessTokenExpiresAt !== 'number') return null;
    return { accessToken: value.accessToken, accessTokenExpiresAt: value.accessTokenExpiresAt };
  }

  /** Revokes an access token at Looker that nobody will hold; a failure is logged, not thrown. */
  async revokeQuietly(accessToken: string): Promise<void> {
    try {
      await revokeAccessToken(this.#d.oauth, accessToken);
    } catch (error) {
      this.#d.onEvent({ event: 'grant_ended', outcome: 'failed', reason: `revoking at Looker: ${describeFault(error)}` });
    }
  }
}

