/**
 * Gateway access tokens: what the SDK login shim hands a script for its credential, and
 * what the script then sends as `Authorization: Bearer` (or `token`). Short-lived; stored
 * only as a hash in the person's ledger, beside the credential's grant key sealed under
 * the token itself. The token carries its person's key, so resolving one needs no lookup
 * beyond that ledger — and in the steady state, none at all.
 */
import { decodeBase64, encodeBase64 } from '@oslojs/encoding';
import { importSealKey, open, seal } from '../crypto/seal.ts';
import { hashFor } from '../crypto/tokens.ts';
import { GrantUnavailableError, LIVENESS_TTL_MS, type GrantAccess } from '../grants/access.ts';
import { isObject, parseJson, parsePerson } from '../grants/record.ts';
import type { Grant } from '../grants/record.ts';
import type { LookerUser } from '../looker/api.ts';
import type { CallerContext } from './context.ts';
import type { Caller, CallerSource, Presented } from './caller-source.ts';
import type { VerifiedCredential } from './credentials.ts';

/** Who a bearer token speaks for. */
export interface TokenCaller {
  readonly tokenId: string;
  readonly personKey: string;
  readonly access: GrantAccess;
  readonly expiresAt: number;
  readonly credential: { clientId: string; name: string; user: LookerUser; createdAt: number; expiresAt: number };
}

interface Remembered {
  kind: 'access-token';
  caller: TokenCaller;
  checkedAt: number;
}

/** As a caller of the API: `Authorization: Bearer <token>` (or `token <token>`, as Looker accepts). No ambient credential, so no origin check. */
export class AccessTokens implements CallerSource<'token'> {
  readonly kind = 'token';
  readonly ambient = false;
  readonly whenUnknown = 'looker-401';
  readonly #x: CallerContext;

  constructor(context: CallerContext) {
    this.#x = context;
  }

  /** A new token for a verified credential, or null when the credential's grant is over. */
  async mint(credential: VerifiedCredential, ttlSeconds: number): Promise<{ accessToken: string; expiresIn: number } | null> {
    const now = this.#x.now();
    const { personKey, grantId } = credential.access;
    const token = this.#x.minter.mint('access-token', personKey);
    const tokenId = hashFor('access-token', token.secret);
    const expiresAt = Math.min(now + ttlSeconds * 1000, credential.record.expiresAt);
    const { record } = credential;
    const payload = JSON.stringify({
      grantKey: encodeBase64(credential.grantKey),
      clientId: record.clientId,
      name: record.name,
      user: record.user,
      createdAt: record.createdAt,
      expiresAt: record.expiresAt,
    });
    const sealed = await seal(await this.#x.sealer.keyFor('access-token', token.secret), tokenId, payload);
    const minted = await this.#x.ledgerFor(personKey).mintToken(tokenId, { grantId, issuedAt: now, expiresAt, sealed }, now);
    if (!minted.ok) return null;
    const grant = await this.#x.keeper.openGrant(credential.access, minted.version, minted.sealed);
    if (grant !== null) this.#x.keeper.remember(grant);
    const caller: TokenCaller = {
      tokenId,
      personKey,
      access: credential.access,
      expiresAt,
      credential: { clientId: record.clientId, name: record.name, user: record.user, createdAt: record.createdAt, expiresAt: record.expiresAt },
    };
    this.#x.memory.set(token.value, { kind: 'access-token', caller, checkedAt: now } satisfies Remembered);
    return { accessToken: token.value, expiresIn: Math.max(1, Math.floor((expiresAt - now) / 1000)) };
  }

  presents(presented: Presented): boolean {
    return presented.authorization !== undefined;
  }

  callerFromMemory(presented: Presented): Caller | undefined {
    const value = bearerToken(presented.authorization);
    const found = value === undefined ? undefined : this.remembered(value);
    return found === undefined ? undefined : { access: found.caller.access, grant: found.grant };
  }

  async callerFrom(presented: Presented): Promise<Caller | null> {
    const value = bearerToken(presented.authorization);
    const found = value === undefined ? null : await this.resolve(value);
    return found === null ? null : { access: found.caller.access, grant: found.grant };
  }

  /** What a bearer token speaks for, from the isolate's memory without waiting, when recent enough to trust; else undefined. */
  remembered(value: string): { caller: TokenCaller; grant: Grant } | undefined {
    const remembered = this.#x.memory.get(value) as Remembered | undefined;
    if (remembered?.kind !== 'access-token') return undefined;
    const now = this.#x.now();
    if (remembered.caller.expiresAt <= now || now - remembered.checkedAt >= LIVENESS_TTL_MS) return undefined;
    const grant = this.#x.keeper.remembered(remembered.caller.access.grantId);
    return grant === undefined ? undefined : { caller: remembered.caller, grant };
  }

  /**
   * The caller and live grant a bearer token speaks for, or null when it is unknown,
   * expired, ended, or its credential was revoked. A token the gateway did not mint is
   * refused before anything is read. Throws GrantUnavailableError when the ledger cannot be asked.
   */
  async resolve(value: string): Promise<{ caller: TokenCaller; grant: Grant } | null> {
    const now = this.#x.now();
    const remembered = this.#x.memory.get(value) as Remembered | undefined;
    if (remembered?.kind === 'access-token') {
      if (remembered.caller.expiresAt <= now) {
        this.#x.memory.delete(value);
        return null;
      }
      if (now - remembered.checkedAt < LIVENESS_TTL_MS) {
        const grant = this.#x.keeper.remembered(remembered.caller.access.grantId);
        if (grant !== undefined) return { caller: remembered.caller, grant };
      }
    }
    const token = this.#x.minter.parse('access-token', value);
    if (token === null || token.personKey === undefined) return null;
    return this.#check(value, token.personKey, token.secret, remembered?.caller);
  }

  /** Ends one token (the SDK's logout); the credential and its grant live on. */
  async end(value: string): Promise<boolean> {
    this.#x.memory.delete(value);
    const token = this.#x.minter.parse('access-token', value);
    if (token === null || token.personKey === undefined) return false;
    return this.#x.ledgerFor(token.personKey).endToken(hashFor('access-token', token.secret));
  }

  async #check(value: string, personKey: string, secret: Uint8Array, known: TokenCaller | undefined): Promise<{ caller: TokenCaller; grant: Grant } | null> {
    const now = this.#x.now();
    const tokenId = hashFor('access-token', secret);
    const knownGrant = known === undefined ? undefined : this.#x.keeper.remembered(known.access.grantId);
    let answer;
    try {
      answer = await this.#x.ledgerFor(personKey).checkToken(tokenId, knownGrant?.version ?? 0, now);
    } catch (error) {
      throw new GrantUnavailableError('The gateway could not confirm the token right now', { retryAfter: 1, cause: error });
    }
    if (!answer.alive) {
      this.#x.memory.delete(value);
      if (known !== undefined) this.#x.keeper.forget(known.access.grantId);
      return null;
    }
    const caller = known ?? (await this.#open(tokenId, personKey, secret, answer.grantId, answer.expiresAt, answer.payload));
    if (caller === null) return null;
    const grant = answer.sealed === null ? knownGrant : await this.#x.keeper.openGrant(caller.access, answer.version, answer.sealed);
    if (grant === undefined || grant === null) return null;
    this.#x.keeper.remember(grant);
    this.#x.memory.set(value, { kind: 'access-token', caller, checkedAt: now } satisfies Remembered);
    return { caller, grant };
  }

  async #open(tokenId: string, personKey: string, secret: Uint8Array, grantId: string, expiresAt: number, payload: string): Promise<TokenCaller | null> {
    const text = await open(await this.#x.sealer.keyFor('access-token', secret), tokenId, payload);
    const v = text === null ? undefined : parseJson(text);
    if (!isObject(v) || typeof v.grantKey !== 'string' || typeof v.clientId !== 'string' || typeof v.name !== 'string') return null;
    const user = parsePerson(v.user);
    if (user === null || typeof v.createdAt !== 'number' || typeof v.expiresAt !== 'number') return null;
    return {
      tokenId,
      personKey,
      access: { personKey, grantId, key: await importSealKey(decodeBase64(v.grantKey)) },
      expiresAt,
      credential: { clientId: v.clientId, name: v.name, user, createdAt: v.createdAt, expiresAt: v.expiresAt },
    };
  }
}

/** The token of `Authorization: Bearer <token>` or `token <token>`, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return /^(?:bearer|token)[ \t]+([^\s]+)[ \t]*$/i.exec(header)?.[1];
}
