/**
 * The gateway's cookies: the session, and one per sign-in in progress. All are HttpOnly,
 * SameSite=Lax and Path=/; where the gateway's origin allows it (https, or http on
 * localhost, which browsers treat as secure) they are Secure with the __Host- prefix,
 * which pins them to this host.
 *
 * A sign-in's cookie is named after its OAuth state (`lgw_login_<id>`, the id a hash of
 * the state), so sign-ins started in several tabs at once do not overwrite each other:
 * the callback reads the cookie of the state Looker sends back. A browser holds at most
 * MAX_PENDING_LOGINS of them; starting another drops the oldest.
 */
import { sha256 } from '@oslojs/crypto/sha2';
import { encodeBase64urlNoPadding } from '@oslojs/encoding';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { isLoopbackHost } from '../config.ts';
import { LOGIN_TTL_SECONDS, SESSION_TTL_SECONDS } from './store.ts';

export const SESSION_COOKIE = 'lgw_session';
const LOGIN_COOKIE_PREFIX = 'lgw_login_';
const HOST_PREFIX = '__Host-';
/** Sign-ins one browser may have in progress at once (each is a cookie sent with every request). */
export const MAX_PENDING_LOGINS = 5;

/** `lgw_login_` + 72 bits of SHA-256(state), base64url: a cookie name that only this state leads to. */
function loginCookieName(state: string): string {
  return LOGIN_COOKIE_PREFIX + encodeBase64urlNoPadding(sha256(new TextEncoder().encode(state))).slice(0, 12);
}

/** https, or http on localhost (which browsers treat as secure). */
export function canUseHostPrefix(origin: string): boolean {
  const url = new URL(origin);
  return url.protocol === 'https:' || isLoopbackHost(url.hostname);
}

export class Cookies {
  readonly #secure: boolean;

  constructor(gatewayOrigin: string) {
    this.#secure = canUseHostPrefix(gatewayOrigin);
  }

  #options(maxAge: number) {
    return this.#secure
      ? ({ prefix: 'host', secure: true, httpOnly: true, sameSite: 'Lax', path: '/', maxAge } as const)
      : ({ httpOnly: true, sameSite: 'Lax', path: '/', maxAge } as const);
  }

  #read(c: Context, name: string): string | undefined {
    return this.#secure ? getCookie(c, name, 'host') : getCookie(c, name);
  }

  #clear(c: Context, name: string): void {
    if (this.#secure) deleteCookie(c, name, { prefix: 'host', secure: true, path: '/' });
    else deleteCookie(c, name, { path: '/' });
  }

  readSession(c: Context): string | undefined {
    return this.#read(c, SESSION_COOKIE);
  }
  setSession(c: Context, value: string): void {
    setCookie(c, SESSION_COOKIE, value, this.#options(SESSION_TTL_SECONDS));
  }
  clearSession(c: Context): void {
    this.#clear(c, SESSION_COOKIE);
  }

  /** The login cookie of the sign-in that sent Looker `state`, cleared on the answer if the request carried it (single use). */
  takeLogin(c: Context, state: string): string | undefined {
    const name = loginCookieName(state);
    const value = this.#read(c, name);
    if (value !== undefined) this.#clear(c, name);
    return value;
  }
  /** Sets the cookie of a new sign-in, first dropping the oldest ones beyond MAX_PENDING_LOGINS. */
  setLogin(c: Context, state: string, value: string): void {
    const pending = this.#pendingLoginNames(c);
    // Browsers send cookies of one path oldest first (RFC 6265 §5.4).
    for (const name of pending.slice(0, Math.max(0, pending.length - (MAX_PENDING_LOGINS - 1)))) this.#clear(c, name);
    setCookie(c, loginCookieName(state), value, this.#options(LOGIN_TTL_SECONDS));
  }

  /** Names (without the __Host- prefix) of the login cookies the request carries, in the order sent. */
  #pendingLoginNames(c: Context): string[] {
    const sent = Object.keys(getCookie(c));
    const prefix = this.#secure ? HOST_PREFIX + LOGIN_COOKIE_PREFIX : LOGIN_COOKIE_PREFIX;
    return sent.filter((name) => name.startsWith(prefix)).map((name) => (this.#secure ? name.slice(HOST_PREFIX.length) : name));
  }
}
