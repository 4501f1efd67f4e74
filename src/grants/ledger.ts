/**
 * The ledger: the strongly consistent record of one person's grants — which are alive,
 * the latest sealed copy of each, who may refresh one right now — and of the short-lived
 * things that belong to them (gateway access tokens, credentials waiting for consent or
 * for the command line to collect them). In production it is a Durable Object per person
 * (src/platform/cloudflare/account-object.ts); this interface is what the rest of the gateway sees.
 *
 * Liveness is decided here and nowhere else: a grant that the ledger does not hold is
 * over, whatever a cache or KV still says. Every write-back of a grant after a refresh is
 * conditional on the grant being alive at that moment, so a request in flight cannot bring
 * back what a sign-out ended.
 *
 * Values are opaque to the ledger: grants arrive sealed under their holder's key, so the
 * ledger's storage alone opens nothing. Times are passed in by the caller (the gateway's
 * clock), so expiry is judged by one clock.
 */
import type { LookerUser } from '../looker/api.ts';
import type { GrantScope } from './scope.ts';

export type GrantKind = 'session' | 'credential' | 'agent';

/**
 * The rules every ledger keeps alike (the Durable Object, Deno KV, in memory), held to them by
 * test/contract/ledger-contract.ts.
 */
/** How long a refresher may hold a grant's lease: longer than a refresh can take (Looker's 15 s to start and 15 s to finish, storing retries under 2 s). */
export const LEASE_MS = 60_000;
/** Live gateway tokens per grant: a new one beyond this ends the grant's oldest (each SDK process holds one for an hour). */
export const MAX_TOKENS_PER_GRANT = 50;
/** "Last used" is coarse: recorded at most this often per grant. */
const TOUCH_INTERVAL_MS = 60_000;

/** Whether a use of the grant at `now` is recorded: the first always, later ones at most once a minute. */
export function dueForTouch(entry: Pick<GrantEntry, 'lastUsedAt'>, now: number): boolean {
  return entry.lastUsedAt === 0 || now - entry.lastUsedAt >= TOUCH_INTERVAL_MS;
}

/** Of one grant's live tokens, the ones a new token ends (its oldest beyond the cap, by when they were minted). */
export function tokensBeyondCap<T extends { issuedAt?: number; expiresAt: number }>(live: readonly [string, T][]): string[] {
  const age = (t: T) => t.issuedAt ?? t.expiresAt;
  const oldestFirst = [...live].sort((a, b) => age(a[1]) - age(b[1]));
  return oldestFirst.slice(0, Math.max(0, oldestFirst.length - (MAX_TOKENS_PER_GRANT - 1))).map(([id]) => id);
}

/** The grants alive at `now`, as "Your access" lists them: oldest first, without their sealed values. */
export function listed(entries: Iterable<GrantEntry>, now: number): GrantSummary[] {
  return [...entries]
    .filter((e) => e.expiresAt > now)
    .sort((a, b) => a.createdAt - b.createdAt)
    .map(({ grantId, kind, label, scope, createdAt, lastUsedAt, expiresAt, clientId, redirectHost }) => ({
      grantId,
      kind,
      label,
      scope: scopeOfEntry({ scope }),
      createdAt,
      lastUsedAt,
      expiresAt,
      ...(clientId === undefined ? {} : { clientId }),
      ...(redirectHost === undefined ? {} : { redirectHost }),
    }));
}

/**
 * What a rotation of an agent's refresh token does, decided alike by every ledger: `rotate`
 * (the presented token is the grant's current one: it is spent, the next pair stored),
 * `replayed` (it was spent already: someone holds a copy, so the whole grant ends), or
 * `refused` (unknown, expired, or its grant is over).
 */
export function rotationVerdict(presented: RefreshEntry | null, grant: GrantEntry | null, now: number): 'rotate' | 'replayed' | 'refused' {
  if (presented === null || presented.expiresAt <= now) return 'refused';
  if (presented.spent === true) return 'replayed';
  return grant === null || grant.expiresAt <= now ? 'refused' : 'rotate';
}

/** A live token's answer: the token's payload, and the grant's sealed tokens if the caller's copy is older than `knownVersion`. */
export function liveToken(token: TokenEntry, grant: GrantEntry, knownVersion: number): TokenCheck {
  return {
    alive: true,
    grantId: token.grantId,
    expiresAt: Math.min(token.expiresAt, grant.expiresAt),
    payload: token.sealed,
    version: grant.version,
    sealed: grant.version > knownVersion ? grant.sealed : null,
  };
}

/** What ending a grant leaves the gateway to clean up. */
export function endedOf({ grantId, kind, kvKeys, revocation, clientId }: GrantEntry): EndedGrant {
  return { grantId, kind, kvKeys, revocation, ...(clientId === undefined ? {} : { clientId }) };
}

/** What a grant may do at Looker: its recorded scope; a grant stored before grants had one may do everything (it was made so). */
export function scopeOfEntry(entry: Pick<GrantEntry, 'scope'>): GrantScope {
  return entry.scope ?? 'write';
}

/** A grant as the ledger keeps it. */
export interface GrantEntry {
  grantId: string;
  kind: GrantKind;
  /** What the person sees in "Your access": the browser for a session, the name for a credential. */
  label: string;
  /**
   * What the grant may do at Looker (src/grants/scope.ts): 'read' or 'write'. Every grant
   * created since scopes exist records one; one stored before has none and is 'write'
   * (scopeOfEntry). The grant's sealed copy holds the same scope, which is what /api/* enforces.
   */
  scope?: GrantScope;
  createdAt: number;
  /** Epoch milliseconds; 0 for a credential no script has used yet. */
  lastUsedAt: number;
  expiresAt: number;
  version: number;
  /** The grant sealed under its holder's key (bound to id and version). */
  sealed: string;
  /** The current access token sealed under a key derived from SESSION_SECRET alone, so any sign-out can revoke it at Looker. */
  revocation: string;
  /** KV keys to delete when the grant ends (the holder's records). */
  kvKeys: string[];
  /** For credentials: the public client_id; for agents: the OAuth client_id (an id or a metadata document's URL). */
  clientId?: string;
  /** For agents: the host the authorization sent the person back to (shown on "Your access"). */
  redirectHost?: string;
}

/** What the person's page lists: everything but the sealed values, with the scope always told. */
export type GrantSummary = Omit<GrantEntry, 'sealed' | 'revocation' | 'kvKeys' | 'version' | 'scope'> & { scope: GrantScope };

/** Liveness, and the latest sealed grant when the caller's copy is older. */
export type GrantCheck = { alive: false } | { alive: true; version: number; sealed: string | null };

/** A refresh may start (`lease`), is moot (`current`: someone already refreshed past the caller's version), or the grant is over. */
/** `busy`: another refresher holds the lease, and the caller asked not to wait (its access token is still good). */
export type RefreshTicket = { ended: true } | { current: { version: number; sealed: string } } | { lease: string } | { busy: true };

export type RefreshOutcome = 'stored' | 'ended' | 'superseded';

/** What ending a grant leaves for the gateway to clean up: its KV records and the access token to revoke at Looker. */
export interface EndedGrant {
  grantId: string;
  kind: GrantKind;
  kvKeys: string[];
  revocation: string;
  /** For credentials: the public client_id (for the log). */
  clientId?: string;
}

export interface TokenEntry {
  grantId: string;
  /** When it was minted (the cap ends the oldest first); absent in entries from before it was kept. */
  issuedAt?: number;
  expiresAt: number;
  /** The credential's grant key and description, sealed under the access token's own key. */
  sealed: string;
}

/**
 * An agent's refresh token, kept by its hash: its grant, and the grant's key sealed under
 * the token itself. Spent once used; a spent one presented again ends its grant.
 */
export interface RefreshEntry {
  grantId: string;
  issuedAt: number;
  expiresAt: number;
  sealed: string;
  spent?: true;
}

/** The tokens an agent gets at once (from its code, or for a refresh token): the next refresh token and an access token. */
export interface TokenPair {
  refreshId: string;
  refresh: RefreshEntry;
  tokenId: string;
  token: TokenEntry;
}

/** Tokens issued (with the grant's sealed copy, as a mint answers), or not: `ended` names the grant a replay ended. */
export type PairOutcome = { ok: true; version: number; sealed: string } | { ok: false; ended: EndedGrant | null };

export type TokenCheck =
  | { alive: false }
  | { alive: true; grantId: string; expiresAt: number; payload: string; version: number; sealed: string | null };

/**
 * A credential on its way, between Looker's sign-in and the credential: its new grant
 * sealed under a key from SESSION_SECRET and `salt` (the ledger alone opens nothing), with
 * what the step that takes it must check.
 */
export interface PendingBox {
  salt: string;
  sealed: string;
  /** The credential's name and its person, as the consent page shows them. */
  name: string;
  user: LookerUser;
  /** What the credential will be allowed to do; absent in a box from before scopes: 'write'. */
  scope?: GrantScope;
  /** Waiting for consent: the hash of the consent cookie's secret, and where the credential goes (sealed likewise). */
  consentHash?: string;
  flow?: { salt: string; sealed: string };
  /** A loopback code: the redirect_uri and PKCE challenge its redemption must match. */
  redirectUri?: string;
  codeChallenge?: string;
}

export interface Ledger {
  createGrant(entry: GrantEntry): Promise<void>;
  /** Liveness of a grant (`touch` records use, coarsely, for "last seen"). */
  check(grantId: string, knownVersion: number, now: number, touch: boolean): Promise<GrantCheck>;
  /**
   * The lease to refresh the grant, or the version someone stored meanwhile. While another
   * refresher holds the lease, waits for it to end, unless `wait` is false: then `busy` at
   * once (a caller whose access token is still good serves with it rather than wait on a
   * refresher that may have died).
   */
  beginRefresh(grantId: string, knownVersion: number, now: number, options?: { wait?: boolean }): Promise<RefreshTicket>;
  /** Stores a refreshed grant if, and only if, it is still alive and nobody stored a newer one. */
  completeRefresh(
    grantId: string,
    lease: string,
    next: { version: number; sealed: string; revocation: string; expiresAt: number },
    now: number,
  ): Promise<RefreshOutcome>;
  releaseRefresh(grantId: string, lease: string): Promise<void>;
  /**
   * Ends a grant whose refresh Looker refused — unless someone stored a newer version
   * meanwhile (then the refusal was for a spent token: adopt `current` instead).
   */
  endUnlessNewer(grantId: string, version: number): Promise<{ ended: EndedGrant | null } | { current: { version: number; sealed: string } }>;
  /** Ends one grant, or all of the person's. Returns what was alive. */
  end(which: { grantId: string } | { all: true }): Promise<EndedGrant[]>;
  list(now: number): Promise<GrantSummary[]>;

  mintToken(tokenId: string, token: TokenEntry, now: number): Promise<{ ok: true; version: number; sealed: string } | { ok: false }>;
  checkToken(tokenId: string, knownVersion: number, now: number): Promise<TokenCheck>;
  endToken(tokenId: string): Promise<boolean>;

  /** An agent grant's first tokens (its code was just redeemed); not ok when the grant is not alive. */
  issuePair(pair: TokenPair, now: number): Promise<PairOutcome>;
  /** The refresh token stored under this hash, spent or not; null when unknown or expired. */
  getRefresh(refreshId: string, now: number): Promise<RefreshEntry | null>;
  /**
   * One atomic step: if `presentedId` is the grant's live, unspent refresh token, it is spent
   * and `next` stored; if it was spent already, the grant ends (its tokens with it) and the
   * answer names it; otherwise nothing changes.
   */
  rotateRefresh(presentedId: string, next: TokenPair, now: number): Promise<PairOutcome>;

  /** Single-use boxes for credentials on their way (waiting for consent, a loopback code, an allowed device). */
  putBox(key: string, box: PendingBox, expiresAt: number): Promise<void>;
  getBox(key: string, now: number): Promise<PendingBox | null>;
  takeBox(key: string, now: number): Promise<PendingBox | null>;
  /** Takes (single use) every live box whose key starts with one of `prefixes`. */
  takeBoxes(prefixes: string[], now: number): Promise<PendingBox[]>;
}
