/**
 * A sign-in in progress, between sending the browser to Looker and Looker's answer on
 * /callback. It lives only in its own short-lived cookie, sealed: nothing is stored for a
 * visitor who has not signed in yet (a loop of anonymous requests to /login costs no
 * storage). The cookie is named after the OAuth state and sealed under a key derived from
 * SESSION_SECRET and that state, so it opens only with the state Looker sends back.
 * Replaying it needs the HttpOnly cookie itself, and Looker's code is single use.
 */
import type { Context } from 'hono';
import { open, seal, type Sealer } from '../crypto/seal.ts';
import { isObject, parseJson } from '../grants/record.ts';
import { cookies, LOGIN_TTL_SECONDS } from './cookies.ts';
import type { GrantScope } from '../grants/scope.ts';
import type { CredentialFlow } from './credential-flows.ts';

/** What the sign-in is for: this browser's session, or a script credential's own grant. */
export type SignInPurpose =
  | { kind: 'session'; returnTo: string }
  /** `scope` absent in a sign-in begun before scopes: 'write'. */
  | { kind: 'credential'; name: string; scope?: GrantScope; flow: CredentialFlow };

export interface PendingSignIn {
  state: string;
  codeVerifier: string;
  redirectUri: string;
  createdAt: number;
  purpose: SignInPurpose;
}

/** A sign-in whose cookie a browser would not keep. */
export class SignInTooLargeError extends Error {
  constructor() {
    super('The sign-in is too large for its cookie');
    this.name = 'SignInTooLargeError';
  }
}

export class SignIns {
  readonly #sealer: Sealer;
  readonly #now: () => number;

  constructor(sealer: Sealer, now: () => number) {
    this.#sealer = sealer;
    this.#now = now;
  }

  /**
   * Remembers a sign-in in its cookie. Throws SignInTooLargeError, setting nothing, when
   * the cookie would be too large for a browser to keep (an AI agent's request carries
   * its client_id, redirect_uri and state): the browser would drop it silently and the
   * sign-in fail at /callback.
   */
  async begin(c: Context, pending: Omit<PendingSignIn, 'createdAt'>): Promise<void> {
    const name = cookies.loginCookieName(pending.state);
    const key = await this.#sealer.keyFor('login', new TextEncoder().encode(pending.state));
    const value = await seal(key, name, JSON.stringify({ ...pending, createdAt: this.#now() }));
    if (!cookies.fits(name, value)) throw new SignInTooLargeError();
    cookies.setLogin(c, pending.state, value);
  }

  /**
   * The sign-in that sent Looker `state`, its cookie cleared (single use). Null when this
   * browser has no cookie for that state, or it does not open, or it is too old.
   */
  async take(c: Context, state: string): Promise<{ pending: PendingSignIn | null; hadCookie: boolean }> {
    const cookie = state === '' ? undefined : cookies.takeLogin(c, state);
    if (cookie === undefined) return { pending: null, hadCookie: false };
    const key = await this.#sealer.keyFor('login', new TextEncoder().encode(state));
    const text = await open(key, cookie.name, cookie.value);
    const pending = text === null ? null : parsePending(text);
    if (pending === null || pending.state !== state || this.#now() - pending.createdAt > LOGIN_TTL_SECONDS * 1000) {
      return { pending: null, hadCookie: true };
    }
    return { pending, hadCookie: true };
  }
}

function parsePending(text: string): PendingSignIn | null {
  const v = parseJson(text);
  if (
    !isObject(v) ||
    typeof v.state !== 'string' ||
    typeof v.codeVerifier !== 'string' ||
    typeof v.redirectUri !== 'string' ||
    typeof v.createdAt !== 'number' ||
    !isObject(v.purpose)
  ) {
    return null;
  }
  // The value was sealed by this gateway: its shape is ours; only its kind needs telling apart.
  const purpose = v.purpose as SignInPurpose;
  if (purpose.kind !== 'session' && purpose.kind !== 'credential') return null;
  return { state: v.state, codeVerifier: v.codeVerifier, redirectUri: v.redirectUri, createdAt: v.createdAt, purpose };
}
