/**
 * What the gateway needs from the runtime it runs on, and nothing more: the stores (holder
 * records with expiry, the per-person ledgers, the device-flow store), work that outlives
 * the answer, and who the client is. Each runtime supplies these from its own folder
 * (src/platform/cloudflare/ for Workers); nothing outside that folder knows the runtime.
 */
import type { DeviceFlowStore } from './callers/device-store.ts';
import type { KeyValueStore } from './callers/records.ts';
import type { ConfigProblem } from './config.ts';
import type { Ledger } from './grants/ledger.ts';
import type { ClientOf } from './http/client.ts';

/** Configuration as the runtime hands it over: variables, and whatever else the runtime binds. */
export type Bindings = Record<string, unknown>;

export interface RuntimeStores {
  /** Holder records (sessions, credentials): fast, may be eventually consistent. */
  kv: KeyValueStore;
  /** The ledger named `name` (one per person). A function: on Workers a stub belongs to the request that made it. */
  ledger(name: string): Ledger;
  /** The device-flow store named `name` (one for the gateway). */
  deviceFlows(name: string): DeviceFlowStore;
}

/** On failure, the holder-record store may still be there (for /readyz to probe). */
export type StoresResult = { ok: true; stores: RuntimeStores } | { ok: false; problems: ConfigProblem[]; kv?: KeyValueStore };

export interface Runtime {
  /** The stores these bindings provide, or each one that is missing (asked once per set of bindings). */
  storesFor(env: Bindings): StoresResult;
  /** The client's address and location, as the runtime reports them. */
  clientOf: ClientOf;
  /** Keeps work alive after the answer is sent (Workers: waitUntil). */
  defer(work: Promise<unknown>): void;
}
