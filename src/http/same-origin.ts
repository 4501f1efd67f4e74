/**
 * Whether an unsafe request (POST, PUT, PATCH, DELETE) may act on the caller's session.
 *
 * Browsers always say where a request comes from: `Sec-Fetch-Site`, and `Origin` on
 * every unsafe request. Under some referrer policies a same-origin form POST carries
 * `Origin: null`; then `Sec-Fetch-Site: same-origin` decides. A request with neither
 * header is not from a browser (a script holding the cookie) and cannot be forged
 * cross-site, so it is allowed.
 */

export type OriginVerdict = { allowed: true } | { allowed: false; reason: string };

/** Where a browser says a request comes from: its Origin and Sec-Fetch-Site headers (null when absent). */
export interface RequestSource {
  origin: string | null;
  fetchSite: string | null;
}

export function sourceOf(headers: Headers): RequestSource {
  return { origin: headers.get('origin'), fetchSite: headers.get('sec-fetch-site') };
}

export function checkRequestOrigin(
  { origin, fetchSite }: RequestSource,
  gatewayOrigin: string,
  allowedOrigins: readonly string[] = [],
): OriginVerdict {
  if (origin !== null && origin !== 'null') {
    if (origin === gatewayOrigin || allowedOrigins.includes(origin)) return { allowed: true };
    return { allowed: false, reason: 'request from another origin' };
  }
  if (fetchSite !== null) {
    if (fetchSite === 'same-origin') return { allowed: true };
    return { allowed: false, reason: `browser request without a usable Origin (Sec-Fetch-Site: ${fetchSite.slice(0, 20)})` };
  }
  if (origin === 'null') return { allowed: false, reason: 'request with Origin: null' };
  return { allowed: true };
}

/**
 * Whether a POST from one of the gateway's own pages (a consent answer, a device code,
 * "Your access") really comes from them. Stricter than checkRequestOrigin: these forms
 * are only ever sent by a browser, which always says where it sends from, so a request
 * without that proof is refused rather than taken for a script (a script has no business
 * answering a consent in the person's place).
 */
export function checkPageFormOrigin({ origin, fetchSite }: RequestSource, gatewayOrigin: string): OriginVerdict {
  if (origin !== null && origin !== 'null') {
    return origin === gatewayOrigin ? { allowed: true } : { allowed: false, reason: 'request from another origin' };
  }
  // Under some referrer policies a same-origin form POST carries `Origin: null`; Sec-Fetch-Site then decides.
  if (fetchSite === 'same-origin') return { allowed: true };
  return { allowed: false, reason: origin === 'null' ? 'request with Origin: null' : 'request without Origin' };
}
