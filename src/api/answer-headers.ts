/**
 * Headers on every API answer, Looker's and the gateway's own. Looker's bytes are
 * sometimes an HTML error page (a load balancer's, say) or a file: nosniff always, and
 * a sandboxing CSP on whatever a browser could render as a document, so nothing Looker
 * returns can run script on the gateway's origin, where the session cookie works.
 * Only these: each header set costs workerd thousands of instructions.
 */

const SANDBOX = "default-src 'none'; frame-ancestors 'none'; sandbox";

export function setApiAnswerHeaders(headers: Headers, requestId: string): void {
  headers.set('x-request-id', requestId);
  headers.set('x-content-type-options', 'nosniff');
  if (!isStrictlyJson(headers.get('content-type'))) {
    headers.set('content-security-policy', SANDBOX);
    headers.set('referrer-policy', 'same-origin');
  }
}

/** application/json or application/<anything>+json, then optional parameters (up to the next comma). */
const JSON_MEDIA_TYPE = String.raw`[ \t]*application\/(?:[\w!#$%&'*+.^${'`'}|~-]+\+)?json[ \t]*(?:;[^,]*)?`;

/**
 * Every media type in the value is JSON. Browsers read a comma-joined Content-Type as
 * a list and may render any HTML in it ("application/json, text/html" is HTML to
 * Chromium), so one non-JSON member, a missing header or one that does not parse makes
 * the answer renderable. A comma inside a quoted parameter fails too: that only costs
 * the two headers. One expression, so the common single "application/json" stays cheap.
 */
const ALL_JSON = new RegExp(`^${JSON_MEDIA_TYPE}(?:,${JSON_MEDIA_TYPE})*$`, 'i');

export function isStrictlyJson(contentType: string | null): boolean {
  return contentType !== null && ALL_JSON.test(contentType);
}
