/**
 * The ledger of one Looker person, as a Durable Object (see src/grants/ledger.ts for what
 * it promises): strongly consistent, one instance per person, named by their opaque person
 * key. KV stays the gateway's fast read path; this is where "alive" is decided, refreshes
 * are serialised and write-backs are made conditional.
 *
 * It holds only sealed values and hashes. Refresh leases live in memory: if the object is
 * evicted mid-refresh, the version check in completeRefresh still keeps write-backs in
 * order, and a waiter simply gets the lease.
 */
import { DurableObject } from 'cloudflare:workers';
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
import { dueForTouch, endedOf, liveToken, LEASE_MS, listed, rotationVerdict, tokensBeyondCap } from '../../grants/ledger.ts';

/** While a lease from before a restart of this object may still be held, waiters look again this often. */
const STORED_LEASE_POLL_MS = 250;
/** How often expired entries are swept while anything is stored. */
const SWEEP_INTERVAL_MS = 60 * 60_000;

interface Lease {
  id: string;
  expiresAt: number;
  released: Promise<void>;
  release: () => void;
}

interface Box {
  value: PendingBox;
  expiresAt: number;
}

const GRANT = 'grant:';
const TOKEN = 'token:';
const BOX = 'box:';
const REFRESH = 'refresh:';
/** Leases are also stored: one held when the object restarts (a deploy, an eviction) still holds. */
const LEASE = 'lease:';

export class AccountObject extends DurableObject implements Ledger {
  readonly #leases = new Map<string, Lease>();

  async createGrant(entry: GrantEntry): Promise<void> {
    await this.ctx.storage.put(GRANT + entry.grantId, entry);
    await this.#armSweep();
  }

  async check(grantId: string, knownVersion: number, now: number, touch: boolean): Promise<GrantCheck> {
    const entry = await this.#alive(grantId, now);
    if (entry === null) return { alive: false };
    if (touch) await this.#touch(entry, now);
    return { alive: true, version: entry.version, sealed: entry.version > knownVersion ? entry.sealed : null };
  }

  async beginRefresh(grantId: string, knownVersion: number, now: number, options: { wait?: boolean } = {}): Promise<RefreshTicket> {
    for (;;) {
      const entry = await this.#alive(grantId, now);
      if (entry === null) return { ended: true };
      if (entry.version > knownVersion) return { current: { version: entry.version, sealed: entry.sealed } };
      const held = this.#leases.get(grantId);
      if (held === undefined || held.expiresAt <= Date.now()) {
        const stored = await this.ctx.storage.get<{ id: string; expiresAt: number }>(LEASE + grantId);
        if (held === undefined && stored !== undefined && stored.expiresAt > Date.now()) {
          // Held by a refresher from before this object restarted: its completeRefresh will still come.
          if (options.wait === false) return { busy: true };
          await new Promise((resolve) => setTimeout(resolve, Math.min(STORED_LEASE_POLL_MS, stored.expiresAt - Date.now())));
          continue;
        }
        let release!: () => void;
        const released = new Promise<void>((resolve) => (release = resolve));
        const lease: Lease = { id: crypto.randomUUID(), expiresAt: Date.now() + LEASE_MS, released, release };
        this.#leases.set(grantId, lease);
        await this.ctx.storage.put(LEASE + grantId, { id: lease.id, expiresAt: lease.expiresAt });
        return { lease: lease.id };
      }
      if (options.wait === false) return { busy: true };
      await Promise.race([held.released, new Promise((resolve) => setTimeout(resolve, Math.max(0, held.expiresAt - Date.now())))]);
    }
  }

  async completeRefresh(
    grantId: string,
    lease: string,
    next: { version: number; sealed: string; revocation: string; expiresAt: number },
    now: number,
  ): Promise<RefreshOutcome> {
    try {
      const entry = await this.#alive(grantId, now);
      if (entry === null) return 'ended';
      // The same values again (a retry whose first call landed but whose answer was lost): already stored.
      if (entry.version === next.version && entry.sealed === next.sealed) return 'stored';
      // Only the next version is accepted: a late or duplicate refresher cannot overwrite a newer grant.
      if (next.version !== entry.version + 1) return 'superseded';
      await this.ctx.storage.put(GRANT + grantId, {
        ...entry,
        version: next.version,
        sealed: next.sealed,
        revocation: next.revocation,
        expiresAt: next.expiresAt,
      } satisfies GrantEntry);
      return 'stored';
    } finally {
      await this.#releaseIfHeld(grantId, lease);
    }
  }

  async releaseRefresh(grantId: string, lease: string): Promise<void> {
    await this.#releaseIfHeld(grantId, lease);
  }

  async endUnlessNewer(
    grantId: string,
    version: number,
  ): Promise<{ ended: EndedGrant | null } | { current: { version: number; sealed: string } }> {
    const entry = await this.ctx.storage.get<GrantEntry>(GRANT + grantId);
    if (entry !== undefined && entry.version > version) return { current: { version: entry.version, sealed: entry.sealed } };
    const [ended] = await this.#endGrants(entry === undefined ? [] : [entry]);
    return { ended: ended ?? null };
  }

  async end(which: { grantId: string } | { all: true }): Promise<EndedGrant[]> {
    const entries =
      'all' in which
        ? [...(await this.ctx.storage.list<GrantEntry>({ prefix: GRANT })).values()]
        : [await this.ctx.storage.get<GrantEntry>(GRANT + which.grantId)].filter((e): e is GrantEntry => e !== undefined);
    return this.#endGrants(entries);
  }

  async list(now: number): Promise<GrantSummary[]> {
    return listed((await this.ctx.storage.list<GrantEntry>({ prefix: GRANT })).values(), now);
  }

  async mintToken(tokenId: string, token: TokenEntry, now: number): Promise<{ ok: true; version: number; sealed: string } | { ok: false }> {
    const grant = await this.#alive(token.grantId, now);
    if (grant === null) return { ok: false };
    await this.#addToken(grant, tokenId, token, now);
    return { ok: true, version: grant.version, sealed: grant.sealed };
  }

  async issuePair(pair: TokenPair, now: number): Promise<PairOutcome> {
    const grant = await this.#alive(pair.refresh.grantId, now);
    if (grant === null) return { ok: false, ended: null };
    await this.ctx.storage.put(REFRESH + pair.refreshId, pair.refresh);
    await this.#addToken(grant, pair.tokenId, pair.token, now);
    return { ok: true, version: grant.version, sealed: grant.sealed };
  }

  async getRefresh(refreshId: string, now: number): Promise<RefreshEntry | null> {
    const entry = await this.ctx.storage.get<RefreshEntry>(REFRESH + refreshId);
    return entry === undefined || entry.expiresAt <= now ? null : entry;
  }

  async rotateRefresh(presentedId: string, next: TokenPair, now: number): Promise<PairOutcome> {
    // One object, one thread: nothing else runs between this read and the writes below.
    const presented = (await this.ctx.storage.get<RefreshEntry>(REFRESH + presentedId)) ?? null;
    const grant = presented === null ? null : await this.#alive(presented.grantId, now);
    switch (rotationVerdict(presented, grant, now)) {
      case 'refused':
        return { ok: false, ended: null };
      case 'replayed':
        return { ok: false, ended: (await this.#endGrants(grant === null ? [] : [grant]))[0] ?? null };
      case 'rotate':
        if (presented!.grantId !== next.refresh.grantId) return { ok: false, ended: null };
        await this.ctx.storage.put(REFRESH + presentedId, { ...presented!, spent: true } satisfies RefreshEntry);
        return this.issuePair(next, now);
    }
  }

  /** Stores a token for a live grant: expired tokens go first, then the grant's oldest beyond the cap. */
  async #addToken(grant: GrantEntry, tokenId: string, token: TokenEntry, now: number): Promise<void> {
    const all = await this.ctx.storage.list<TokenEntry>({ prefix: TOKEN });
    const expired = [...all].filter(([, t]) => t.expiresAt <= now).map(([k]) => k);
    const over = tokensBeyondCap([...all].filter(([, t]) => t.expiresAt > now && t.grantId === token.grantId));
    const drop = [...expired, ...over];
    for (let i = 0; i < drop.length; i += 128) await this.ctx.storage.delete(drop.slice(i, i + 128));
    await this.ctx.storage.put(TOKEN + tokenId, token);
    await this.#touch(grant, now);
    await this.#armSweep();
  }

  async checkToken(tokenId: string, knownVersion: number, now: number): Promise<TokenCheck> {
    const token = await this.ctx.storage.get<TokenEntry>(TOKEN + tokenId);
    if (token === undefined || token.expiresAt <= now) return { alive: false };
    const grant = await this.#alive(token.grantId, now);
    if (grant === null) return { alive: false };
    await this.#touch(grant, now);
    return liveToken(token, grant, knownVersion);
  }

  async endToken(tokenId: string): Promise<boolean> {
    return this.ctx.storage.delete(TOKEN + tokenId);
  }

  async putBox(key: string, box: PendingBox, expiresAt: number): Promise<void> {
    await this.ctx.storage.put(BOX + key, { value: box, expiresAt } satisfies Box);
    await this.#armSweep();
  }

  async getBox(key: string, now: number): Promise<PendingBox | null> {
    const box = await this.ctx.storage.get<Box>(BOX + key);
    return box === undefined || box.expiresAt <= now ? null : box.value;
  }

  async takeBox(key: string, now: number): Promise<PendingBox | null> {
    const box = await this.ctx.storage.get<Box>(BOX + key);
    if (box === undefined) return null;
    await this.ctx.storage.delete(BOX + key);
    return box.expiresAt <= now ? null : box.value;
  }

  async takeBoxes(prefixes: string[], now: number): Promise<PendingBox[]> {
    const taken: PendingBox[] = [];
    for (const prefix of prefixes) {
      const boxes = await this.ctx.storage.list<Box>({ prefix: BOX + prefix });
      const keys = [...boxes.keys()];
      for (let i = 0; i < keys.length; i += 128) await this.ctx.storage.delete(keys.slice(i, i + 128));
      for (const box of boxes.values()) if (box.expiresAt > now) taken.push(box.value);
    }
    return taken;
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    const expired: string[] = [];
    let remaining = 0;
    for (const prefix of [GRANT, TOKEN, BOX, LEASE, REFRESH]) {
      for (const [key, value] of await this.ctx.storage.list<{ expiresAt: number }>({ prefix })) {
        if (value.expiresAt <= now) expired.push(key);
        else remaining++;
      }
    }
    // storage.delete takes at most 128 keys at a time.
    for (let i = 0; i < expired.length; i += 128) await this.ctx.storage.delete(expired.slice(i, i + 128));
    if (remaining > 0) await this.ctx.storage.setAlarm(now + SWEEP_INTERVAL_MS);
  }

  async #alive(grantId: string, now: number): Promise<GrantEntry | null> {
    const entry = await this.ctx.storage.get<GrantEntry>(GRANT + grantId);
    return entry === undefined || entry.expiresAt <= now ? null : entry;
  }

  async #touch(entry: GrantEntry, now: number): Promise<void> {
    if (!dueForTouch(entry, now)) return;
    await this.ctx.storage.put(GRANT + entry.grantId, { ...entry, lastUsedAt: now } satisfies GrantEntry);
  }

  async #endGrants(entries: GrantEntry[]): Promise<EndedGrant[]> {
    if (entries.length === 0) return [];
    const ids = new Set(entries.map((e) => e.grantId));
    const tokens = await this.ctx.storage.list<TokenEntry>({ prefix: TOKEN });
    const refreshes = await this.ctx.storage.list<RefreshEntry>({ prefix: REFRESH });
    const keys = [
      ...entries.map((e) => GRANT + e.grantId),
      ...[...tokens].filter(([, t]) => ids.has(t.grantId)).map(([k]) => k),
      ...[...refreshes].filter(([, r]) => ids.has(r.grantId)).map(([k]) => k),
    ];
    for (let i = 0; i < keys.length; i += 128) await this.ctx.storage.delete(keys.slice(i, i + 128));
    for (const id of ids) await this.#releaseAny(id);
    return entries.map(endedOf);
  }

  async #releaseIfHeld(grantId: string, lease: string): Promise<void> {
    const stored = await this.ctx.storage.get<{ id: string }>(LEASE + grantId);
    if (this.#leases.get(grantId)?.id === lease || stored?.id === lease) await this.#releaseAny(grantId);
  }

  /** Drops a grant's lease and wakes everyone waiting on it. */
  async #releaseAny(grantId: string): Promise<void> {
    const held = this.#leases.get(grantId);
    this.#leases.delete(grantId);
    await this.ctx.storage.delete(LEASE + grantId);
    held?.release();
  }

  async #armSweep(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + SWEEP_INTERVAL_MS);
  }
}
