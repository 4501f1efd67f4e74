/**
 * The refresh protocol: one refresh per grant at a time, everywhere. The ledger hands out a
 * lease; whoever comes second adopts the result. A refreshed grant is stored only at the
 * next version and only while the grant is alive, so a request in flight cannot undo a
 * sign-out; tokens nobody will hold are revoked. Only an OAuth `invalid_grant` from
 * Looker ends a grant; every other fault leaves it alive (GrantUnavailableError, or the
 * still-valid access token). A refreshed grant the ledger cannot store yet is served,
 * kept in this isolate, and stored first thing next time.
 */
import type { SealKey } from '../crypto/seal.ts';
import { isLookerError, LookerRejectedError, LookerTimeoutError, LookerUnavailableError } from '../looker/errors.ts';
import { refreshAccessToken, type OAuthClient, type TokenSet } from '../looker/oauth.ts';
import { GrantEndedError, GrantUnavailableError, type GrantAccess } from './access.ts';
import type { EndedGrant, GrantKind, Ledger } from './ledger.ts';
import type { GrantMemory } from './memory.ts';
import type { Grant } from './record.ts';

/** Pauses between attempts to store a refreshed grant while the ledger does not answer. */
const STORE_RETRY_WAITS_MS = [100, 400, 1000];

/** A refreshed grant as the ledger stores it (sealed once: a repeated store sends the very same values). */
interface WriteBack {
  version: number;
  sealed: string;
  revocation: string;
  expiresAt: number;
}

export interface FreshGrant {
  grant: Grant;
  refreshed: boolean;
}

export interface GrantEvent {
  event: 'token_refresh' | 'grant_ended';
  outcome?: 'refreshed' | 'adopted' | 'failed' | 'ended';
  reason?: string;
  /** Which grant (its id names it in its person's ledger, and opens nothing). */
  grantId?: string;
  kind?: GrantKind;
}

/** What the refresh protocol needs from the grant's keeper: sealing, liveness and ending. */
export interface GrantLifecycle {
  needsRefresh(grant: Grant): boolean;
  sealGrant(key: SealKey, grant: Grant): Promise<string>;
  openGrant(access: GrantAccess, version: number, sealed: string): Promise<Grant | null>;
  revocationFor(grant: Grant): Promise<string>;
  checkWithLedger(access: GrantAccess, known: Grant | undefined, touch: boolean): Promise<Grant | null>;
  end(personKey: string, which: { grantId: string }, reason: string): Promise<EndedGrant[]>;
  cleanUp(ended: EndedGrant[], reason: string): Promise<void>;
  revokeQuietly(accessToken: string): Promise<void>;
}

export interface RefreshDependencies {
  ledgerFor: (personKey: string) => Ledger;
  oauth: OAuthClient;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  onEvent: (event: GrantEvent) => void;
  memory: GrantMemory;
  /**
   * Keeps work alive past the request that started it (the runtime's waitUntil): a
   * refresh whose caller disconnected still stores the tokens Looker already rotated.
   */
  keepAlive: (work: Promise<unknown>) => void;
}

export class Refresher {
  readonly #d: RefreshDependencies;
  readonly #grants: GrantLifecycle;
  /** Refreshed grants whose write-back failed: stored again before anything else happens to them here. */
  readonly #unsaved = new Map<string, { lease: string; next: Grant; values: WriteBack }>();

  constructor(dependencies: RefreshDependencies, grants: GrantLifecycle) {
    this.#d = dependencies;
    this.#grants = grants;
  }

  /**
   * The grant with an access token good for at least REFRESH_MARGIN_MS, refreshing if
   * needed (or always, with `force`: Looker refused the token although it should be valid).
   */
  async ensureFresh(access: GrantAccess, grant: Grant, options: { force?: boolean } = {}): Promise<FreshGrant> {
    if (!options.force && !this.#grants.needsRefresh(grant)) return { grant, refreshed: false };
    if (this.#d.memory.isEnded(grant.id)) throw new GrantEndedError('This session has ended');
    // Another request of this isolate may have refreshed meanwhile.
    const latest = this.#d.memory.get(grant.id)?.grant;
    if (latest !== undefined && latest.version > grant.version && !this.#grants.needsRefresh(latest)) return { grant: latest, refreshed: true };
    await this.storeUnsaved(access);
    // Concurrent requests each ask the ledger, which lets one refresh and hands the others
    // its result; none awaits another request's promise. The refresh is kept alive past
    // this request, so tokens Looker rotated are stored even if the caller goes away.
    const refresh = this.#refresh(access, grant, options.force === true);
    this.#d.keepAlive(refresh.catch(() => {}));
    return refresh;
  }

  /** A refreshed grant this isolate could not store earlier: store it now (the ledger accepts it once; a repeat is harmless). */
  async storeUnsaved(access: GrantAccess): Promise<void> {
    const unsaved = this.#unsaved.get(access.grantId);
    if (unsaved === undefined) return;
    try {
      const outcome = await this.#d.ledgerFor(access.personKey).completeRefresh(access.grantId, unsaved.lease, unsaved.values, this.#d.now());
      this.#unsaved.delete(access.grantId);
      if (outcome === 'stored') this.#d.memory.set(unsaved.next, this.#d.now());
    } catch {
      // Still unreachable: the caller's own ledger call will say so.
    }
  }

  async #refresh(access: GrantAccess, grant: Grant, force: boolean): Promise<FreshGrant> {
    const { oauth, now } = this.#d;
    const ledger = this.#d.ledgerFor(access.personKey);
    const stillValid = !force && grant.tokens.accessTokenExpiresAt > now();
    const refreshToken = grant.tokens.refreshToken;
    if (refreshToken === null) {
      if (stillValid) return { grant, refreshed: false };
      await this.#grants.end(access.personKey, { grantId: grant.id }, 'no refresh token');
      throw new GrantEndedError('The Looker session expired and cannot be renewed');
    }

    let ticket;
    try {
      // With an access token still good, serve with it rather than wait on another refresher
      // (which may have died holding the lease: a wait would last the lease's 60 s).
      ticket = await ledger.beginRefresh(grant.id, grant.version, now(), { wait: !stillValid });
    } catch (error) {
      if (stillValid) return { grant, refreshed: false };
      throw new GrantUnavailableError('The gateway could not coordinate the token refresh right now', { retryAfter: 1, cause: error });
    }
    if ('ended' in ticket) {
      this.#d.memory.forget(grant.id);
      throw new GrantEndedError('This session has ended');
    }
    if ('current' in ticket) return this.#adopt(access, ticket.current);
    if ('busy' in ticket) return { grant, refreshed: false };

    let tokens: TokenSet;
    try {
      tokens = await refreshAccessToken(oauth, { refreshToken, redirectUri: grant.redirectUri });
    } catch (error) {
      if (error instanceof LookerRejectedError && error.code === 'invalid_grant') {
        return this.#refused(access, grant, ledger);
      }
      await ledger.releaseRefresh(grant.id, ticket.lease).catch(() => {});
      this.#d.onEvent({ event: 'token_refresh', outcome: 'failed', reason: describeFault(error), grantId: access.grantId });
      if (stillValid) return { grant, refreshed: false };
      throw unavailable(error);
    }

    const refreshedAt = now();
    const next: Grant = {
      ...grant,
      version: grant.version + 1,
      tokens: {
        accessToken: tokens.accessToken,
        accessTokenExpiresAt: refreshedAt + tokens.expiresIn * 1000,
        refreshToken: tokens.refreshToken ?? refreshToken,
      },
    };
    const values = await this.#writeBack(access, next);
    const stored = await this.#store(ledger, ticket.lease, next.id, values);
    if (stored === 'unreachable') {
      // Looker has rotated: these are the only good tokens. Serve this request with them,
      // keep them here, and store them first thing next time (the lease stays held meanwhile).
      this.#unsaved.set(next.id, { lease: ticket.lease, next, values });
      this.#d.memory.set(next, now());
      return { grant: next, refreshed: true };
    }
    if (stored === 'stored') {
      this.#d.memory.set(next, now());
      this.#d.onEvent({ event: 'token_refresh', outcome: 'refreshed', grantId: access.grantId });
      return { grant: next, refreshed: true };
    }
    // Nobody will use the tokens we just got: end them at Looker.
    await this.#grants.revokeQuietly(next.tokens.accessToken);
    if (stored === 'superseded') {
      const latest = await this.#grants.checkWithLedger(access, grant, false);
      if (latest !== null) return { grant: latest, refreshed: true };
    }
    this.#d.memory.forget(grant.id);
    throw new GrantEndedError('This session has ended');
  }

  /**
   * Stores a refreshed grant, retrying while the ledger does not answer (the ledger
   * accepts the same version twice as one, so a call that landed but whose answer was
   * lost is safe to repeat). 'unreachable' when it never answered.
   */
  async #store(ledger: Ledger, lease: string, grantId: string, values: WriteBack): Promise<'stored' | 'ended' | 'superseded' | 'unreachable'> {
    for (const waitMs of [0, ...STORE_RETRY_WAITS_MS]) {
      if (waitMs > 0) await this.#d.sleep(waitMs);
      try {
        return await ledger.completeRefresh(grantId, lease, values, this.#d.now());
      } catch {
        // Not answered: try again.
      }
    }
    this.#d.onEvent({ event: 'token_refresh', outcome: 'failed', reason: 'could not store the refreshed grant yet; kept in this isolate', grantId });
    return 'unreachable';
  }

  async #writeBack(access: GrantAccess, next: Grant): Promise<WriteBack> {
    return {
      version: next.version,
      sealed: await this.#grants.sealGrant(access.key, next),
      revocation: await this.#grants.revocationFor(next),
      expiresAt: next.expiresAt,
    };
  }

  /** Looker said `invalid_grant`: the grant is over, unless someone else refreshed it first. */
  async #refused(access: GrantAccess, grant: Grant, ledger: Ledger): Promise<FreshGrant> {
    let outcome;
    try {
      outcome = await ledger.endUnlessNewer(grant.id, grant.version);
    } catch (error) {
      throw new GrantUnavailableError('The gateway could not record the end of the session', { retryAfter: 1, cause: error });
    }
    if ('current' in outcome) return this.#adopt(access, outcome.current);
    if (outcome.ended !== null) await this.#grants.cleanUp([outcome.ended], 'refresh refused');
    this.#d.memory.forget(grant.id);
    this.#d.onEvent({ event: 'token_refresh', outcome: 'ended', reason: 'invalid_grant', grantId: access.grantId });
    throw new GrantEndedError('Looker no longer accepts this session; sign in again');
  }

  async #adopt(access: GrantAccess, current: { version: number; sealed: string }): Promise<FreshGrant> {
    const adopted = await this.#grants.openGrant(access, current.version, current.sealed);
    if (adopted === null) throw new GrantUnavailableError('The stored grant does not open with this key');
    this.#d.memory.set(adopted, this.#d.now());
    this.#d.onEvent({ event: 'token_refresh', outcome: 'adopted', reason: 'refreshed elsewhere', grantId: access.grantId });
    return { grant: adopted, refreshed: true };
  }
}

/** A fault talking to Looker's token endpoint, as what the caller gets: the grant survives. */
function unavailable(error: unknown): GrantUnavailableError {
  if (error instanceof LookerUnavailableError) {
    return new GrantUnavailableError('Looker could not renew the access token right now', {
      ...(error.retryAfter === undefined ? {} : { retryAfter: error.retryAfter }),
      ...(error.status === undefined ? {} : { status: error.status }),
      cause: error,
    });
  }
  if (error instanceof LookerTimeoutError) {
    return new GrantUnavailableError('Looker did not answer in time while renewing the access token', { timedOut: true, cause: error });
  }
  if (isLookerError(error)) {
    const status = 'status' in error ? error.status : undefined;
    return new GrantUnavailableError('Looker answered the token renewal unexpectedly', { ...(status === undefined ? {} : { status }), cause: error });
  }
  return new GrantUnavailableError('The access token could not be renewed', { cause: error });
}

/** A fault at Looker, for a log line (never a token or a body). */
export function describeFault(error: unknown): string {
  if (error instanceof LookerRejectedError) return `status ${error.status}${error.code === undefined ? '' : ` ${error.code}`}`;
  if (error instanceof LookerUnavailableError) return error.status === undefined ? 'unreachable' : `status ${error.status}`;
  return error instanceof Error ? error.name : 'unknown';
}
