/**
 * What the site's routes share about sign-in flows: starting a Looker sign-in for a
 * session or a credential, holding a credential's new grant for consent, the answer when
 * the gateway's storage is unavailable.
 */
import type { Context } from 'hono';
import { cookies } from '../callers/cookies.ts';
import { cleanName } from '../callers/names.ts';
import type { CredentialFlow, HeldGrant } from '../callers/credential-flows.ts';
import type { SignInPurpose } from '../callers/sign-ins.ts';
import type { AppEnv, Gateway } from '../context.ts';
import { createAuthorizationURLWithPKCE, generateCodeVerifier, generateState, revokeAccessToken } from '../looker/oauth.ts';
import { ErrorPage } from './views/error.tsx';

const NAME_MAX = 64;

/** Sends the browser to Looker for a new grant, remembering what it is for in a sealed cookie. */
export async function startSignIn(c: Context<AppEnv>, gw: Gateway, purpose: SignInPurpose): Promise<Response> {
  const state = generateState();
  const codeVerifier = generateCodeVerifier();
  await gw.signIns.begin(c, { state, codeVerifier, redirectUri: gw.redirectUri, purpose });
  const authorizationUrl = createAuthorizationURLWithPKCE(gw.oauth, {
    redirectUri: gw.redirectUri,
    scope: gw.config.lookerScope,
    state,
    codeVerifier,
  });
  c.header('cache-control', 'no-store');
  // 303: when this answers a form POST (a credential from the access page or a device code), the browser must GET Looker.
  return c.redirect(authorizationUrl.href, c.req.method === 'GET' ? 302 : 303);
}

/** The gateway's own storage (KV or a ledger) failed: nothing was changed; say so and offer a retry. */
export function storageUnavailable(c: Context<AppEnv>, what: string, retry: string) {
  return c.html(
    <ErrorPage
      title="Please try again"
      message={`The gateway could not reach its storage to ${what}. Nothing was changed. Please try again in a moment.`}
      action={{ href: retry, label: 'Try again' }}
    />,
    503,
    { 'retry-after': '5', 'cache-control': 'no-store' },
  );
}

/** After Looker's callback for a credential: hold the new grant and ask the person. */
export async function holdCredentialForConsent(c: Context<AppEnv>, gw: Gateway, init: { held: HeldGrant; flow: CredentialFlow }): Promise<Response> {
  let consent;
  try {
    consent = await gw.flows.holdForConsent(init.held, init.flow);
  } catch {
    await revokeAccessToken(gw.oauth, init.held.tokens.accessToken).catch(() => {});
    return storageUnavailable(c, 'prepare the credential', '/');
  }
  cookies.setConsent(c, consent.id, consent.cookieValue);
  // An AI agent's consent has its own page (what it may do at Looker, where it goes back to).
  return c.redirect(`${init.flow.kind === 'agent' ? '/oauth/consent' : '/cli/consent'}/${consent.id}`, 303);
}

/** A name a person gave a credential: printable, trimmed, at most 64 characters; else a default. */
export function credentialName(raw: string | undefined, fallback: string): string {
  return cleanName(raw, fallback, NAME_MAX);
}
