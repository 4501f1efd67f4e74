/**
 * Where a /api/* request goes: always LOOKER_API_URL + a path under /api/, never
 * another host and never a path outside /api/. The runtime's URL parser has already
 * resolved dot segments (including %2e%2e); what is left that could smuggle a
 * different path is refused here rather than "fixed".
 */

export type ApiTarget =
  | { ok: true; url: string }
  | { ok: false; status: 400 | 404; message: string; reason: 'malformed-path' | 'auth-endpoint' };

/** Looker's own sign-in endpoints: the gateway does sign-in itself (/login, /logout). */
const AUTH_ENDPOINT = /^\/api\/(?:[^/]+\/)?(?:login|logout|token)(?:\/|$)/i;

/** The parts of LOOKER_API_URL the check needs, parsed once per value. */
const bases = new Map<string, { origin: string; path: string }>();
function baseOf(lookerApiUrl: string) {
  let base = bases.get(lookerApiUrl);
  if (base === undefined) {
    const url = new URL(lookerApiUrl);
    base = { origin: url.origin, path: url.pathname.replace(/\/+$/, '') };
    if (bases.size < 10) bases.set(lookerApiUrl, base);
  }
  return base;
}

/** `path` is the request's (already normalised) pathname, `search` its query string with the "?". */
export function resolveApiTarget(path: string, search: string, lookerApiUrl: string): ApiTarget {
  if (
    !path.startsWith('/api/') ||
    path.includes('//') ||
    /[\\\u0000-\u001f\u007f]/.test(path) ||
    /%(?:2f|5c|2e|00)/i.test(path) ||
    /\/\.{1,2}(?:\/|$)/.test(path)
  ) {
    return {
      ok: false,
      status: 400,
      reason: 'malformed-path',
      message: 'The API path is malformed: empty segments, dot segments and encoded slashes, backslashes or dots are not allowed.',
    };
  }
  if (AUTH_ENDPOINT.test(path)) {
    return {
      ok: false,
      status: 404,
      reason: 'auth-endpoint',
      message: "Looker's sign-in endpoints are not available through the gateway: sign in at login_url and sign out at logout_url (POST).",
    };
  }
  const base = baseOf(lookerApiUrl);
  const url = `${lookerApiUrl}${path}${search}`;
  // Defence in depth: the URL as fetch will read it must still be under the API base.
  const target = new URL(url);
  if (target.origin !== base.origin || !target.pathname.startsWith(`${base.path}/api/`)) {
    return { ok: false, status: 400, reason: 'malformed-path', message: 'The API path does not resolve under the Looker API.' };
  }
  return { ok: true, url };
}
