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

const responseKeeps = (name: string) => !RESPONSE_DROPPED.has(name) && !name.startsWith(RESPONSE_DROPPED_PREFIX);

/**
 * What the API reads of a request's headers, from one walk over them: the allowed
 * end-to-end headers for Looker, and the few the gateway itself decides by. Each
 * `headers.get` is a call into the runtime that costs more than a walk's step, so the
 * walk the allow-list needs anyway collects them too.
 */
export interface RequestHeaders {
  /** For Looker: the allowed headers, minus any Connection names (see upstreamHeaders). */
  forward: HeaderRecord;
  authorization: string | undefined;
  cookie: string | undefined;
  origin: string | null;
  fetchSite: string | null;
  fetchMode: string | undefined;
  /** The caller's X-Request-Id, if it sent one (then Looker gets the gateway's id for the request, for correlation). */
  requestId: string | undefined;
}

export function readRequestHeaders(incoming: Headers): RequestHeaders {
  // No prototype: a header named __proto__ is just a header.
  const forward: HeaderRecord = Object.create(null);
  const read: RequestHeaders = { forward, authorization: undefined, cookie: undefined, origin: null, fetchSite: null, fetchMode: undefined, requestId: undefined };
  let connectionNamed: string | undefined;
  incoming.forEach((value, name) => {
    switch (name) {
      case 'authorization':
        read.authorization = value;
        return;
      case 'cookie':
        read.cookie = value;
        return;
      case 'origin':
        read.origin = value;
        return;
      case 'sec-fetch-site':
        read.fetchSite = value;
        return;
      case 'sec-fetch-mode':
        read.fetchMode = value;
        return;
      case 'x-request-id':
        read.requestId = value;
        return;
      case 'connection':
        connectionNamed = value;
        return;
    }
    if (REQUEST_ALLOWED.has(name) || name.startsWith(REQUEST_ALLOWED_PREFIX)) forward[name] = value;
  });
  if (connectionNamed !== undefined) {
    for (const name of connectionNamed.split(',')) delete forward[name.trim().toLowerCase()];
  }
  return read;
}

/**
 * The headers for Looker: the allowed ones and the grant's bearer token; and when the
 * caller sent an X-Request-Id, the gateway's id for this request instead (the caller's
 * own when well formed), so Looker's logs can be correlated with the caller's and the
 * gateway's. Sets them on `forward` itself: fetch copies the record when it is called,
 * so a retry with a renewed token reuses it. (An id is not added when the caller sent
 * none: every header costs the runtime a copy on the proxy's hot path.)
 */
export function upstreamHeaders(read: RequestHeaders, accessToken: string, requestId: string): HeaderRecord {
  const { forward } = read;
  forward.authorization = `Bearer ${accessToken}`;
  if (read.requestId !== undefined) forward['x-request-id'] = requestId;
  return forward;
}

/** The request headers for Looker, from the request's own (tests and tools; the API reads them once per request). */
export function upstreamRequestHeaders(incoming: Headers, accessToken: string, requestId: string): HeaderRecord {
  return upstreamHeaders(readRequestHeaders(incoming), accessToken, requestId);
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
