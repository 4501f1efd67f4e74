/**
 * Answers in the shapes Looker itself uses, so an SDK's error handling works unchanged
 * against the gateway: `{ message, documentation_url }`.
 */
const DOCS = 'https://cloud.google.com/looker/docs/r/err/4.0';

export function lookerError(message: string, status: number, path: string, method: string): { message: string; documentation_url: string } {
  return { message, documentation_url: `${DOCS}/${status}/${method.toLowerCase()}${path.replace(/^\/api\/[^/]+/, '')}` };
}

/** How a caller without a usable token gets one: for a person reading a 401 (curl), not for an SDK. */
export function authenticationHint(gatewayOrigin: string): string {
  return `Send "Authorization: Bearer <token>" with a token from \`node lgw.mjs token\` (the command line: ${gatewayOrigin}/cli.mjs), or sign in at ${gatewayOrigin}/login.`;
}

/**
 * Looker's 401 for a missing, wrong or expired token, with a hint beside it. `message` is
 * Looker's exact text: the SDKs (and scripts) recognise an expired session by it.
 */
export function requiresAuthentication(
  gatewayOrigin: string,
  path: string,
  method: string,
  hint = authenticationHint(gatewayOrigin),
): { message: string; documentation_url: string; hint: string } {
  return { ...lookerError('Requires authentication.', 401, path, method), hint };
}

/** The token was good, but the credential's Looker sign-in is over (revoked, expired, or Looker refused its renewal). */
export function credentialEndedHint(gatewayOrigin: string): string {
  return `This credential's Looker sign-in has ended (it was revoked or expired, or Looker no longer accepts it): a new token will not help. Sign in again with \`node lgw.mjs login ${gatewayOrigin}\`.`;
}
