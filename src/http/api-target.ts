/**
 * Where a /api/* request goes: always LOOKER_API_URL + a path under /api/, never
 * another host, never a path outside /api/, and never one of Looker's auth endpoints
 * however it is spelled.
 *
 * The path is judged as it arrived and forwarded byte for byte, so the path Looker sees
 * is the path the gateway judged. Whatever a server could read in more than one way is
 * refused (400) before any matching rather than "fixed": matrix parameters, a
 * percent-encoding nobody needs (of an unreserved character) or that hides structure
 * (slashes, backslashes, control characters, double encoding), empty and dot segments.
 * What remains is matched in its canonical form: decoded, case-folded, dot segments
 * resolved.
 */

import { allows, type GrantScope, requiredScope } from '../grants/scope.ts';

export type AuthEndpoint = 'token' | 'login' | 'logout';

export type ApiTarget =
  | { ok: true; url: string }
  | { ok: false; status: 400; reason: 'malformed-path'; message: string }
  | {
      ok: false;
      status: 404;
      reason: 'auth-endpoint';
      endpoint: AuthEndpoint;
      /** The exact method and spelling the gateway answers itself (an SDK login shim); every other spelling is refused. */
      gatewayAnswers: boolean;
      message: string;
    };

export type CanonicalPath = { ok: true; path: string } | { ok: false; problem: string };

/**
 * Refused as written, before any decoding, each with what to tell the caller. "?" and
 * "#" cannot be in a path split from its query; either would end it early and let a dot
 * segment before it climb.
 */
const LITERAL_PROBLEMS: [RegExp, string][] = [
  [/;/, "';' (matrix parameters) is not allowed"],
  [/\/\//, "empty segments ('//') are not allowed"],
  [/\\/, 'backslashes are not allowed'],
  [/[?#]/, "'?' and '#' are not allowed in the path"],
  [/[\u0000-\u001f\u007f]/, 'control characters are not allowed'],
  [/\/\.{1,2}(?:\/|$)/, "dot segments ('.' and '..') are not allowed"],
];

/** All of them in one expression: this runs on every proxied request. */
const AMBIGUOUS = new RegExp(LITERAL_PROBLEMS.map(([pattern]) => pattern.source).join('|'));

/** Only a path with an escape (or a character the URL parser would have escaped) needs decoding to be judged. */
const NEEDS_DECODING = /[%\u0080-\uffff]/;

/**
 * Looker's token, login and logout endpoints (login/{user_id} mints a token for another
 * user), under /api/ and /api/<version>/, with any suffix (".json", ";x", "/7"). Case-
 * insensitive, so it reads an undecoded ASCII path and a canonical one alike.
 */
const AUTH_ENDPOINT = /^\/api\/(?:[^/]+\/)?(login|logout|token)/i;

/** Exactly the spellings the gateway answers itself (an SDK login shim), method included. */
const GATEWAY_ANSWERED = new Set([
  'POST /api/4.0/login',
  'POST /api/3.1/login',
  'POST /api/login',
  'DELETE /api/4.0/logout',
  'DELETE /api/logout',
]);

/** `path` is the request's pathname as it arrived (still percent-encoded), `search` its query string with the "?". */
export function resolveApiTarget(method: string, path: string, search: string, lookerApiUrl: string): ApiTarget {
  if (!path.startsWith('/api/') || AMBIGUOUS.test(path)) return malformed(literalProblem(path) ?? 'it must start with /api/');
  let endpoint: AuthEndpoint | undefined;
  if (NEEDS_DECODING.test(path)) {
    const canonical = canonicalApiPath(path);
    if (!canonical.ok) return malformed(canonical.problem);
    endpoint = authEndpointOf(canonical.path);
  } else {
    // Plain ASCII without escapes: its canonical form differs only in case, which the expression ignores.
    endpoint = authEndpointOf(path);
  }
  if (endpoint !== undefined) {
    const gatewayAnswers = GATEWAY_ANSWERED.has(`${method} ${path}`);
    return {
      ok: false,
      status: 404,
      reason: 'auth-endpoint',
      endpoint,
      gatewayAnswers,
      message: gatewayAnswers
        ? "Looker's sign-in endpoints are not available through the gateway: sign in at login_url and sign out at logout_url (POST)."
        : `This spelling of Looker's ${endpoint} endpoint is never forwarded to Looker: sign in at login_url and sign out at logout_url (POST).`,
    };
  }
  // LOOKER_API_URL is an absolute URL without query, fragment or trailing slash (config.ts),
  // and the path starts with one "/" and holds nothing above: appending cannot change the
  // host or climb out of /api/ (test/proxy-target.test.ts checks this against the URL parser).
  return { ok: true, url: `${lookerApiUrl}${path}${search}` };
}

/**
 * The path as a server that decodes, folds case and resolves segments would read it:
 * percent-decoded once; Unicode-normalised (NFKC) and case-folded through upper case
 * then lower case, so that what Java's equalsIgnoreCase or Unicode case folding equate
 * with ASCII ("K" Kelvin sign, dotless "ı", full-width letters) compares equal too;
 * matrix parameters a decoded ";" starts and empty segments dropped; dot segments
 * resolved. Or why the path is ambiguous and must be refused: then no reading is safe.
 */
export function canonicalApiPath(path: string): CanonicalPath {
  const literal = literalProblem(path);
  if (literal !== undefined) return { ok: false, problem: literal };
  const escape = escapeProblem(path);
  if (escape !== undefined) return { ok: false, problem: escape };
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return { ok: false, problem: 'percent-encoded bytes that are not UTF-8 are not allowed' };
  }
  // C1 controls are escapes of two bytes each, which escapeProblem does not look at.
  if (/[\u0080-\u009f]/.test(decoded)) return { ok: false, problem: 'encoded control characters are not allowed' };
  const folded = decoded.normalize('NFKC').toUpperCase().toLowerCase();
  const segments: string[] = [];
  for (const raw of folded.split('/')) {
    const segment = raw.replace(/;.*/, '');
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const canonical = `/${segments.join('/')}`;
  if (canonical !== '/api' && !canonical.startsWith('/api/')) return { ok: false, problem: 'it reads as a path outside /api/' };
  return { ok: true, path: canonical };
}

/**
 * The canonical form of a path resolveApiTarget accepted (so it is not ambiguous): a plain
 * ASCII one without escapes differs from its canonical form only in case.
 */
export function canonicalAcceptedPath(path: string): string {
  if (!NEEDS_DECODING.test(path)) return path.toLowerCase();
  const canonical = canonicalApiPath(path);
  // Unreachable for an accepted path; should it ever happen, judge the raw path, lower-cased (SQL Runner still matches).
  return canonical.ok ? canonical.path : path.toLowerCase();
}

/** Which of Looker's auth endpoints a canonical path (or an undecoded ASCII one) names, if any. */
export function authEndpointOf(canonicalPath: string): AuthEndpoint | undefined {
  // The expression captures nothing but these three names, in any case.
  return AUTH_ENDPOINT.exec(canonicalPath)?.[1]?.toLowerCase() as AuthEndpoint | undefined;
}

function malformed(problem: string): ApiTarget {
  return { ok: false, status: 400, reason: 'malformed-path', message: `The API path is ambiguous: ${problem}.` };
}

function literalProblem(path: string): string | undefined {
  if (!path.startsWith('/api/')) return 'it must start with /api/';
  return LITERAL_PROBLEMS.find(([pattern]) => pattern.test(path))?.[1];
}

const HEX = /^[0-9a-f]{2}$/i;

/** What is wrong with the path's escapes, one byte at a time (multi-byte UTF-8 is judged after decoding). */
function escapeProblem(path: string): string | undefined {
  for (let at = path.indexOf('%'); at !== -1; at = path.indexOf('%', at + 1)) {
    const digits = path.slice(at + 1, at + 3);
    if (!HEX.test(digits)) return "a '%' must start a percent-encoding (%XX)";
    const byte = Number.parseInt(digits, 16);
    if (isUnreserved(byte)) return 'a percent-encoded unreserved character (letters, digits, - . _ ~) is not allowed: write it as it is';
    if (byte === 0x2f || byte === 0x5c) return 'an encoded slash or backslash (%2F, %5C) is not allowed';
    if (byte < 0x20 || byte === 0x7f) return 'encoded control characters are not allowed';
    if (byte === 0x25 && HEX.test(path.slice(at + 3, at + 5))) return 'double encoding (%25 followed by two hex digits) is not allowed';
  }
  return undefined;
}

function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    byte === 0x2d || // -
    byte === 0x2e || // .
    byte === 0x5f || // _
    byte === 0x7e // ~
  );
}

/**
 * Whether a grant of this scope may make a call the gateway makes for it (an agent's
 * tools): `path` is under /api/4.0, with any query, judged on its canonical form as
 * /api/* judges a person's calls; a path that has no unambiguous reading is not allowed.
 */
export function allowsApiCall(granted: GrantScope, method: string, path: string): boolean {
  const canonical = canonicalApiPath(`/api/4.0${path.split('?')[0] ?? path}`);
  return canonical.ok && allows(granted, requiredScope(method.toUpperCase(), canonical.path));
}
