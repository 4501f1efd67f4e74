/**
 * Everything the simulated Looker remembers: its users and who is signed in, pending
 * authorization codes, access and refresh tokens, API-key sessions, and the clock.
 *
 * Each authorization code starts a grant family (its `grantId`); the access and refresh
 * tokens issued for the code, and by refreshes after it, carry the same `grantId`, so a
 * logout can reach the refresh token of the grant its access token came from.
 */
import { encodeBase64urlNoPadding } from '@oslojs/encoding';

export interface SimulatedUser {
  id: string;
  display_name: string;
  email: string;
}

export const DEFAULT_USER: SimulatedUser = { id: '42', display_name: 'Dana Demo', email: 'dana.demo@example.com' };

export const randomToken = (bytes = 24): string => encodeBase64urlNoPadding(crypto.getRandomValues(new Uint8Array(bytes)));

/** Whom a token acts for, and which OAuth app and grant issued it. */
export interface TokenOwner {
  userId: string;
  /** The app's client_guid; null for tokens no OAuth app issued (sudo). */
  clientId: string | null;
  /** The grant family; null for tokens no authorization code started (sudo). */
  grantId: string | null;
}

/** An authorization code waiting to be exchanged. */
export interface PendingCode {
  userId: string;
  clientId: string;
  grantId: string;
  redirectUri: string;
  codeChallenge: string;
  expiresAt: number;
}

export interface AccessTokenRecord extends TokenOwner {
  expiresAt: number;
}

export interface RefreshTokenRecord extends TokenOwner {
  clientId: string;
  grantId: string;
}

/** A session opened with an API key (`POST /api/4.0/login`). */
export interface ApiSession {
  userId: string;
  admin: boolean;
  expiresAt: number;
}

/** Which OAuth-issued codes and tokens to revoke: those matching every given field. */
export interface RevocationScope {
  userId?: string;
  clientId?: string;
}

export class SimulatorState {
  readonly now: () => number;
  readonly #users = new Map<string, SimulatedUser>();
  #signedIn: SimulatedUser;
  readonly #codes = new Map<string, PendingCode>();
  readonly #access = new Map<string, AccessTokenRecord>();
  readonly #refresh = new Map<string, RefreshTokenRecord>();
  readonly #apiSessions = new Map<string, ApiSession>();
  #grantCount = 0;

  constructor(users: readonly SimulatedUser[], now: () => number) {
    if (users.length === 0) throw new Error('The simulator needs at least one user.');
    for (const user of users) {
      if (this.#users.has(user.id)) throw new Error(`Two simulated users have the id ${JSON.stringify(user.id)}.`);
      this.#users.set(user.id, user);
    }
    this.#signedIn = users[0]!;
    this.now = now;
  }

  user(id: string): SimulatedUser | undefined {
    return this.#users.get(id);
  }

  get firstUser(): SimulatedUser {
    return this.#users.values().next().value!;
  }

  /** Whom the consent page shows, and whom the next authorization codes are for. */
  get signedInUser(): SimulatedUser {
    return this.#signedIn;
  }

  signInAs(userId: string): void {
    const user = this.#users.get(userId);
    if (user === undefined) throw new Error(`No simulated user has the id ${JSON.stringify(userId)}.`);
    this.#signedIn = user;
  }

  /** A code for the signed-in user, starting a new grant family. */
  createCode(request: { clientId: string; redirectUri: string; codeChallenge: string }, ttlSeconds: number): string {
    const code = randomToken();
    this.#codes.set(code, {
      ...request,
      userId: this.#signedIn.id,
      grantId: `grant-${++this.#grantCount}`,
      expiresAt: this.now() + ttlSeconds * 1000,
    });
    return code;
  }

  /** The code's record, which is gone from then on: a code is spent by any attempt to use it. */
  takeCode(code: string): PendingCode | undefined {
    const pending = this.#codes.get(code);
    this.#codes.delete(code);
    return pending;
  }

  issueAccessToken(owner: TokenOwner, ttlSeconds: number): string {
    const token = randomToken();
    this.#access.set(token, { ...owner, expiresAt: this.now() + ttlSeconds * 1000 });
    return token;
  }

  issueRefreshToken(owner: RefreshTokenRecord): string {
    const token = randomToken(32);
    this.#refresh.set(token, { ...owner });
    return token;
  }

  /** The token's record if it was issued, is not revoked and has not expired. */
  liveAccessToken(token: string): AccessTokenRecord | null {
    const record = this.#access.get(token);
    return record === undefined || record.expiresAt <= this.now() ? null : record;
  }

  refreshToken(token: string): RefreshTokenRecord | undefined {
    return this.#refresh.get(token);
  }

  spendRefreshToken(token: string): void {
    this.#refresh.delete(token);
  }

  /**
   * Logout with an access token (expired ones included, as long as Looker still knows
   * them): kills it and, if asked, the refresh token of its grant. False for unknown tokens.
   */
  logOut(token: string, alsoRefreshToken: boolean): boolean {
    const record = this.#access.get(token);
    if (record === undefined) return false;
    this.#access.delete(token);
    if (alsoRefreshToken && record.grantId !== null) {
      deleteWhere(this.#refresh, (owner) => owner.grantId === record.grantId);
    }
    return true;
  }

  revokeAccessToken(token: string): void {
    this.#access.delete(token);
  }

  /** Kills the codes and tokens OAuth apps were issued, within the scope (sudo tokens stay). */
  revokeOAuth(scope: RevocationScope = {}): void {
    const inScope = (owner: { userId: string; clientId: string | null }) =>
      owner.clientId !== null &&
      (scope.userId === undefined || owner.userId === scope.userId) &&
      (scope.clientId === undefined || owner.clientId === scope.clientId);
    deleteWhere(this.#codes, inScope);
    deleteWhere(this.#access, inScope);
    deleteWhere(this.#refresh, inScope);
  }

  hasAccessToken(token: string): boolean {
    return this.#access.has(token);
  }

  hasRefreshToken(token: string): boolean {
    return this.#refresh.has(token);
  }

  /** Unexpired access tokens (sudo tokens included), of one user or of everyone. */
  countLiveAccessTokens(userId?: string): number {
    let count = 0;
    for (const record of this.#access.values()) {
      if (record.expiresAt > this.now() && (userId === undefined || record.userId === userId)) count++;
    }
    return count;
  }

  /** Refresh tokens (they do not expire), of one user or of everyone. */
  countRefreshTokens(userId?: string): number {
    let count = 0;
    for (const record of this.#refresh.values()) if (userId === undefined || record.userId === userId) count++;
    return count;
  }

  openApiSession(userId: string, admin: boolean, ttlSeconds: number): string {
    const token = randomToken();
    this.#apiSessions.set(token, { userId, admin, expiresAt: this.now() + ttlSeconds * 1000 });
    return token;
  }

  liveApiSession(token: string): ApiSession | null {
    const session = this.#apiSessions.get(token);
    return session === undefined || session.expiresAt <= this.now() ? null : session;
  }

  endApiSession(token: string): boolean {
    return this.#apiSessions.delete(token);
  }

  get apiSessionCount(): number {
    return this.#apiSessions.size;
  }
}

function deleteWhere<T>(map: Map<string, T>, matches: (value: T) => boolean): void {
  for (const [key, value] of map) if (matches(value)) map.delete(key);
}
