/**
 * The session store: pending logins and signed-in sessions, kept in a key-value
 * namespace under hashed keys with sealed values (see docs/storage.md). It knows
 * nothing of HTTP or cookies; callers hand it the cookie's value and get back data.
 */
import type { SessionCache } from './cache.ts';
import { Sealer } from './seal.ts';
import { generateToken, parseToken, storageKeyFor } from './token.ts';

/** The part of Workers KV we use; any store with these three calls works (e.g. Deno KV behind an adapter). */
export interface KeyValueStore {
  get(key: string): Promise<string | null>;
  put(key: string, value: string, options: { expirationTtl: number }): Promise<void>;
  delete(key: string): Promise<void>;
}

/** A sign-in in progress, between /login and /callback. */
export interface PendingLogin {
  state: string;
  codeVerifier: string;
  returnTo: string;
  redirectUri: string;
  createdAt: number;
}

/** The Looker tokens a session holds. */
export interface LookerGrant {
  accessToken: string;
  /** Epoch milliseconds. */
  accessTokenExpiresAt: number;
  refreshToken: string | null;
}

export interface SessionRecord {
  grant: LookerGrant;
  /** The redirect_uri the session was signed in with; Looker wants the same one on refresh. */
  redirectUri: string;
  createdAt: number;
  /** Epoch milliseconds after which the session is over (the refresh token's lifetime). */
  expiresAt: number;
}

/** Identifies one stored session; opaque to everything but the store. */
export interface SessionHandle {
  readonly key: string;
  readonly token: Uint8Array;
}

export const LOGIN_TTL_SECONDS = 600;
/** Looker documents refresh tokens as living about a month. */
export const SESSION_TTL_SECONDS = 30 * 24 * 3600;
/** Workers KV refuses an expirationTtl below 60 seconds. */
const MIN_KV_TTL_SECONDS = 60;

const LOGIN_PURPOSE = 'login';
const SESSION_PURPOSE = 'session';

export class SessionStore {
  /** KV operations made through this store (one store per request: the request log reports them). */
  readonly operations = { reads: 0, writes: 0 };
  readonly #kv: KeyValueStore;
  readonly #sealer: Sealer;
  readonly #now: () => number;
  readonly #cache: SessionCache | undefined;

  constructor(kv: KeyValueStore, sealer: Sealer, now: () => number, cache?: SessionCache) {
    this.#cache = cache;
    this.#kv = kv;
    this.#sealer = sealer;
    this.#now = now;
  }

  #read(key: string): Promise<string | null> {
    this.operations.reads++;
    return this.#kv.get(key);
  }
  #put(key: string, value: string, options: { expirationTtl: number }): Promise<void> {
    this.operations.writes++;
    return this.#kv.put(key, value, options);
  }
  #delete(key: string): Promise<void> {
    this.operations.writes++;
    return this.#kv.delete(key);
  }

  /** Stores a pending login; returns the value for the login cookie. */
  async startLogin(login: PendingLogin): Promise<string> {
    const { token, cookieValue } = generateToken();
    const key = storageKeyFor('login', token);
    const sealed = await this.#sealer.seal(LOGIN_PURPOSE, token, key, JSON.stringify(login));
    await this.#put(key, sealed, { expirationTtl: LOGIN_TTL_SECONDS });
    return cookieValue;
  }

  /**
   * Reads and deletes a pending login (single use: the entry is gone before the
   * caller can act on it). Null when the cookie is malformed, unknown, expired or
   * the entry does not open.
   */
  async takeLogin(cookieValue: string | undefined): Promise<PendingLogin | null> {
    const token = parseToken(cookieValue);
    if (token === null) return null;
    const key = storageKeyFor('login', token);
    const sealed = await this.#read(key);
    if (sealed === null) return null;
    await this.#delete(key);
    const plaintext = await this.#sealer.open(LOGIN_PURPOSE, token, key, sealed);
    const login = plaintext === null ? null : parsePendingLogin(plaintext);
    if (login === null || this.#now() - login.createdAt > LOGIN_TTL_SECONDS * 1000) return null;
    return login;
  }

  /** Stores a new session under a fresh token; returns the value for the session cookie. */
  async createSession(record: SessionRecord): Promise<{ cookieValue: string; handle: SessionHandle }> {
    const { token, cookieValue } = generateToken();
    const handle = { key: storageKeyFor('session', token), token };
    await this.saveSession(handle, record);
    return { cookieValue, handle };
  }

  /** The session behind a cookie value, or null for anything that is not a live session of ours. */
  async readSession(cookieValue: string | undefined): Promise<{ handle: SessionHandle; record: SessionRecord } | null> {
    const handle = this.#handleFor(cookieValue);
    if (handle === null) return null;
    const record = this.#remembered(handle) ?? (await this.reloadSession(handle));
    return record === null ? null : { handle, record };
  }

  /** The token and storage key behind a cookie value (decoded and hashed once per isolate), or null. */
  #handleFor(cookieValue: string | undefined): SessionHandle | null {
    if (cookieValue === undefined) return null;
    const compute = (): SessionHandle | null => {
      const token = parseToken(cookieValue);
      return token === null ? null : { key: storageKeyFor('session', token), token };
    };
    return this.#cache === undefined ? compute() : this.#cache.handleFor(cookieValue, compute);
  }

  #remembered(handle: SessionHandle): SessionRecord | undefined {
    const cached = this.#cache?.get(handle.key);
    return cached !== undefined && cached.expiresAt > this.#now() ? cached : undefined;
  }

  /** Reads a session from KV, past the isolate's cache (e.g. to see tokens another isolate stored). */
  async reloadSession(handle: SessionHandle): Promise<SessionRecord | null> {
    const sealed = await this.#read(handle.key);
    const plaintext = sealed === null ? null : await this.#sealer.open(SESSION_PURPOSE, handle.token, handle.key, sealed);
    const record = plaintext === null ? null : parseSessionRecord(plaintext);
    if (record === null || record.expiresAt <= this.#now()) {
      this.#cache?.delete(handle.key);
      return null;
    }
    this.#cache?.set(handle.key, record);
    return record;
  }

  async saveSession(handle: SessionHandle, record: SessionRecord): Promise<void> {
    const sealed = await this.#sealer.seal(SESSION_PURPOSE, handle.token, handle.key, JSON.stringify(record));
    const ttl = Math.max(MIN_KV_TTL_SECONDS, Math.ceil((record.expiresAt - this.#now()) / 1000));
    await this.#put(handle.key, sealed, { expirationTtl: ttl });
    this.#cache?.set(handle.key, record);
  }

  async deleteSession(handle: SessionHandle): Promise<void> {
    this.#cache?.delete(handle.key);
    await this.#delete(handle.key);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parsePendingLogin(text: string): PendingLogin | null {
  const v = parseJson(text);
  if (
    isRecord(v) &&
    typeof v.state === 'string' &&
    typeof v.codeVerifier === 'string' &&
    typeof v.returnTo === 'string' &&
    typeof v.redirectUri === 'string' &&
    typeof v.createdAt === 'number'
  ) {
    return { state: v.state, codeVerifier: v.codeVerifier, returnTo: v.returnTo, redirectUri: v.redirectUri, createdAt: v.createdAt };
  }
  return null;
}

function parseSessionRecord(text: string): SessionRecord | null {
  const v = parseJson(text);
  if (!isRecord(v) || !isRecord(v.grant) || typeof v.createdAt !== 'number' || typeof v.expiresAt !== 'number') return null;
  if (typeof v.redirectUri !== 'string') return null;
  const g = v.grant;
  if (
    typeof g.accessToken !== 'string' ||
    typeof g.accessTokenExpiresAt !== 'number' ||
    !(typeof g.refreshToken === 'string' || g.refreshToken === null)
  ) {
    return null;
  }
  return {
    grant: { accessToken: g.accessToken, accessTokenExpiresAt: g.accessTokenExpiresAt, refreshToken: g.refreshToken },
    redirectUri: v.redirectUri,
    createdAt: v.createdAt,
    expiresAt: v.expiresAt,
  };
}
