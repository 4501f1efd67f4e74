/**
 * The gateway's cookies: the session, one per sign-in in progress, and one per consent
 * in progress. All are HttpOnly, Secure, SameSite=Lax, Path=/, with the __Host- prefix,
 * which pins them to this host (plain http is served only on localhost, which browsers
 * treat as secure).
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
import { parse } from 'hono/utils/cookie';

export const SESSION_COOKIE = 'lgw_session';
const LOGIN_COOKIE_PREFIX = 'lgw_login_';
const CONSENT_COOKIE_PREFIX = 'lgw_consent_';
const HOST_PREFIX = '__Host-';
/** The most a browser keeps of one cookie's name and value together (RFC 6265 §6.1's least limit; Chrome's and Firefox's). */
const MAX_COOKIE_BYTES = 4096;
/** Sign-ins one browser may have in progress at once (each is a cookie sent with every request). */
export const MAX_PENDING_LOGINS = 5;
/** How long a sign-in, or a consent, may take. */
export const LOGIN_TTL_SECONDS = 600;
/** A browser session lasts this long from sign-in (Looker documents refresh tokens as living about a month). */
export const SESSION_TTL_SECONDS = 30 * 24 * 3600;

/** `lgw_login_` + 72 bits of SHA-256(state), base64url: a cookie name that only this state leads to. */
function loginCookieName(state: string): string {
  return LOGIN_COOKIE_PREFIX + encodeBase64urlNoPadding(sha256(new TextEncoder().encode(state))).slice(0, 12);
}

function options(maxAge: number) {
  return { prefix: 'host', secure: true, httpOnly: true, sameSite: 'Lax', path: '/', maxAge } as const;
}

function read(c: Context, name: string): string | undefined {
  return getCookie(c, name, 'host');
}

function clear(c: Context, name: string): void {
  deleteCookie(c, name, { prefix: 'host', secure: true, path: '/' });
}

const SESSION_COOKIE_NAME = HOST_PREFIX + SESSION_COOKIE;

export const cookies = {
  readSession: (c: Context): string | undefined => read(c, SESSION_COOKIE),
  /** The session cookie from a Cookie header the caller already read (the API reads all headers in one walk). */
  sessionFromHeader: (header: string | undefined): string | undefined =>
    header === undefined ? undefined : parse(header, SESSION_COOKIE_NAME)[SESSION_COOKIE_NAME],
  setSession: (c: Context, value: string): void => setCookie(c, SESSION_COOKIE, value, options(SESSION_TTL_SECONDS)),
  clearSession: (c: Context): void => clear(c, SESSION_COOKIE),

  /** The login cookie of the sign-in that sent Looker `state`, cleared on the answer if the request carried it (single use). */
  takeLogin(c: Context, state: string): { name: string; value: string } | undefined {
    const name = loginCookieName(state);
    const value = read(c, name);
    if (value === undefined) return undefined;
    clear(c, name);
    return { name, value };
  },

  /** Sets the cookie of a new sign-in, first dropping the oldest ones beyond MAX_PENDING_LOGINS. Returns its name. */
  setLogin(c: Context, state: string, value: string): string {
    const pending = pendingNames(c, LOGIN_COOKIE_PREFIX);
    // Browsers send cookies of one path oldest first (RFC 6265 §5.4).
    for (const name of pending.slice(0, Math.max(0, pending.length - (MAX_PENDING_LOGINS - 1)))) clear(c, name);
    const name = loginCookieName(state);
    setCookie(c, name, value, options(LOGIN_TTL_SECONDS));
    return name;
  },

  /** The name a sign-in's login cookie has (to bind its sealed value to it). */
  loginCookieName,

  /** Whether a browser keeps this cookie: name and value at most MAX_COOKIE_BYTES (RFC 6265 §6.1; larger ones are dropped silently). */
  fits: (name: string, value: string): boolean => new TextEncoder().encode(`${HOST_PREFIX}${name}=${value}`).byteLength <= MAX_COOKIE_BYTES,

  readConsent: (c: Context, id: string): string | undefined => read(c, CONSENT_COOKIE_PREFIX + id),
  setConsent: (c: Context, id: string, value: string): void => setCookie(c, CONSENT_COOKIE_PREFIX + id, value, options(LOGIN_TTL_SECONDS)),
  clearConsent: (c: Context, id: string): void => clear(c, CONSENT_COOKIE_PREFIX + id),
};

/** Names (without the __Host- prefix) of the cookies with this prefix that the request carries, in the order sent. */
function pendingNames(c: Context, prefix: string): string[] {
  return Object.keys(getCookie(c))
    .filter((name) => name.startsWith(HOST_PREFIX + prefix))
    .map((name) => name.slice(HOST_PREFIX.length));
}
