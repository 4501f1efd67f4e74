/**
 * What every kind of caller shares for an isolate's life: the token minter, the sealer,
 * the KV records, the grant keeper, and the isolate's memory of recently seen callers
 * (so a busy caller costs no KV read and no key derivation per request).
 */
import type { Sealer } from '../crypto/seal.ts';
import type { TokenMinter } from '../crypto/tokens.ts';
import type { GrantKeeper } from '../grants/keeper.ts';
import type { Ledger } from '../grants/ledger.ts';
import type { Logger } from '../log.ts';
import { TtlMap } from '../util/ttl-map.ts';
import type { DeviceFlowStore } from './device-store.ts';
import type { HolderRecords } from './records.ts';

export interface CallerContext {
  readonly minter: TokenMinter;
  readonly sealer: Sealer;
  readonly records: HolderRecords;
  readonly keeper: GrantKeeper;
  readonly ledgerFor: (personKey: string) => Ledger;
  /**
   * The store of device authorizations in progress (they belong to nobody yet). A
   * function, like ledgerFor: a Durable Object stub belongs to the request that made it.
   */
  readonly deviceFlows: () => DeviceFlowStore;
  readonly now: () => number;
  readonly log: Logger;
  /** Presented secret (cookie value, bearer token, client_id) → what it resolved to. */
  readonly memory: TtlMap<string, unknown>;
}

/** The isolate's memory of callers: bounded, and re-read from KV at most every ten minutes. */
export function createCallerMemory(now: () => number): TtlMap<string, unknown> {
  return new TtlMap<string, unknown>({ maxEntries: 2000, ttlMs: 10 * 60_000, now });
}
