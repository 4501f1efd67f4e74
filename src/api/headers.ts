/**
 * Header policy of the API proxy, both ways.
 *
 * To Looker, by allow-list: what describes the request's content and what the caller
 * accepts (accept*, content-type, content-length, conditionals, range, user-agent,
 * x-looker-*), the session's bearer token, and the gateway's id for this request. Nothing
 * else: a deny-list let routing overrides (X-Original-URL, X-HTTP-Method-Override),
 * forwarding claims (X-Forwarded-Host, Client-IP, Via) and whatever comes next reach
 * Looker and whatever sits in front of it. An allowed header that Connection names is
 * hop-by-hop for this request and dropped too.
 *
 * To the caller: status and body as Looker sent them; dropped are hop-by-hop headers
 * (and any Connection names), and what would act on the gateway's origin rather than
 * describe the answer: Set-Cookie, Clear-Site-Data (could wipe the gateway's cookies),
 * Refresh (a redirect anywhere), and Looker's own CORS headers (the gateway answers CORS
 * itself).
 */

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

const REQUEST_ALLOWED = new Set([
  'accept',
  'accept-encoding',
  'accept-language',
  'content-type',
  'content-length',
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
  'if-range',
  'range',
  'user-agent',
]);
const REQUEST_ALLOWED_PREFIX = 'x-looker-';

const RESPONSE_DROPPED = new Set([...HOP_BY_HOP, 'set-cookie', 'set-cookie2', 'clear-site-data', 'refresh']);
const RESPONSE_DROPPED_PREFIX = 'access-control-';

/** Header names and values, ready to hand to fetch or a Response (which copy them once, natively). */
export type HeaderRecord = Record<string, string>;

/**
 * The headers `keep` accepts, minus whatever Connection names, as a plain record: one
 * walk over the runtime's list, no Headers object built in JS (each call into workerd's
 * Headers costs more than the JS around it). The runtime combines repeated names into
 * one value as it lists them, so nothing is lost.
 */
function filterHeaders(headers: Headers, keep: (name: string) => boolean): HeaderRecord {
  // No prototype: a header named __proto__ is just a header.
  const out: HeaderRecord = Object.create(null);
  let connectionNamed: string | undefined;
  headers.forEach((value, name) => {
    if (name === 'connection') connectionNamed = value;
    else if (keep(name)) out[name] = value;
  });
  if (connectionNamed !== undefined) {
    for (const name of connectionNamed.split(',')) delete out[name.trim().toLowerCase()];
  }
  return out;
}

const requestKeeps = (name: string) => REQUEST_ALLOWED.has(name) || name.startsWith(REQUEST_ALLOWED_PREFIX);
const responseKeeps = (name: string) => !RESPONSE_DROPPED.has(name) && !name.startsWith(RESPONSE_DROPPED_PREFIX);

/** `requestId` is the gateway's id for this request (the caller's when well formed), so Looker's logs can be correlated with the gateway's. */
export function upstreamRequestHeaders(incoming: Headers, accessToken: string, requestId: string): HeaderRecord {
  const out = filterHeaders(incoming, requestKeeps);
  out.authorization = `Bearer ${accessToken}`;
  out['x-request-id'] = requestId;
  return out;
}

export function downstreamResponseHeaders(
  upstream: Headers,
  options: { lookerApiUrl: string; gatewayOrigin: string },
): HeaderRecord {
  const out = filterHeaders(upstream, responseKeeps);
  // The runtime decodes compressed bodies from fetch and re-encodes on the way out, so a
  // compressed length no longer describes the body: let the runtime frame it.
  if (out['content-encoding'] !== undefined) delete out['content-length'];
  // A redirect to another API path at Looker stays on the gateway.
  const location = out.location;
  if (location !== undefined && location.startsWith(`${options.lookerApiUrl}/api/`)) {
    out.location = `${options.gatewayOrigin}${location.slice(options.lookerApiUrl.length)}`;
  }
  return out;
}
