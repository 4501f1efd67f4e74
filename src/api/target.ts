/**
 * Where a /api/* request goes: always LOOKER_API_URL + a path under /api/, never
 * another host and never a path outside /api/. The runtime's URL parser has already
 * resolved dot segments (including %2e%2e); what is left that could smuggle a
 * different path is refused here rather than "fixed".
 */

export type ApiTarget =
  | { ok: true; url: string }
  | { ok: false; status: 400 | 404; message: string; reason: 'malformed-path' | 'auth-endpoint' };

/**
 * What could make the path mean something else once parsed again: empty segments ("//"),
 * backslashes, control characters, "?" and "#" (the path has neither once split from its
 * query; either would end the path early and let a dot segment before it climb), encoded
 * slashes, backslashes, dots and NULs, and dot segments. One expression: this runs on
 * every proxied request.
 */
const SMUGGLING = /\/\/|[\\?#\u0000-\u001f\u007f]|%(?:2f|5c|2e|00)|\/\.{1,2}(?:\/|$)/i;

/** Looker's own sign-in endpoints: the gateway does sign-in itself (/login, /logout). */
const AUTH_ENDPOINT = /^\/api\/(?:[^/]+\/)?(?:login|logout|token)(?:\/|$)/i;

/** `path` is the request's (already normalised) pathname, `search` its query string with the "?". */
export function resolveApiTarget(path: string, search: string, lookerApiUrl: string): ApiTarget {
  if (!path.startsWith('/api/') || SMUGGLING.test(path)) {
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
  // LOOKER_API_URL is an absolute URL without query, fragment or trailing slash (config.ts),
  // and the path starts with one "/" and holds nothing above: appending cannot change the
  // host or climb out of /api/ (test/proxy-target.test.ts checks this against the URL parser).
  return { ok: true, url: `${lookerApiUrl}${path}${search}` };
}
