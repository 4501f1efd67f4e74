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

export function resolveApiTarget(requestUrl: URL, lookerApiUrl: string): ApiTarget {
  const path = requestUrl.pathname;
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
  const base = new URL(lookerApiUrl);
  const url = `${lookerApiUrl}${path}${requestUrl.search}`;
  const target = new URL(url);
  const basePath = base.pathname.replace(/\/+$/, '');
  if (target.origin !== base.origin || !target.pathname.startsWith(`${basePath}/api/`)) {
    return { ok: false, status: 400, reason: 'malformed-path', message: 'The API path does not resolve under the Looker API.' };
  }
  return { ok: true, url };
}
