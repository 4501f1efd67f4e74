/**
 * One person's ledger (src/grants/ledger.ts) in Deno KV, with the Durable Object's
 * guarantees (src/platform/cloudflare/account-object.ts) kept by optimistic transactions
 * instead of a single thread:
 *
 * - A grant is alive only while its record says so: a missing record is an ended grant,
 *   and the expiry is checked inside the value (`expireIn` only collects garbage).
 * - Every write that depends on what was read (minting, refreshing, touching, ending)
 *   commits with checks on the versionstamps it read; if anything changed meanwhile the
 *   commit fails, and the call reads again and decides again. So a refresh racing a
 *   sign-out either stores before the sign-out (which then ends the refreshed grant) or
 *   finds the grant gone ('ended'): never after.
 * - Ending grants is one atomic commit (up to END_BATCH grants: a person with more is
 *   ended in several, each atomic), answered only after it committed.
 * - Refresh leases are records {holder, expiresAt} taken with a versionstamp check. A
 *   waiter watches the grant and the lease (Deno KV's watch) and looks again when either
 *   changes, at least every second, until the lease is released or expires (the Durable
 *   Object wakes its waiters in memory; the outcomes are the same). completeRefresh reads the lease again
 *   and commits with a check on it (a fence: a lease taken or released meanwhile makes it
 *   read again) and releases it in the same commit. What may be stored is decided by the
 *   grant's version, exactly as in the Durable Object: only the next version, or the very
 *   same values again. A refresher whose lease expired may still store the next version
 *   when nobody else has (its tokens may be the only ones Looker still honours).
 * - No record grows with use: each token, box and lease is its own key; a grant's tokens
 *   are found through an index keyed by grant and token.
 */
import type {
  EndedGrant,
  GrantCheck,
  GrantEntry,
  GrantSummary,
  Ledger,
  PairOutcome,
  PendingBox,
  RefreshEntry,
  RefreshOutcome,
  RefreshTicket,
  TokenCheck,
  TokenEntry,
  TokenPair,
} from '../../grants/ledger.ts';
import { dueForTouch, endedOf, LEASE_MS, liveToken, listed, rotationVerdict, tokensBeyondCap } from '../../grants/ledger.ts';
import { conflictPause, gcAfter, GC_MARGIN_MS, isLockedByAnotherProcess, MAX_CHECKS, optimistic } from './kv.ts';

/** While another refresher holds the lease, a waiter watches the grant and its lease (Deno KV's watch) and looks again at least this often. */
const LEASE_POLL_MS = 1000;
/** Grants ended per atomic commit: one check and two deletes each, within Deno KV's 100 checks. */
const END_BATCH = 90;
/** Expired tokens of a grant dropped per mint (the rest next time, or by Deno KV's expiry): a commit holds at most 80 KiB of keys. */
const EXPIRED_PER_MINT = 50;

interface LeaseRecord {
  holder: string;
  expiresAt: number;
}

interface BoxRecord {
  value: PendingBox;
  expiresAt: number;
}

interface TokenIndex {
  issuedAt: number;
  expiresAt: number;
}

export interface DenoLedgerOptions {
  /** Prefix of every key (tests keep theirs apart with it). */
  prefix?: Deno.KvKey;
  /** The clock leases are judged by (the Durable Object uses Date.now as well). */
  clock?: () => number;
  /** How a waiter waits, besides watching, before looking at a held lease again (at most a second). */
  sleep?: (ms: number) => Promise<void>;
}

export class DenoKvLedger implements Ledger {
  readonly #kv: Deno.Kv;
  readonly #base: Deno.KvKey;
  readonly #clock: () => number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(kv: Deno.Kv, name: string, options: DenoLedgerOptions = {}) {
    this.#kv = kv;
    this.#base = [...(options.prefix ?? []), 'ledger', name];
    this.#clock = options.clock ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  #grantKey = (grantId: string): Deno.KvKey => [...this.#base, 'grant', grantId];
  #leaseKey = (grantId: string): Deno.KvKey => [...this.#base, 'lease', grantId];
  #tokenKey = (tokenId: string): Deno.KvKey => [...this.#base, 'token', tokenId];
  #tokenIndexKey = (grantId: string, tokenId: string): Deno.KvKey => [...this.#base, 'grant-token', grantId, tokenId];
  /** Changed by every mint: two mints for one grant cannot both count the same tokens. */
  #tokenGuardKey = (grantId: string): Deno.KvKey => [...this.#base, 'grant-tokens', grantId];
  #boxKey = (key: string): Deno.KvKey => [...this.#base, 'box', key];
  #refreshKey = (refreshId: string): Deno.KvKey => [...this.#base, 'refresh', refreshId];
  #refreshIndexKey = (grantId: string, refreshId: string): Deno.KvKey => [...this.#base, 'grant-refresh', grantId, refreshId];
  /** Changed by every new grant: ending all of them cannot miss one created meanwhile. */
  get #grantsGuardKey(): Deno.KvKey {
    return [...this.#base, 'grants'];
  }

  async createGrant(entry: GrantEntry): Promise<void> {
    await this.#kv
      .atomic()
      .set(this.#grantKey(entry.grantId), entry, { expireIn: gcAfter(entry.expiresAt, entry.createdAt) })
      .sum(this.#grantsGuardKey, 1n)
      .commit();
  }

  check(grantId: string, knownVersion: number, now: number, touch: boolean): Promise<GrantCheck> {
    return optimistic<GrantCheck>('check', async () => {
      const read = await this.#kv.get<GrantEntry>(this.#grantKey(grantId));
      const entry = alive(read.value, now);
      if (entry === null) return { done: { alive: false } };
      if (touch && !(await this.#touch(read, entry, now))) return null;
      return { done: { alive: true, version: entry.version, sealed: entry.version > knownVersion ? entry.sealed : null } };
    });
  }

  async beginRefresh(grantId: string, knownVersion: number, now: number, options: { wait?: boolean } = {}): Promise<RefreshTicket> {
    let conflicts = 0;
    for (;;) {
      const [grant, lease] = await this.#kv.getMany<[GrantEntry, LeaseRecord]>([this.#grantKey(grantId), this.#leaseKey(grantId)]);
      const entry = alive(grant.value, now);
      if (entry === null) return { ended: true };
      if (entry.version > knownVersion) return { current: { version: entry.version, sealed: entry.sealed } };
      const t = this.#clock();
      if (lease.value !== null && lease.value.expiresAt > t) {
        if (options.wait === false) return { busy: true };
        // Another refresher holds it: look again as soon as the grant or the lease changes, at the latest when it expires.
        await this.#changeOrTimeout([grant, lease], Math.min(LEASE_POLL_MS, lease.value.expiresAt - t));
        continue;
      }
      const taken: LeaseRecord = { holder: crypto.randomUUID(), expiresAt: t + LEASE_MS };
      let committed: boolean;
      try {
        committed = (await this.#kv.atomic().check(grant, lease).set(this.#leaseKey(grantId), taken, { expireIn: LEASE_MS + GC_MARGIN_MS }).commit()).ok;
      } catch (error) {
        // Another process was writing the file: nothing was taken; look again.
        if (!isLockedByAnotherProcess(error)) throw error;
        committed = false;
      }
      if (committed) return { lease: taken.holder };
      await conflictPause(++conflicts);
    }
  }

  completeRefresh(
    grantId: string,
    lease: string,
    next: { version: number; sealed: string; revocation: string; expiresAt: number },
    now: number,
  ): Promise<RefreshOutcome> {
    return optimistic<RefreshOutcome>('completeRefresh', async () => {
      const [grant, held] = await this.#kv.getMany<[GrantEntry, LeaseRecord]>([this.#grantKey(grantId), this.#leaseKey(grantId)]);
      const ours = held.value?.holder === lease;
      const entry = alive(grant.value, now);
      let outcome: RefreshOutcome;
      let write = false;
      const op = this.#kv.atomic().check(grant, held);
      if (entry === null) outcome = 'ended';
      // The same values again (a retry whose first call landed but whose answer was lost): already stored.
      else if (entry.version === next.version && entry.sealed === next.sealed) outcome = 'stored';
      // Only the next version: a late or duplicate refresher cannot overwrite a newer grant.
      else if (next.version !== entry.version + 1) outcome = 'superseded';
      else {
        const stored: GrantEntry = { ...entry, version: next.version, sealed: next.sealed, revocation: next.revocation, expiresAt: next.expiresAt };
        op.set(this.#grantKey(grantId), stored, { expireIn: gcAfter(stored.expiresAt, now) });
        outcome = 'stored';
        write = true;
      }
      // The lease is released in the same commit, whatever the outcome.
      if (ours) op.delete(this.#leaseKey(grantId));
      else if (!write) return { done: outcome };
      return (await op.commit()).ok ? { done: outcome } : null;
    });
  }

  releaseRefresh(grantId: string, lease: string): Promise<void> {
    return optimistic('releaseRefresh', async () => {
      const held = await this.#kv.get<LeaseRecord>(this.#leaseKey(grantId));
      if (held.value?.holder !== lease) return { done: undefined };
      return (await this.#kv.atomic().check(held).delete(this.#leaseKey(grantId)).commit()).ok ? { done: undefined } : null;
    });
  }

  async endUnlessNewer(grantId: string, version: number): Promise<{ ended: EndedGrant | null } | { current: { version: number; sealed: string } }> {
    const outcome = await optimistic<{ ended: EndedGrant | null } | { current: { version: number; sealed: string } }>('endUnlessNewer', async () => {
      const grant = await this.#kv.get<GrantEntry>(this.#grantKey(grantId));
      if (grant.value === null) return { done: { ended: null } };
      if (grant.value.version > version) return { done: { current: { version: grant.value.version, sealed: grant.value.sealed } } };
      const ended = await this.#endCommit([grant as Deno.KvEntry<GrantEntry>], null);
      return ended === null ? null : { done: { ended: ended[0] ?? null } };
    });
    if ('ended' in outcome && outcome.ended !== null) await this.#dropTokens([outcome.ended.grantId]);
    return outcome;
  }

  async end(which: { grantId: string } | { all: true }): Promise<EndedGrant[]> {
    const ended: EndedGrant[] = [];
    if ('grantId' in which) {
      ended.push(
        ...(await optimistic('end', async () => {
          const grant = await this.#kv.get<GrantEntry>(this.#grantKey(which.grantId));
          if (grant.value === null) return { done: [] };
          const done = await this.#endCommit([grant as Deno.KvEntry<GrantEntry>], null);
          return done === null ? null : { done };
        })),
      );
    } else {
      // All of them: listed and ended in one commit, which fails (and is done again) if a grant was created,
      // refreshed or touched meanwhile. More than END_BATCH grants take several commits, each atomic.
      for (;;) {
        const batch = await optimistic('end all', async () => {
          const guard = await this.#kv.get(this.#grantsGuardKey);
          const grants: Deno.KvEntry<GrantEntry>[] = [];
          for await (const entry of this.#kv.list<GrantEntry>({ prefix: [...this.#base, 'grant'] }, { limit: END_BATCH })) grants.push(entry);
          if (grants.length === 0) return { done: [] };
          const done = await this.#endCommit(grants, guard);
          return done === null ? null : { done };
        });
        ended.push(...batch);
        if (batch.length < END_BATCH) break;
      }
    }
    await this.#dropTokens(ended.map((e) => e.grantId));
    return ended;
  }

  async list(now: number): Promise<GrantSummary[]> {
    const entries: GrantEntry[] = [];
    for await (const { value } of this.#kv.list<GrantEntry>({ prefix: [...this.#base, 'grant'] })) entries.push(value);
    return listed(entries, now);
  }

  mintToken(tokenId: string, token: TokenEntry, now: number): Promise<{ ok: true; version: number; sealed: string } | { ok: false }> {
    return optimistic<{ ok: true; version: number; sealed: string } | { ok: false }>('mintToken', async () => {
      const [grant, guard] = await this.#kv.getMany<[GrantEntry, unknown]>([this.#grantKey(token.grantId), this.#tokenGuardKey(token.grantId)]);
      const entry = alive(grant.value, now);
      if (entry === null) return { done: { ok: false } };
      const op = this.#kv.atomic().check(grant, guard);
      await this.#addToken(op, entry, tokenId, token, now);
      return (await op.commit()).ok ? { done: { ok: true, version: entry.version, sealed: entry.sealed } } : null;
    });
  }

  issuePair(pair: TokenPair, now: number): Promise<PairOutcome> {
    return optimistic<PairOutcome>('issuePair', async () => {
      const grantId = pair.refresh.grantId;
      const [grant, guard] = await this.#kv.getMany<[GrantEntry, unknown]>([this.#grantKey(grantId), this.#tokenGuardKey(grantId)]);
      const entry = alive(grant.value, now);
      if (entry === null) return { done: { ok: false, ended: null } };
      const op = this.#kv.atomic().check(grant, guard);
      await this.#addPair(op, entry, pair, now);
      return (await op.commit()).ok ? { done: { ok: true, version: entry.version, sealed: entry.sealed } } : null;
    });
  }

  async getRefresh(refreshId: string, now: number): Promise<RefreshEntry | null> {
    const entry = await this.#kv.get<RefreshEntry>(this.#refreshKey(refreshId));
    return entry.value === null || entry.value.expiresAt <= now ? null : entry.value;
  }

  async rotateRefresh(presentedId: string, next: TokenPair, now: number): Promise<PairOutcome> {
    const outcome = await optimistic<PairOutcome>('rotateRefresh', async () => {
      const presented = await this.#kv.get<RefreshEntry>(this.#refreshKey(presentedId));
      const grantId = presented.value?.grantId ?? next.refresh.grantId;
      const [grant, guard] = await this.#kv.getMany<[GrantEntry, unknown]>([this.#grantKey(grantId), this.#tokenGuardKey(grantId)]);
      const entry = alive(grant.value, now);
      switch (rotationVerdict(presented.value, entry, now)) {
        case 'refused':
          return { done: { ok: false, ended: null } };
        case 'replayed': {
          // Spent is final: only the grant's own record needs checking before it ends.
          if (grant.value === null) return { done: { ok: false, ended: null } };
          const ended = await this.#endCommit([grant as Deno.KvEntry<GrantEntry>], null);
          return ended === null ? null : { done: { ok: false, ended: ended[0] ?? null } };
        }
        case 'rotate': {
          if (presented.value!.grantId !== next.refresh.grantId) return { done: { ok: false, ended: null } };
          // The presented token, the grant and its token guard are checked: of two rotations of one token, one commits; the other reads it spent.
          const op = this.#kv
            .atomic()
            .check(presented, grant, guard)
            .set(this.#refreshKey(presentedId), { ...presented.value!, spent: true } satisfies RefreshEntry, { expireIn: gcAfter(presented.value!.expiresAt, now) });
          await this.#addPair(op, entry!, next, now);
          return (await op.commit()).ok ? { done: { ok: true, version: entry!.version, sealed: entry!.sealed } } : null;
        }
      }
    });
    if (!outcome.ok && outcome.ended !== null) await this.#dropTokens([outcome.ended.grantId]);
    return outcome;
  }

  /** Adds a refresh token and an access token for a live grant to `op`. */
  async #addPair(op: Deno.AtomicOperation, entry: GrantEntry, pair: TokenPair, now: number): Promise<void> {
    const expireIn = gcAfter(pair.refresh.expiresAt, now);
    op.set(this.#refreshKey(pair.refreshId), pair.refresh, { expireIn }).set(this.#refreshIndexKey(entry.grantId, pair.refreshId), true, { expireIn });
    await this.#addToken(op, entry, pair.tokenId, pair.token, now);
  }

  /** Adds a token for a live grant to `op` (whose commit checks the grant and its token guard): expired ones go, then the oldest beyond the cap. */
  async #addToken(op: Deno.AtomicOperation, entry: GrantEntry, tokenId: string, token: TokenEntry, now: number): Promise<void> {
    const expired: string[] = [];
    const live: [string, TokenIndex][] = [];
    for await (const { key, value } of this.#kv.list<TokenIndex>({ prefix: [...this.#base, 'grant-token', token.grantId] })) {
      const id = key[key.length - 1] as string;
      if (value.expiresAt <= now) {
        if (expired.length < EXPIRED_PER_MINT) expired.push(id);
      } else live.push([id, value]);
    }
    const over = tokensBeyondCap(live);
    for (const id of [...expired, ...over]) op.delete(this.#tokenKey(id)).delete(this.#tokenIndexKey(token.grantId, id));
    const expireIn = gcAfter(token.expiresAt, now);
    op.set(this.#tokenKey(tokenId), token, { expireIn })
      .set(this.#tokenIndexKey(token.grantId, tokenId), { issuedAt: token.issuedAt ?? token.expiresAt, expiresAt: token.expiresAt } satisfies TokenIndex, { expireIn })
      .sum(this.#tokenGuardKey(token.grantId), 1n);
    if (dueForTouch(entry, now)) op.set(this.#grantKey(entry.grantId), { ...entry, lastUsedAt: now }, { expireIn: gcAfter(entry.expiresAt, now) });
  }

  checkToken(tokenId: string, knownVersion: number, now: number): Promise<TokenCheck> {
    return optimistic<TokenCheck>('checkToken', async () => {
      const token = await this.#kv.get<TokenEntry>(this.#tokenKey(tokenId));
      if (token.value === null || token.value.expiresAt <= now) return { done: { alive: false } };
      const grant = await this.#kv.get<GrantEntry>(this.#grantKey(token.value.grantId));
      const entry = alive(grant.value, now);
      if (entry === null) return { done: { alive: false } };
      if (!(await this.#touch(grant, entry, now))) return null;
      return { done: liveToken(token.value, entry, knownVersion) };
    });
  }

  endToken(tokenId: string): Promise<boolean> {
    return optimistic('endToken', async () => {
      const token = await this.#kv.get<TokenEntry>(this.#tokenKey(tokenId));
      if (token.value === null) return { done: false };
      const committed = await this.#kv
        .atomic()
        .check(token)
        .delete(this.#tokenKey(tokenId))
        .delete(this.#tokenIndexKey(token.value.grantId, tokenId))
        .commit();
      return committed.ok ? { done: true } : null;
    });
  }

  async putBox(key: string, box: PendingBox, expiresAt: number): Promise<void> {
    // Boxes live minutes; the caller's clock is not handed in here, so garbage is collected a day later.
    await this.#kv.set(this.#boxKey(key), { value: box, expiresAt } satisfies BoxRecord, { expireIn: GC_MARGIN_MS });
  }

  async getBox(key: string, now: number): Promise<PendingBox | null> {
    const box = await this.#kv.get<BoxRecord>(this.#boxKey(key));
    return box.value === null || box.value.expiresAt <= now ? null : box.value.value;
  }

  takeBox(key: string, now: number): Promise<PendingBox | null> {
    return optimistic('takeBox', async () => {
      const box = await this.#kv.get<BoxRecord>(this.#boxKey(key));
      if (box.value === null) return { done: null };
      // Taken once: of two takers, the second one's check fails and it reads the box gone.
      if (!(await this.#kv.atomic().check(box).delete(this.#boxKey(key)).commit()).ok) return null;
      return { done: box.value.expiresAt <= now ? null : box.value.value };
    });
  }

  async takeBoxes(prefixes: string[], now: number): Promise<PendingBox[]> {
    const taken: PendingBox[] = [];
    for (const prefix of prefixes) {
      const keys: string[] = [];
      const range = { start: this.#boxKey(prefix), end: this.#boxKey(`${prefix}\u{10FFFF}`) };
      for await (const { key } of this.#kv.list<BoxRecord>(range)) keys.push(key[key.length - 1] as string);
      for (const key of keys) {
        const box = await this.takeBox(key, now);
        if (box !== null) taken.push(box);
      }
    }
    return taken;
  }

  /** Resolves when one of these entries changes from what was read (Deno KV's watch), or after `ms` (this ledger's sleep). */
  async #changeOrTimeout(read: Deno.KvEntryMaybe<unknown>[], ms: number): Promise<void> {
    const reader = this.#kv.watch(read.map((entry) => entry.key)).getReader();
    const changed = (async () => {
      for (;;) {
        const next = await reader.read();
        if (next.done || next.value.some((entry, i) => entry.versionstamp !== read[i]!.versionstamp)) return;
      }
    })().catch(() => {});
    try {
      await Promise.race([changed, this.#sleep(ms)]);
    } finally {
      await reader.cancel().catch(() => {});
      await changed;
    }
  }

  /** Records use (coarsely); false when the grant changed since it was read (read again). */
  async #touch(read: Deno.KvEntryMaybe<GrantEntry>, entry: GrantEntry, now: number): Promise<boolean> {
    if (!dueForTouch(entry, now)) return true;
    const committed = await this.#kv
      .atomic()
      .check(read)
      .set(this.#grantKey(entry.grantId), { ...entry, lastUsedAt: now } satisfies GrantEntry, { expireIn: gcAfter(entry.expiresAt, now) })
      .commit();
    return committed.ok;
  }

  /** Deletes these grants and their leases in one commit, if none of them (nor the guard) changed since read; null if something did. */
  async #endCommit(grants: Deno.KvEntry<GrantEntry>[], guard: Deno.KvEntryMaybe<unknown> | null): Promise<EndedGrant[] | null> {
    if (grants.length + (guard === null ? 0 : 1) > MAX_CHECKS) throw new RangeError('too many grants for one commit');
    const op = this.#kv.atomic().check(...grants);
    if (guard !== null) op.check(guard);
    for (const { value } of grants) op.delete(this.#grantKey(value.grantId)).delete(this.#leaseKey(value.grantId));
    if (!(await op.commit()).ok) return null;
    return grants.map(({ value }) => endedOf(value));
  }

  /**
   * After grants ended: their tokens are already dead (a token is alive only with its live
   * grant, and grant ids are never reused); this removes them, best effort.
   */
  async #dropTokens(grantIds: string[]): Promise<void> {
    for (const grantId of grantIds) {
      try {
        const keys: Deno.KvKey[] = [this.#tokenGuardKey(grantId)];
        for await (const { key } of this.#kv.list({ prefix: [...this.#base, 'grant-token', grantId] })) {
          keys.push(key, this.#tokenKey(key[key.length - 1] as string));
        }
        for await (const { key } of this.#kv.list({ prefix: [...this.#base, 'grant-refresh', grantId] })) {
          keys.push(key, this.#refreshKey(key[key.length - 1] as string));
        }
        for (let i = 0; i < keys.length; i += 200) {
          const op = this.#kv.atomic();
          for (const key of keys.slice(i, i + 200)) op.delete(key);
          await op.commit();
        }
      } catch {
        // Dead already; Deno KV's expiry removes them later.
      }
    }
  }
}

function alive(entry: GrantEntry | null, now: number): GrantEntry | null {
  return entry === null || entry.expiresAt <= now ? null : entry;
}

