/**
 * Header policy of the API proxy, both ways.
 *
 * To Looker: end-to-end headers pass (content-type, accept, accept-encoding, range,
 * if-none-match, user-agent, x-looker-*, …). Removed: hop-by-hop headers (and any the
 * Connection header names), Host, the gateway's cookies, the caller's Authorization
 * (replaced by the session's bearer token), and what describes the caller's relation to
 * the gateway rather than to Looker (Origin, Referer, Sec-Fetch-*, Cloudflare's cf-* and
 * forwarding headers).
 *
 * To the caller: status and body as Looker sent them; Set-Cookie, hop-by-hop headers and
 * Looker's own CORS headers are dropped (the gateway answers CORS itself).
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

const REQUEST_DROPPED = new Set([
  ...HOP_BY_HOP,
  'host',
  'cookie',
  'authorization',
  'origin',
  'referer',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
  'true-client-ip',
]);
const REQUEST_DROPPED_PREFIXES = ['sec-fetch-', 'cf-'];

const RESPONSE_DROPPED = new Set([...HOP_BY_HOP, 'set-cookie', 'set-cookie2']);
const RESPONSE_DROPPED_PREFIXES = ['access-control-'];

/** Header names and values, ready to hand to fetch or a Response (which copy them once, natively). */
export type HeaderRecord = Record<string, string>;

/**
 * `headers` without the dropped names, prefixes and whatever Connection names, as a
 * plain record: one walk over the runtime's list, no Headers object built in JS (each
 * call into workerd's Headers costs more than the JS around it). The runtime combines
 * repeated names into one value as it lists them, so nothing is lost.
 */
function filterHeaders(headers: Headers, dropped: Set<string>, droppedPrefixes: string[]): HeaderRecord {
  // No prototype: a header named __proto__ is just a header.
  const out: HeaderRecord = Object.create(null);
  let connectionNamed: string | undefined;
  headers.forEach((value, name) => {
    if (name === 'connection') connectionNamed = value;
    if (dropped.has(name) || droppedPrefixes.some((prefix) => name.startsWith(prefix))) return;
    out[name] = value;
  });
  if (connectionNamed !== undefined) {
    for (const name of connectionNamed.split(',')) delete out[name.trim().toLowerCase()];
  }
  return out;
}

export function upstreamRequestHeaders(incoming: Headers, accessToken: string): HeaderRecord {
  const out = filterHeaders(incoming, REQUEST_DROPPED, REQUEST_DROPPED_PREFIXES);
  out.authorization = `Bearer ${accessToken}`;
  return out;
}

export function downstreamResponseHeaders(
  upstream: Headers,
  options: { lookerApiUrl: string; gatewayOrigin: string },
): HeaderRecord {
  const out = filterHeaders(upstream, RESPONSE_DROPPED, RESPONSE_DROPPED_PREFIXES);
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
