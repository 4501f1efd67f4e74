/**
 * The gateway's two cookies. Both are HttpOnly, SameSite=Lax and Path=/; where the
 * gateway's origin allows it (https, or http on localhost, which browsers treat as
 * secure) they are Secure with the __Host- prefix, which pins them to this host.
 */
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { isLoopbackHost } from '../config.ts';
import { LOGIN_TTL_SECONDS, SESSION_TTL_SECONDS } from './store.ts';

export const SESSION_COOKIE = 'lgw_session';
export const LOGIN_COOKIE = 'lgw_login';

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

  readLogin(c: Context): string | undefined {
    return this.#read(c, LOGIN_COOKIE);
  }
  setLogin(c: Context, value: string): void {
    setCookie(c, LOGIN_COOKIE, value, this.#options(LOGIN_TTL_SECONDS));
  }
  clearLogin(c: Context): void {
    this.#clear(c, LOGIN_COOKIE);
  }
}
