/**
 * A ledger in memory (src/grants/ledger.ts), runtime-neutral: for tests in Node and for
 * anything that runs one process with nothing to keep across restarts. It keeps the same
 * promises as the Durable Object (test/contract/ledger-contract.ts runs the same cases
 * against all three): every call decides on one consistent view because nothing awaits
 * between reading and writing, leases are {holder, expiresAt} judged by an injectable
 * clock, and waiters for a lease are woken when it is released, stored past, or ended,
 * or when it expires.
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
} from './ledger.ts';
import { dueForTouch, endedOf, liveToken, LEASE_MS, listed, rotationVerdict, tokensBeyondCap } from './ledger.ts';


export interface MemoryLedgerOptions {
  /** The clock leases are judged by (default Date.now). */
  clock?: () => number;
}

export class MemoryLedger implements Ledger {
  readonly #grants = new Map<string, GrantEntry>();
  readonly #tokens = new Map<string, TokenEntry>();
  readonly #refreshes = new Map<string, RefreshEntry>();
  readonly #boxes = new Map<string, { value: PendingBox; expiresAt: number }>();
  readonly #leases = new Map<string, { holder: string; expiresAt: number }>();
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #clock: () => number;

  constructor(options: MemoryLedgerOptions = {}) {
    this.#clock = options.clock ?? Date.now;
  }

  async createGrant(entry: GrantEntry): Promise<void> {
    this.#grants.set(entry.grantId, structuredClone(entry));
  }

  async check(grantId: string, knownVersion: number, now: number, touch: boolean): Promise<GrantCheck> {
    const entry = this.#alive(grantId, now);
    if (entry === null) return { alive: false };
    if (touch) this.#touch(entry, now);
    return { alive: true, version: entry.version, sealed: entry.version > knownVersion ? entry.sealed : null };
  }

  async beginRefresh(grantId: string, knownVersion: number, now: number, options: { wait?: boolean } = {}): Promise<RefreshTicket> {
    for (;;) {
      const entry = this.#alive(grantId, now);
      if (entry === null) return { ended: true };
      if (entry.version > knownVersion) return { current: { version: entry.version, sealed: entry.sealed } };
      const held = this.#leases.get(grantId);
      const t = this.#clock();
      if (held === undefined || held.expiresAt <= t) {
        const lease = { holder: crypto.randomUUID(), expiresAt: t + LEASE_MS };
        this.#leases.set(grantId, lease);
        return { lease: lease.holder };
      }
      if (options.wait === false) return { busy: true };
      await new Promise<void>((resolve) => {
        const waiters = this.#waiters.get(grantId) ?? new Set<() => void>();
        const timer = setTimeout(wake, Math.max(0, held.expiresAt - t));
        function wake() {
          clearTimeout(timer);
          waiters.delete(wake);
          resolve();
        }
        waiters.add(wake);
        this.#waiters.set(grantId, waiters);
      });
    }
  }

  async completeRefresh(
    grantId: string,
    lease: string,
    next: { version: number; sealed: string; revocation: string; expiresAt: number },
    now: number,
  ): Promise<RefreshOutcome> {
    const entry = this.#alive(grantId, now);
    let outcome: RefreshOutcome;
    if (entry === null) outcome = 'ended';
    else if (entry.version === next.version && entry.sealed === next.sealed) outcome = 'stored';
    else if (next.version !== entry.version + 1) outcome = 'superseded';
    else {
      this.#grants.set(grantId, { ...entry, version: next.version, sealed: next.sealed, revocation: next.revocation, expiresAt: next.expiresAt });
      outcome = 'stored';
    }
    this.#releaseIfHeld(grantId, lease);
    return outcome;
  }

  async releaseRefresh(grantId: string, lease: string): Promise<void> {
    this.#releaseIfHeld(grantId, lease);
  }

  async endUnlessNewer(grantId: string, version: number): Promise<{ ended: EndedGrant | null } | { current: { version: number; sealed: string } }> {
    const entry = this.#grants.get(grantId);
    if (entry !== undefined && entry.version > version) return { current: { version: entry.version, sealed: entry.sealed } };
    return { ended: this.#endGrants(entry === undefined ? [] : [entry])[0] ?? null };
  }

  async end(which: { grantId: string } | { all: true }): Promise<EndedGrant[]> {
    const entries = 'all' in which ? [...this.#grants.values()] : [this.#grants.get(which.grantId)].filter((e): e is GrantEntry => e !== undefined);
    return this.#endGrants(entries);
  }

  async list(now: number): Promise<GrantSummary[]> {
    return listed(this.#grants.values(), now);
  }

  async mintToken(tokenId: string, token: TokenEntry, now: number): Promise<{ ok: true; version: number; sealed: string } | { ok: false }> {
    const grant = this.#alive(token.grantId, now);
    if (grant === null) return { ok: false };
    for (const [id, t] of this.#tokens) if (t.expiresAt <= now) this.#tokens.delete(id);
    for (const id of tokensBeyondCap([...this.#tokens].filter(([, t]) => t.grantId === token.grantId))) this.#tokens.delete(id);
    this.#tokens.set(tokenId, structuredClone(token));
    this.#touch(grant, now);
    return { ok: true, version: grant.version, sealed: grant.sealed };
  }

  async checkToken(tokenId: string, knownVersion: number, now: number): Promise<TokenCheck> {
    const token = this.#tokens.get(tokenId);
    if (token === undefined || token.expiresAt <= now) return { alive: false };
    const grant = this.#alive(token.grantId, now);
    if (grant === null) return { alive: false };
    this.#touch(grant, now);
    return liveToken(token, grant, knownVersion);
  }

  async endToken(tokenId: string): Promise<boolean> {
    return this.#tokens.delete(tokenId);
  }

  async issuePair(pair: TokenPair, now: number): Promise<PairOutcome> {
    const grant = this.#alive(pair.refresh.grantId, now);
    if (grant === null) return { ok: false, ended: null };
    return this.#storePair(grant, pair, now);
  }

  async getRefresh(refreshId: string, now: number): Promise<RefreshEntry | null> {
    const entry = this.#refreshes.get(refreshId);
    return entry === undefined || entry.expiresAt <= now ? null : structuredClone(entry);
  }

  async rotateRefresh(presentedId: string, next: TokenPair, now: number): Promise<PairOutcome> {
    const presented = this.#refreshes.get(presentedId) ?? null;
    const grant = presented === null ? null : this.#alive(presented.grantId, now);
    switch (rotationVerdict(presented, grant, now)) {
      case 'refused':
        return { ok: false, ended: null };
      case 'replayed':
        return { ok: false, ended: this.#endGrants(grant === null ? [] : [grant])[0] ?? null };
      case 'rotate':
        if (presented!.grantId !== next.refresh.grantId) return { ok: false, ended: null };
        this.#refreshes.set(presentedId, { ...presented!, spent: true });
        return this.#storePair(grant!, next, now);
    }
  }

  #storePair(grant: GrantEntry, pair: TokenPair, now: number): PairOutcome {
    for (const [id, t] of this.#tokens) if (t.expiresAt <= now) this.#tokens.delete(id);
    for (const id of tokensBeyondCap([...this.#tokens].filter(([, t]) => t.grantId === grant.grantId))) this.#tokens.delete(id);
    this.#tokens.set(pair.tokenId, structuredClone(pair.token));
    this.#refreshes.set(pair.refreshId, structuredClone(pair.refresh));
    this.#touch(grant, now);
    return { ok: true, version: grant.version, sealed: grant.sealed };
  }

  async putBox(key: string, box: PendingBox, expiresAt: number): Promise<void> {
    this.#boxes.set(key, { value: structuredClone(box), expiresAt });
  }

  async getBox(key: string, now: number): Promise<PendingBox | null> {
    const box = this.#boxes.get(key);
    return box === undefined || box.expiresAt <= now ? null : structuredClone(box.value);
  }

  async takeBox(key: string, now: number): Promise<PendingBox | null> {
    const box = this.#boxes.get(key);
    if (box === undefined) return null;
    this.#boxes.delete(key);
    return box.expiresAt <= now ? null : box.value;
  }

  async takeBoxes(prefixes: string[], now: number): Promise<PendingBox[]> {
    const taken: PendingBox[] = [];
    for (const prefix of prefixes) {
      for (const [key, box] of [...this.#boxes]) {
        if (!key.startsWith(prefix)) continue;
        this.#boxes.delete(key);
        if (box.expiresAt > now) taken.push(box.value);
      }
    }
    return taken;
  }

  #alive(grantId: string, now: number): GrantEntry | null {
    const entry = this.#grants.get(grantId);
    return entry === undefined || entry.expiresAt <= now ? null : entry;
  }

  #touch(entry: GrantEntry, now: number): void {
    if (!dueForTouch(entry, now)) return;
    this.#grants.set(entry.grantId, { ...entry, lastUsedAt: now });
  }

  #endGrants(entries: GrantEntry[]): EndedGrant[] {
    const ids = new Set(entries.map((e) => e.grantId));
    for (const id of ids) this.#grants.delete(id);
    for (const [tokenId, token] of this.#tokens) if (ids.has(token.grantId)) this.#tokens.delete(tokenId);
    for (const [refreshId, refresh] of this.#refreshes) if (ids.has(refresh.grantId)) this.#refreshes.delete(refreshId);
    for (const id of ids) this.#release(id);
    return entries.map(endedOf);
  }

  #releaseIfHeld(grantId: string, lease: string): void {
    if (this.#leases.get(grantId)?.holder === lease) this.#release(grantId);
  }

  /** Drops a grant's lease and wakes everyone waiting on it. */
  #release(grantId: string): void {
    this.#leases.delete(grantId);
    for (const wake of [...(this.#waiters.get(grantId) ?? [])]) wake();
    this.#waiters.delete(grantId);
  }
}
