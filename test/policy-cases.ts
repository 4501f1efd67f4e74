/**
 * The proxy's and the pages' header and path policies as tables, read by the tests in
 * workerd (test/api-proxy.test.ts, test/api-browsers.test.ts, test/page-headers.test.ts),
 * which send them through the app in-process, and by the end-to-end test of the gateway on
 * Deno (test/e2e/deno/policies.ts), which sends them through real HTTP to `deno serve`:
 * one list, so the two runtimes cannot drift apart. Plain data, no runtime's API.
 */

/**
 * Paths that must never leave LOOKER_API_URL/api/. Each is answered 400 (refused by the
 * proxy) or 404 (no API path at all once a URL parser resolved its dot segments), and none
 * is forwarded.
 */
export const HOSTILE_API_PATHS: readonly string[] = [
  '/api/../x',
  '/api/%2e%2e/x',
  '/api/%2E%2E/%2E%2E/x',
  '/api/4.0/%2e%2e/%2e%2e/x',
  '/api/.%2e/x',
  '/api//evil.example/x',
  '/api///evil.example/x',
  '/api/https://evil.example',
  '/api/https:%2f%2fevil.example',
  '/api/%2f%2fevil.example/x',
  '/api/4.0/looks%2f..%2f..%2fx',
  '/api/4.0/%5c%5cevil.example',
  '/api/4.0/looks/%00',
  '/api\\..\\x',
  '/api/4.0/\\evil.example',
];

/**
 * Looker's own sign-in endpoints, never forwarded. With a browser's session cookie every
 * one of these spellings is answered 404 JSON naming the gateway's own /login and /logout
 * (POST …/login and a bearer DELETE …/logout are the SDK login shim's: test/sdk-login.test.ts).
 */
export const LOOKER_AUTH_ENDPOINTS: readonly (readonly [method: string, path: string])[] = [
  ['POST', '/api/token'],
  ['GET', '/api/4.0/login'],
  ['DELETE', '/api/logout'],
  ['DELETE', '/api/4.0/logout'],
  ['GET', '/api/TOKEN'],
];

/** End-to-end request headers: Looker receives each exactly as the caller sent it. */
export const END_TO_END_REQUEST_HEADERS: Readonly<Record<string, string>> = {
  accept: 'application/json',
  'accept-encoding': 'gzip',
  'accept-language': 'de',
  'content-type': 'application/json',
  'if-none-match': '"abc"',
  range: 'bytes=0-99',
  'user-agent': 'looker-sdk/26.0 python',
  'x-looker-appid': 'my-script',
};

/**
 * Sent beside the end-to-end ones, never passed on: hop-by-hop headers (those Connection
 * names too), credentials for the gateway, and what says where the caller is or how it
 * relates to the gateway.
 */
export const HOP_BY_HOP_AND_CALLER_HEADERS: Readonly<Record<string, string>> = {
  'proxy-authorization': 'Basic c2VjcmV0',
  connection: 'keep-alive, x-custom-hop',
  'keep-alive': 'timeout=5',
  'x-custom-hop': 'drop me',
  te: 'trailers',
  upgrade: 'websocket',
  'x-forwarded-for': '1.2.3.4',
  'cf-connecting-ip': '1.2.3.4',
  'sec-fetch-site': 'same-origin',
};

/** What Looker must never receive from a caller: the above, its cookies, and its Origin and Referer. */
export const NEVER_FORWARDED_REQUEST_HEADERS: readonly string[] = [
  'cookie',
  'proxy-authorization',
  'connection',
  'keep-alive',
  'x-custom-hop',
  'te',
  'upgrade',
  'x-forwarded-for',
  'cf-connecting-ip',
  'sec-fetch-site',
  'referer',
  'origin',
];

/** The simulator's GET /api/4.0/response_headers: the headers the caller gets as Looker sent them… */
export const KEPT_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json',
  'content-disposition': 'attachment; filename="report.json"',
  etag: '"v1"',
  'retry-after': '5',
  'x-looker-request-id': 'lr-1',
  'cache-control': 'private, max-age=0',
};

/** …and those it never gets: Looker's cookies, hop-by-hop headers (those Connection names too), Looker's own CORS grant. */
export const DROPPED_RESPONSE_HEADERS: readonly string[] = ['set-cookie', 'keep-alive', 'x-hop', 'access-control-allow-origin', 'access-control-allow-credentials'];

export type Caller = readonly [name: string, headers: Readonly<Record<string, string>>];

/**
 * Who may send a cookie-authenticated unsafe request (POST, PUT, PATCH, DELETE) to /api/*,
 * and who is refused with 403 JSON: `gateway` is the gateway's origin, `app` an origin in
 * its ALLOWED_ORIGINS (an https one).
 */
export function csrfCallers(gateway: string, app: string): { allowed: readonly Caller[]; refused: readonly Caller[] } {
  const { host } = new URL(app);
  return {
    allowed: [
      ['own origin', { origin: gateway }],
      ['own origin, same-origin fetch', { origin: gateway, 'sec-fetch-site': 'same-origin' }],
      ['Origin null but Sec-Fetch-Site same-origin', { origin: 'null', 'sec-fetch-site': 'same-origin' }],
      ['an ALLOWED_ORIGINS origin', { origin: app, 'sec-fetch-site': 'cross-site' }],
      ['no browser headers at all (a script)', {}],
    ],
    refused: [
      ['another origin', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }],
      ['another origin without Sec-Fetch-Site', { origin: 'https://evil.example' }],
      ['a look-alike of an allowed origin', { origin: `https://${host}.evil.example` }],
      ['an allowed origin over http', { origin: `http://${host}` }],
      ['Origin null from a browser', { origin: 'null', 'sec-fetch-site': 'cross-site' }],
      ['Origin null alone', { origin: 'null' }],
      ['no Origin, Sec-Fetch-Site cross-site', { 'sec-fetch-site': 'cross-site' }],
      ['no Origin, Sec-Fetch-Site same-site', { 'sec-fetch-site': 'same-site' }],
      ['no Origin, Sec-Fetch-Site none', { 'sec-fetch-site': 'none' }],
    ],
  };
}

/** The Content-Security-Policy a page must carry, written out here rather than taken from the code under test. */
export function expectedCsp(formTargets: readonly string[]): string {
  return [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self'",
    ['form-action', "'self'", ...formTargets].join(' '),
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** The other security headers every HTML answer carries (a value, or a pattern it matches). */
export const PAGE_SECURITY_HEADERS: Readonly<Record<string, string | RegExp>> = {
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'strict-transport-security': /^max-age=\d+/,
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'x-request-id': /\S/,
};

/**
 * Pages a request alone reaches, with no state before it: what is sent, the status, text
 * the page shows (that it is the page meant), and whether its form leads to Looker (then
 * its CSP's form-action names Looker too). The body is a form, sent with `headers`.
 */
export interface StatelessPage {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  headers?: Readonly<Record<string, string>>;
  body?: string;
  status: number;
  shows: string;
  formToLooker?: boolean;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const crossSite = (): Record<string, string> => ({ ...FORM, origin: 'https://evil.example' });

/** `gateway` is the gateway's origin (a same-origin form names it). */
export function statelessPages(gateway: string): readonly StatelessPage[] {
  const sameOrigin = { ...FORM, origin: gateway };
  return [
    { name: 'home, signed out', method: 'GET', path: '/', status: 200, shows: 'Sign in with Looker' },
    { name: 'not found', method: 'GET', path: '/nothing-here', status: 404, shows: 'Not found' },
    { name: 'GET /logout', method: 'GET', path: '/logout', status: 405, shows: 'needs a POST' },
    { name: 'POST /logout from another site', method: 'POST', path: '/logout', headers: crossSite(), status: 403, shows: 'Forbidden' },
    { name: 'a callback without a sign-in', method: 'GET', path: '/callback?code=x&state=y', status: 400, shows: 'Sign in again' },
    { name: 'a callback with access_denied', method: 'GET', path: '/callback?error=access_denied&state=y', status: 403, shows: 'Access denied' },
    {
      name: 'the command line asks for a non-loopback redirect_uri',
      method: 'GET',
      path: '/cli/authorize?response_type=code&redirect_uri=https%3A%2F%2Fevil.example%2F',
      status: 400,
      shows: 'not a loopback address',
    },
    { name: 'consent, expired or from another browser', method: 'GET', path: '/cli/consent/nothing', status: 410, shows: 'This request has expired' },
    { name: 'the device code form', method: 'GET', path: '/device', status: 200, shows: 'Sign in a device', formToLooker: true },
    {
      name: 'the MCP server opened in a browser',
      method: 'GET',
      path: '/mcp',
      headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' },
      status: 401,
      shows: `<code id="mcp-address">${gateway}/mcp</code>`,
    },
    {
      name: 'the device code form, a wrong code',
      method: 'POST',
      path: '/device',
      headers: sameOrigin,
      body: 'user_code=BBBB-BBBB',
      status: 400,
      shows: 'unknown or has expired',
      formToLooker: true,
    },
    {
      name: 'the device code form, from another site',
      method: 'POST',
      path: '/device',
      headers: crossSite(),
      body: 'user_code=BBBB-BBBB',
      status: 403,
      shows: 'Forbidden',
      formToLooker: true,
    },
  ];
}

/** Answers that are not pages but carry the pages' headers all the same: a redirect, health, the command line, assets. */
export const NON_PAGE_PATHS: readonly string[] = ['/login', '/healthz', '/cli.mjs', '/assets/style.css'];
