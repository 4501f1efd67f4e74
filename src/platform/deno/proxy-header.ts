/**
 * TRUSTED_PROXY_HEADER: the header a reverse proxy in front of the Deno server sets to the
 * client's address. Judged once at start (by the server and by `npm run doctor`), so that
 * a name no request could carry fails the configuration instead of every request.
 */

/** RFC 9110 field-name: a token. */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Headers a client writes itself: naming one would let anyone choose the address they are counted by. */
const CLIENT_WRITTEN = new Set(['host', 'origin', 'referer', 'user-agent', 'cookie', 'authorization', 'content-type', 'content-length']);

/** What is wrong with this value of TRUSTED_PROXY_HEADER, if anything (unset is fine: the connection's address counts). */
export function trustedProxyHeaderProblem(value: string | undefined): string | undefined {
  const name = value?.trim().toLowerCase() ?? '';
  if (name === '') return undefined;
  if (!FIELD_NAME.test(name)) return `is not a header name (${JSON.stringify(value!.trim().slice(0, 40))}): use the header your reverse proxy sets to the client's address, e.g. x-forwarded-for`;
  if (CLIENT_WRITTEN.has(name)) return `names ${name}, a header every client writes itself: use the header your reverse proxy sets to the client's address, e.g. x-forwarded-for`;
  return undefined;
}
