/**
 * The gateway's side of Looker grants: creating one, confirming it is still alive,
 * keeping its access token fresh, and ending it. Shared by every kind of caller (browser
 * sessions, script credentials, gateway access tokens): they differ only in how they
 * find a grant and the key that opens it (a GrantAccess).
 *
 * - Liveness: the ledger (a Durable Object per person) decides. An isolate trusts its own
 *   memory of a grant for at most LIVENESS_TTL_MS, then asks the ledger again; a grant
 *   ended in this isolate is forgotten at once.
 * - Refresh: when under REFRESH_MARGIN_MS remain (or Looker refused the token). One
 *   refresh per grant at a time, everywhere: the ledger hands out a lease; whoever comes
 *   second adopts the result. The new grant is stored only if the grant is still alive
 *   and nobody stored a newer one, so a request in flight cannot undo a sign-out.
 * - Only an OAuth `invalid_grant` from Looker's token endpoint ends a grant. Anything else
 *   (network error, timeout, 5xx, 429, an HTML page, a body that is not JSON) is a fault:
 *   the grant survives, and the caller gets GrantUnavailableError (or the still-valid
 *   access token, when there is one).
 */
import { open, seal, type Sealer, type SealKey } from '../crypto/seal.ts';
import { revokeAccessToken, refreshAccessToken, type OAuthClient, type TokenSet } from '../looker/oauth.ts';
import { isLookerError, LookerRejectedError, LookerTimeoutError, LookerUnavailableError } from '../looker/errors.ts';
import { TtlMap } from '../util/ttl-map.ts';
import type { EndedGrant, GrantKind, GrantSummary, Ledger } from './ledger.ts';
import { type Grant, grantStorageKey, parseGrant, parseJson, isObject, serializeGrant } from './record.ts';

/** Refresh when less than this is left on the access token. */
export const REFRESH_MARGIN_MS = 60_000;
/** How long an isolate trusts its memory of a grant before asking the ledger again. */
export const LIVENESS_TTL_MS = 5_000;
/** Pauses between attempts to store a refreshed grant while the ledger does not answer. */
const STORE_RETRY_WAITS_MS = [100, 400, 1000];

/** What a caller holds to use one grant: where it lives and the key that opens it. */
export interface GrantAccess {
  readonly personKey: string;
  readonly grantId: string;
  readonly key: SealKey;
}

/** The grant is over: ended by a sign-out or revocation, expired, or refused by Looker (`invalid_grant`). */
export class GrantEndedError extends Error {
  override readonly name = 'GrantEndedError';
}

/** The grant cannot be used right now (Looker or the ledger is unavailable); it survives. */
export class GrantUnavailableError extends Error {
  override readonly name = 'GrantUnavailableError';
  /** Seconds to wait before retrying, when known. */
  readonly retryAfter: number | undefined;
  /** The Looker status behind it, when there was one. */
  readonly status: number | undefined;
  readonly timedOut: boolean;
  constructor(message: string, options: { retryAfter?: number; status?: number; timedOut?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.retryAfter = options.retryAfter;
    this.status = options.status;
    this.timedOut = options.timedOut ?? false;
  }
}

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
  kind?: GrantKind;
}

export interface KeeperDependencies {
  ledgerFor: (personKey: string) => Ledger;
  sealer: Sealer;
  oauth: OAuthClient;
  /** Deletes a KV record of a grant's holder when the grant ends. */
  deleteRecord: (key: string) => Promise<void>;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  onEvent: (event: GrantEvent) => void;
  /** The isolate's memory of grants; shared by every request of this isolate. */
  memory: GrantMemory;
  /**
   * Keeps work alive past the request that started it (the runtime's waitUntil): a
   * refresh whose caller disconnected still stores the tokens Looker already rotated.
   */
  keepAlive: (work: Promise<unknown>) => void;
}

interface Remembered {
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

export class GrantKeeper {
  readonly #d: KeeperDependencies;
  /** Refreshed grants whose write-back failed: stored again before anything else happens to them here. */
  readonly #unsaved = new Map<string, { lease: string; next: Grant; values: WriteBack }>();

  constructor(dependencies: KeeperDependencies) {
    this.#d = dependencies;
  }

  needsRefresh(grant: Grant): boolean {
    return grant.tokens.accessTokenExpiresAt - this.#d.now() < REFRESH_MARGIN_MS;
  }

  /** Seals and records a new grant (version 1) in its person's ledger. */
  async create(
    access: GrantAccess,
    init: { kind: GrantKind; label: string; tokens: TokenSet; redirectUri: string; expiresAt: number; kvKeys: string[]; clientId?: string },
  ): Promise<Grant> {
    const now = this.#d.now();
    const grant: Grant = {
      id: access.grantId,
      personKey: access.personKey,
      kind: init.kind,
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
      createdAt: now,
      // A session is used by the sign-in that made it; a credential not until a script logs in.
      lastUsedAt: init.kind === 'session' ? now : 0,
      expiresAt: grant.expiresAt,
      version: 1,
      sealed: await this.sealGrant(access.key, grant),
      revocation: await this.#revocationFor(grant),
      kvKeys: init.kvKeys,
      ...(init.clientId === undefined ? {} : { clientId: init.clientId }),
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
    await this.#storeUnsaved(access);
    return this.#check(access, remembered?.grant, options.touch);
  }

  async #check(access: GrantAccess, known: Grant | undefined, touch: boolean): Promise<Grant | null> {
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
   * The grant with an access token good for at least REFRESH_MARGIN_MS, refreshing if
   * needed (or always, with `force`: Looker refused the token although it should be valid).
   */
  async ensureFresh(access: GrantAccess, grant: Grant, options: { force?: boolean } = {}): Promise<FreshGrant> {
    if (!options.force && !this.needsRefresh(grant)) return { grant, refreshed: false };
    if (this.#d.memory.isEnded(grant.id)) throw new GrantEndedError('This session has ended');
    // Another request of this isolate may have refreshed meanwhile.
    const latest = this.#d.memory.get(grant.id)?.grant;
    if (latest !== undefined && latest.version > grant.version && !this.needsRefresh(latest)) return { grant: latest, refreshed: true };
    await this.#storeUnsaved(access);
    // Concurrent requests each ask the ledger, which lets one refresh and hands the others
    // its result; none awaits another request's promise. The refresh is kept alive past
    // this request, so tokens Looker rotated are stored even if the caller goes away.
    const refresh = this.#refresh(access, grant, options.force === true);
    this.#d.keepAlive(refresh.catch(() => {}));
    return refresh;
  }

  /** A refreshed grant this isolate could not store earlier: store it now (the ledger accepts it once; a repeat is harmless). */
  async #storeUnsaved(access: GrantAccess): Promise<void> {
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
    await this.#cleanUp(ended, reason);
    return ended;
  }

  /** Everything alive that acts as this person (for "Your access"). */
  list(personKey: string): Promise<GrantSummary[]> {
    return this.#d.ledgerFor(personKey).list(this.#d.now());
  }

  async describe(personKey: string, grantId: string): Promise<GrantSummary | null> {
    return (await this.list(personKey)).find((g) => g.grantId === grantId) ?? null;
  }

  async #cleanUp(ended: EndedGrant[], reason: string): Promise<void> {
    await Promise.all(
      ended.map(async (grant) => {
        this.#d.memory.forget(grant.grantId);
        this.#d.onEvent({ event: 'grant_ended', kind: grant.kind, reason });
        await Promise.all(grant.kvKeys.map((key) => this.#d.deleteRecord(key).catch(() => {})));
        const revocable = await this.#openRevocation(grant.grantId, grant.revocation);
        if (revocable !== null && revocable.accessTokenExpiresAt > this.#d.now()) {
          await this.#revokeQuietly(revocable.accessToken);
        }
      }),
    );
  }

  async #refresh(access: GrantAccess, grant: Grant, force: boolean): Promise<FreshGrant> {
    const { oauth, now } = this.#d;
    const ledger = this.#d.ledgerFor(access.personKey);
    const stillValid = !force && grant.tokens.accessTokenExpiresAt > now();
    const refreshToken = grant.tokens.refreshToken;
    if (refreshToken === null) {
      if (stillValid) return { grant, refreshed: false };
      await this.end(access.personKey, { grantId: grant.id }, 'no refresh token');
      throw new GrantEndedError('The Looker session expired and cannot be renewed');
    }

    let ticket;
    try {
      ticket = await ledger.beginRefresh(grant.id, grant.version, now());
    } catch (error) {
      if (stillValid) return { grant, refreshed: false };
      throw new GrantUnavailableError('The gateway could not coordinate the token refresh right now', { retryAfter: 1, cause: error });
    }
    if ('ended' in ticket) {
      this.#d.memory.forget(grant.id);
      throw new GrantEndedError('This session has ended');
    }
    if ('current' in ticket) return this.#adopt(access, ticket.current);

    let tokens: TokenSet;
    try {
      tokens = await refreshAccessToken(oauth, { refreshToken, redirectUri: grant.redirectUri });
    } catch (error) {
      if (error instanceof LookerRejectedError && error.code === 'invalid_grant') {
        return this.#refused(access, grant, ledger);
      }
      await ledger.releaseRefresh(grant.id, ticket.lease).catch(() => {});
      this.#d.onEvent({ event: 'token_refresh', outcome: 'failed', reason: describeFault(error) });
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
      this.#d.onEvent({ event: 'token_refresh', outcome: 'refreshed' });
      return { grant: next, refreshed: true };
    }
    // Nobody will use the tokens we just got: end them at Looker.
    await this.#revokeQuietly(next.tokens.accessToken);
    if (stored === 'superseded') {
      const latest = await this.#check(access, grant, false);
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
    this.#d.onEvent({ event: 'token_refresh', outcome: 'failed', reason: 'could not store the refreshed grant yet; kept in this isolate' });
    return 'unreachable';
  }

  async #writeBack(access: GrantAccess, next: Grant): Promise<WriteBack> {
    return {
      version: next.version,
      sealed: await this.sealGrant(access.key, next),
      revocation: await this.#revocationFor(next),
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
    if (outcome.ended !== null) await this.#cleanUp([outcome.ended], 'refresh refused');
    this.#d.memory.forget(grant.id);
    this.#d.onEvent({ event: 'token_refresh', outcome: 'ended', reason: 'invalid_grant' });
    throw new GrantEndedError('Looker no longer accepts this session; sign in again');
  }

  async #adopt(access: GrantAccess, current: { version: number; sealed: string }): Promise<FreshGrant> {
    const adopted = await this.openGrant(access, current.version, current.sealed);
    if (adopted === null) throw new GrantUnavailableError('The stored grant does not open with this key');
    this.#d.memory.set(adopted, this.#d.now());
    this.#d.onEvent({ event: 'token_refresh', outcome: 'adopted', reason: 'refreshed elsewhere' });
    return { grant: adopted, refreshed: true };
  }

  async #revocationFor(grant: Grant): Promise<string> {
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
  revokeQuietly(accessToken: string): Promise<void> {
    return this.#revokeQuietly(accessToken);
  }

  async #revokeQuietly(accessToken: string): Promise<void> {
    try {
      await revokeAccessToken(this.#d.oauth, accessToken);
    } catch (error) {
      this.#d.onEvent({ event: 'grant_ended', outcome: 'failed', reason: `revoking at Looker: ${describeFault(error)}` });
    }
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

function describeFault(error: unknown): string {
  if (error instanceof LookerRejectedError) return `status ${error.status}${error.code === undefined ? '' : ` ${error.code}`}`;
  if (error instanceof LookerUnavailableError) return error.status === undefined ? 'unreachable' : `status ${error.status}`;
  return error instanceof Error ? error.name : 'unknown';
}
