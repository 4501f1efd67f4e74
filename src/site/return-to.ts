/**
 * Where to send a person after sign-in. Only a path on the gateway itself; anything
 * that could leave the site (protocol-relative, backslashes, encoded slashes, control
 * characters, other schemes, userinfo, dot segments that normalise to `//`) becomes "/".
 */

const MAX_LENGTH = 2048;
/** Paths that would loop back into the sign-in flow. */
const FLOW_PATHS = new Set(['/login', '/callback', '/logout']);

export function safeReturnTo(raw: string | undefined, gatewayOrigin: string): string {
  if (raw === undefined || raw === '' || raw.length > MAX_LENGTH) return '/';
  if (!raw.startsWith('/') || raw.startsWith('//')) return '/';
  if (hasForbiddenCharacters(raw)) return '/';

  // Percent-decoding the path must not reveal anything that would be refused in the clear.
  let decoded = raw.split(/[?#]/, 1)[0]!;
  for (let i = 0; i < 3; i++) {
    let next: string;
    try {
      next = decodeURIComponent(decoded);
    } catch {
      return '/';
    }
    if (next === decoded) break;
    decoded = next;
  }
  if (hasForbiddenCharacters(decoded) || decoded.includes('//')) return '/';

  let url: URL;
  try {
    url = new URL(raw, gatewayOrigin);
  } catch {
    return '/';
  }
  if (url.origin !== gatewayOrigin || url.username !== '' || url.password !== '') return '/';
  if (url.pathname.startsWith('//') || url.pathname.includes('\\')) return '/';
  if (FLOW_PATHS.has(url.pathname)) return '/';
  return `${url.pathname}${url.search}${url.hash}`;
}

function hasForbiddenCharacters(value: string): boolean {
  // Control characters (browsers strip tabs and newlines, turning "/\t/evil" into "//evil"),
  // backslashes (browsers read "/\evil" as "//evil"), and spaces.
  return /[\u0000-\u0020\u007f-\u009f\\\u2028\u2029]/.test(value);
}
