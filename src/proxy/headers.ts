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

/**
 * A copy of `headers` without the dropped names, prefixes and whatever Connection names.
 * One pass over the runtime's list into JS first: each call into the runtime's Headers
 * costs more than the JS around it (workerd), so Connection is found in that copy too.
 */
function filterHeaders(headers: Headers, dropped: Set<string>, droppedPrefixes: string[]): Headers {
  const entries = [...headers];
  let connectionNamed: string[] = [];
  for (const [name, value] of entries) {
    if (name === 'connection') connectionNamed = value.split(',').map((n) => n.trim().toLowerCase());
  }
  const out = new Headers();
  for (const [name, value] of entries) {
    if (dropped.has(name) || connectionNamed.includes(name)) continue;
    if (droppedPrefixes.some((prefix) => name.startsWith(prefix))) continue;
    out.append(name, value);
  }
  return out;
}

export function upstreamRequestHeaders(incoming: Headers, accessToken: string): Headers {
  const out = filterHeaders(incoming, REQUEST_DROPPED, REQUEST_DROPPED_PREFIXES);
  out.set('authorization', `Bearer ${accessToken}`);
  return out;
}

export function downstreamResponseHeaders(
  upstream: Headers,
  options: { lookerApiUrl: string; gatewayOrigin: string },
): Headers {
  const out = filterHeaders(upstream, RESPONSE_DROPPED, RESPONSE_DROPPED_PREFIXES);
  // The runtime decodes compressed bodies from fetch and re-encodes on the way out, so a
  // compressed length no longer describes the body: let the runtime frame it.
  if (out.has('content-encoding')) out.delete('content-length');
  // A redirect to another API path at Looker stays on the gateway.
  const location = out.get('location');
  if (location !== null && location.startsWith(`${options.lookerApiUrl}/api/`)) {
    out.set('location', `${options.gatewayOrigin}${location.slice(options.lookerApiUrl.length)}`);
  }
  return out;
}
