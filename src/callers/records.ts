/**
 * The KV records of who may use a grant: browser sessions (by the hash of the session
 * cookie's token) and script credentials (by the hash of their client_id). Each is sealed
 * under a key derived from SESSION_SECRET and the presented secret itself, so the
 * namespace alone, or the namespace and SESSION_SECRET, opens nothing. A record only
 * points at a grant; the grant's tokens and its liveness live in the person's ledger.
 * This module knows nothing of HTTP.
 */
import { open, seal, type Sealer } from '../crypto/seal.ts';
import { isObject, parseJson, parsePerson } from '../grants/record.ts';
import type { LookerUser } from '../looker/api.ts';

/** The part of Workers KV we use; any store with these three calls works (e.g. Deno KV behind an adapter). */
export interface KeyValueStore {
  get(key: string): Promise<string | null>;
  put(key: string, value: string, options: { expirationTtl: number }): Promise<void>;
  delete(key: string): Promise<void>;
}

/** KV counted per request, for the request log line. */
export class CountingKv implements KeyValueStore {
  reads = 0;
  writes = 0;
  readonly #kv: KeyValueStore;
  constructor(kv: KeyValueStore) {
    this.#kv = kv;
  }
  get(key: string): Promise<string | null> {
    this.reads++;
    return this.#kv.get(key);
  }
  put(key: string, value: string, options: { expirationTtl: number }): Promise<void> {
    this.writes++;
    return this.#kv.put(key, value, options);
  }
  delete(key: string): Promise<void> {
    this.writes++;
    return this.#kv.delete(key);
  }
}

/** Workers KV refuses an expirationTtl below 60 seconds. */
const MIN_KV_TTL_SECONDS = 60;

/** What every holder record says: whose grant, and until when. */
export interface HolderRecord {
  personKey: string;
  grantId: string;
  user: LookerUser;
  createdAt: number;
  expiresAt: number;
}

export interface SessionRecord extends HolderRecord {
  /** The browser it was signed in from, for "Your access". */
  label: string;
}

export interface CredentialRecord extends HolderRecord {
  clientId: string;
  name: string;
  /** hashFor('client-secret', secret): the secret itself is never stored. */
  secretHash: string;
}

type Kind = 'session' | 'credential';

export class HolderRecords {
  readonly #sealer: Sealer;
  readonly #now: () => number;

  constructor(sealer: Sealer, now: () => number) {
    this.#sealer = sealer;
    this.#now = now;
  }

  put(kv: KeyValueStore, kind: 'session', key: string, salt: Uint8Array, record: SessionRecord): Promise<void>;
  put(kv: KeyValueStore, kind: 'credential', key: string, salt: Uint8Array, record: CredentialRecord): Promise<void>;
  async put(kv: KeyValueStore, kind: Kind, key: string, salt: Uint8Array, record: HolderRecord): Promise<void> {
    const sealed = await seal(await this.#sealer.keyFor(kind, salt), key, JSON.stringify(record));
    const ttl = Math.max(MIN_KV_TTL_SECONDS, Math.ceil((record.expiresAt - this.#now()) / 1000));
    await kv.put(key, sealed, { expirationTtl: ttl });
  }

  /** The record, or null when there is none, it does not open, or it has expired. */
  async readSession(kv: KeyValueStore, key: string, salt: Uint8Array): Promise<SessionRecord | null> {
    const value = await this.#read(kv, 'session', key, salt);
    if (value === null || typeof value.label !== 'string') return null;
    return { ...value.base, label: value.label };
  }

  async readCredential(kv: KeyValueStore, key: string, salt: Uint8Array): Promise<CredentialRecord | null> {
    const value = await this.#read(kv, 'credential', key, salt);
    if (value === null || typeof value.clientId !== 'string' || typeof value.name !== 'string' || typeof value.secretHash !== 'string') {
      return null;
    }
    return { ...value.base, clientId: value.clientId, name: value.name, secretHash: value.secretHash };
  }

  async #read(kv: KeyValueStore, kind: Kind, key: string, salt: Uint8Array): Promise<(Record<string, unknown> & { base: HolderRecord }) | null> {
    const sealed = await kv.get(key);
    if (sealed === null) return null;
    const text = await open(await this.#sealer.keyFor(kind, salt), key, sealed);
    const value = text === null ? undefined : parseJson(text);
    if (!isObject(value)) return null;
    const user = parsePerson(value.user);
    if (
      user === null ||
      typeof value.personKey !== 'string' ||
      typeof value.grantId !== 'string' ||
      typeof value.createdAt !== 'number' ||
      typeof value.expiresAt !== 'number' ||
      value.expiresAt <= this.#now()
    ) {
      return null;
    }
    return { ...value, base: { personKey: value.personKey, grantId: value.grantId, user, createdAt: value.createdAt, expiresAt: value.expiresAt } };
  }
}
