/**
 * Where an authorization server may send a person back with a code (OAuth 2.1 §2.3.1,
 * RFC 8252 §7.3 and §8.3): an https URL, or plain http on this computer's loopback only.
 * Never a fragment or userinfo. A presented redirect_uri must be one the client
 * registered, character for character, except that the port of an http loopback one may
 * differ (a native app listens on whichever port it gets).
 */

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
/** Longer than any real callback URL; a registration carries at most MAX_REDIRECT_URIS of them. */
export const MAX_REDIRECT_URI_LENGTH = 2000;
export const MAX_REDIRECT_URIS = 10;

/** Why a redirect URI is refused, or null when it may be registered. */
export function redirectUriProblem(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw === '') return 'a redirect URI must be a non-empty string';
  if (raw.length > MAX_REDIRECT_URI_LENGTH) return `a redirect URI must be at most ${MAX_REDIRECT_URI_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'a redirect URI must be an absolute URL';
  }
  if (raw.includes('#')) return 'a redirect URI must not have a fragment';
  if (url.username !== '' || url.password !== '') return 'a redirect URI must not carry a user name or password';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return null;
  return 'a redirect URI must use https, or http on a loopback address (127.0.0.1, [::1], localhost)';
}

function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

/** The registered redirect URI `presented` names (exact, or an http loopback one on another port), or null. */
export function matchRedirectUri(registered: readonly string[], presented: string | undefined): string | null {
  if (presented === undefined || redirectUriProblem(presented) !== null) return null;
  if (registered.includes(presented)) return presented;
  const asked = new URL(presented);
  if (!isLoopbackHttp(asked)) return null;
  for (const candidate of registered) {
    const url = new URL(candidate);
    if (!isLoopbackHttp(url)) continue;
    url.port = asked.port;
    // Compared as written, with only the port put in: the path, query and host stay exact.
    if (url.href === asked.href && presented === asked.href) return presented;
  }
  return null;
}

/** The host a redirect URI leads to, as a person reads it ("claude.ai", "127.0.0.1:33418"). */
export function redirectHostOf(redirectUri: string): string {
  return new URL(redirectUri).host;
}
