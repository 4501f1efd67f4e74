/**
 * A Looker grant: the tokens one caller (a browser session or a script credential) holds,
 * and the facts needed to keep them fresh. Plain data and its (de)serialisation; nothing
 * here stores, seals or fetches.
 */

import type { LookerUser } from '../looker/api.ts';
import type { GrantKind } from './ledger.ts';
import type { GrantScope } from './scope.ts';

export interface LookerTokens {
  accessToken: string;
  /** Epoch milliseconds. */
  accessTokenExpiresAt: number;
  /** Null when Looker gave none: the grant then ends with its access token. */
  refreshToken: string | null;
}

export interface Grant {
  /** Random, public within the gateway (it names the grant in its person's Durable Object). */
  id: string;
  /** The opaque key of the Looker person it belongs to (names their Durable Object). */
  personKey: string;
  kind: GrantKind;
  /**
   * What it may do at Looker (src/grants/scope.ts), sealed with its tokens so that only its
   * holder's key vouches for it. A grant sealed before scopes existed reads as 'write'.
   */
  scope: GrantScope;
  /** Grows by one with every refresh; the Durable Object holds the latest. */
  version: number;
  tokens: LookerTokens;
  /** The redirect_uri of the authorization; Looker wants it again on refresh. */
  redirectUri: string;
  createdAt: number;
  /** Epoch milliseconds after which the grant is over (the refresh token's lifetime, or the credential's expiry). */
  expiresAt: number;
}


/** Additional data a sealed grant is bound to: its id and version, so an old copy cannot pass as a newer one. */
export function grantStorageKey(grantId: string, version: number): string {
  return `grant:${grantId}:v${version}`;
}

export function serializeGrant(grant: Grant): string {
  return JSON.stringify({ kind: grant.kind, scope: grant.scope, tokens: grant.tokens, redirectUri: grant.redirectUri, createdAt: grant.createdAt, expiresAt: grant.expiresAt });
}

/** The grant a sealed value held, or null when it is not one. */
export function parseGrant(text: string, id: string, personKey: string, version: number): Grant | null {
  const v = parseJson(text);
  if (!isObject(v) || !isObject(v.tokens)) return null;
  const t = v.tokens;
  if (
    typeof t.accessToken !== 'string' ||
    typeof t.accessTokenExpiresAt !== 'number' ||
    !(typeof t.refreshToken === 'string' || t.refreshToken === null) ||
    typeof v.redirectUri !== 'string' ||
    typeof v.createdAt !== 'number' ||
    typeof v.expiresAt !== 'number' ||
    (v.kind !== 'session' && v.kind !== 'credential' && v.kind !== 'agent') ||
    !(v.scope === undefined || v.scope === 'read' || v.scope === 'write')
  ) {
    return null;
  }
  return {
    id,
    personKey,
    kind: v.kind,
    // Sealed before grants had a scope: made as a full grant, and it stays one.
    scope: v.scope ?? 'write',
    version,
    tokens: { accessToken: t.accessToken, accessTokenExpiresAt: t.accessTokenExpiresAt, refreshToken: t.refreshToken },
    redirectUri: v.redirectUri,
    createdAt: v.createdAt,
    expiresAt: v.expiresAt,
  };
}

export function parsePerson(value: unknown): LookerUser | null {
  if (!isObject(value) || typeof value.id !== 'string' || typeof value.displayName !== 'string') return null;
  if (!(typeof value.email === 'string' || value.email === null)) return null;
  return { id: value.id, displayName: value.displayName, email: value.email };
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
