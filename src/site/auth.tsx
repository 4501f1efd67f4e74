/**
 * The sign-in surface: /login starts Looker's PKCE flow, /callback finishes it (for this
 * browser's session, or for a script credential's own grant), /logout ends the session
 * here and at Looker.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { PendingSignIn } from '../callers/sign-ins.ts';
import type { AppEnv, Gateway } from '../context.ts';
import { checkRequestOrigin, sourceOf } from '../http/same-origin.ts';
import { getCurrentUser, type LookerUser } from '../looker/api.ts';
import { LookerRejectedError, LookerTimeoutError, LookerUnavailableError, isLookerError } from '../looker/errors.ts';
import { revokeAccessToken, type TokenSet, validateAuthorizationCode } from '../looker/oauth.ts';
import { holdCredentialForConsent, startSignIn, storageUnavailable } from './flows.tsx';
import { safeReturnTo } from './return-to.ts';
import { DoneHerePage } from './views/credentials.tsx';
import { ErrorPage } from './views/error.tsx';

export const authRoutes = new Hono<AppEnv>();

const NO_STORE = { 'cache-control': 'no-store' };

authRoutes.get('/login', async (c) => {
  const gw = c.get('gateway');
  return startSignIn(c, gw, { kind: 'session', returnTo: safeReturnTo(c.req.query('return_to'), gw.origin) });
});

/** Messages for the `error` codes Looker may send back; anything else gets a generic one. */
const AUTHORIZATION_ERRORS: Record<string, { status: 400 | 403; message: string }> = {
  access_denied: { status: 403, message: 'Access was denied in Looker, so you are not signed in.' },
  invalid_scope: { status: 400, message: 'Looker refused the requested scope. Check LOOKER_SCOPE (usually cors_api).' },
  invalid_request: { status: 400, message: 'Looker refused the sign-in request. Check that the OAuth app is registered with this redirect URI.' },
  unauthorized_client: { status: 400, message: 'Looker does not allow this app to sign in. Check that the OAuth app is registered and enabled.' },
};

authRoutes.get('/callback', async (c) => {
  const gw = c.get('gateway');
  c.header('cache-control', 'no-store');
  const url = new URL(c.req.url);
  // The state Looker sends back names the sign-in (one login cookie per sign-in in progress).
  const state = url.searchParams.get('state') ?? '';
  const { pending, hadCookie } = await gw.signIns.take(c, state);

  const error = url.searchParams.get('error');
  if (error !== null) {
    const code = /^[a-z_]{1,64}$/.test(error) ? error : 'unknown_error';
    gw.log.warn('sign_in_refused', { requestId: c.get('requestId'), reason: code });
    const known = AUTHORIZATION_ERRORS[code];
    const toCommandLine = await refusalForCommandLine(c, gw, pending, code, known?.message);
    if (toCommandLine !== null) return toCommandLine;
    return c.html(
      <ErrorPage
        title={code === 'access_denied' ? 'Access denied' : 'Sign-in failed'}
        message={known?.message ?? `Looker did not complete the sign-in (error: ${code}).`}
        action={{ href: '/login', label: 'Try again' }}
      />,
      known?.status ?? 400,
    );
  }

  if (pending === null) {
    gw.log.warn('sign_in_bad_state', {
      requestId: c.get('requestId'),
      reason: state === '' ? 'no state' : hadCookie ? 'login expired or does not match' : 'no login cookie for this state',
    });
    return signInAgain(c, 'This sign-in has expired, was already used, or was started in another browser.');
  }
  const code = url.searchParams.get('code');
  if (code === null || code === '') return signInAgain(c, 'Looker sent no authorization code back.');

  let tokens: TokenSet;
  let user: LookerUser | null;
  try {
    tokens = await validateAuthorizationCode(gw.oauth, { code, codeVerifier: pending.codeVerifier, redirectUri: pending.redirectUri });
    user = await getCurrentUser(gw.oauth, tokens.accessToken);
  } catch (error) {
    return signInFailed(c, gw, error);
  }
  if (user === null) return signInAgain(c, 'Looker refused the new token at once; please sign in again.');
  const personKey = gw.minter.personKeyFor(gw.config.lookerApiUrl, user.id);

  if (pending.purpose.kind === 'credential') {
    return holdCredentialForConsent(c, gw, {
      held: { personKey, user, tokens, name: pending.purpose.name, scope: pending.purpose.scope ?? 'write', lookerRedirectUri: pending.redirectUri },
      flow: pending.purpose.flow,
    });
  }
  try {
    await gw.sessions.start(c, { user, personKey, tokens, redirectUri: pending.redirectUri });
  } catch (error) {
    // The new tokens would be nobody's: end them at Looker.
    await revokeAccessToken(gw.oauth, tokens.accessToken).catch(() => {});
    gw.log.error('sign_in_failed', { requestId: c.get('requestId'), error: error instanceof Error ? error.name : 'unknown', reason: 'storing the session' });
    return storageUnavailable(c, 'finish the sign-in', '/login');
  }
  gw.log.info('sign_in', { requestId: c.get('requestId'), personKey });
  return c.redirect(pending.purpose.returnTo, 303);
});

/**
 * Looker refused a sign-in the command line started: tell the command now, rather than
 * leave it waiting out its timeout. A loopback gets the error at its redirect_uri (RFC 6749
 * §4.1.2.1; the address was checked as a loopback one at /cli/authorize); a device's next
 * poll gets access_denied. Null when the sign-in was not the command line's.
 */
async function refusalForCommandLine(c: Context<AppEnv>, gw: Gateway, pending: PendingSignIn | null, code: string, message: string | undefined): Promise<Response | null> {
  if (pending === null || pending.purpose.kind !== 'credential') return null;
  const { flow } = pending.purpose;
  if (flow.kind === 'agent') {
    // The application's redirect_uri was checked against its registration at /oauth/authorize.
    const target = new URL(flow.redirectUri);
    target.searchParams.set('error', code === 'access_denied' ? 'access_denied' : 'server_error');
    if (message !== undefined) target.searchParams.set('error_description', message);
    if (flow.state !== undefined) target.searchParams.set('state', flow.state);
    target.searchParams.set('iss', gw.origin);
    return c.redirect(target.href, 302);
  }
  if (flow.kind === 'loopback') {
    const target = new URL(flow.redirectUri);
    target.searchParams.set('error', code);
    if (message !== undefined) target.searchParams.set('error_description', message);
    target.searchParams.set('state', flow.state);
    return c.redirect(target.href, 302);
  }
  // RFC 8628 has no other error to poll; anything else is a configuration problem the page below explains.
  if (flow.kind === 'device' && code === 'access_denied') {
    await gw.flows.answerDevice(flow.userCode, { allowed: false }).catch(() => false);
    return c.html(<DoneHerePage title="Denied" message="Nothing was created. You can close this tab." />, 200);
  }
  return null;
}

function signInAgain(c: Context<AppEnv>, message: string) {
  return c.html(<ErrorPage title="Sign-in failed" message={message} action={{ href: '/login', label: 'Sign in again' }} />, 400);
}

function signInFailed(c: Context<AppEnv>, gw: Gateway, error: unknown) {
  gw.log.warn('sign_in_failed', {
    requestId: c.get('requestId'),
    error: error instanceof Error ? error.name : 'unknown',
    status: error instanceof LookerRejectedError || error instanceof LookerUnavailableError ? error.status : undefined,
    reason: error instanceof LookerRejectedError ? error.code : undefined,
  });
  if (error instanceof LookerRejectedError) {
    return signInAgain(c, 'Looker refused the sign-in code (it may have expired or been used already).');
  }
  if (error instanceof LookerTimeoutError) {
    return c.html(
      <ErrorPage title="Looker did not answer" message="Looker did not answer in time while finishing the sign-in. Please try again in a moment." action={{ href: '/login', label: 'Sign in again' }} />,
      504,
    );
  }
  if (isLookerError(error)) {
    return c.html(
      <ErrorPage
        title="Looker could not be reached"
        message="Looker could not be reached or answered with an error while finishing the sign-in. Please try again in a moment."
        action={{ href: '/login', label: 'Sign in again' }}
      />,
      502,
    );
  }
  throw error;
}

authRoutes.post('/logout', async (c) => {
  const gw = c.get('gateway');
  const verdict = checkRequestOrigin(sourceOf(c.req.raw.headers), gw.origin);
  if (!verdict.allowed) {
    gw.log.warn('csrf_refused', { requestId: c.get('requestId'), route: '/logout', reason: verdict.reason });
    return c.html(
      <ErrorPage title="Forbidden" message="Sign-out must be requested from this gateway's own pages." action={{ href: '/', label: 'Go to the gateway' }} />,
      403,
    );
  }
  c.header('cache-control', 'no-store');
  try {
    const session = await gw.sessions.load(c);
    if (session !== null) {
      await gw.sessions.end(c, session, 'signed out');
      gw.log.info('sign_out', { requestId: c.get('requestId'), personKey: session.access.personKey });
    }
  } catch (error) {
    // The ledger could not be reached: the session may still be alive, so do not pretend otherwise.
    gw.log.error('unhandled_error', { requestId: c.get('requestId'), route: '/logout', error: error instanceof Error ? error.name : 'unknown' });
    return storageUnavailable(c, 'end your session', '/');
  }
  gw.sessions.clear(c);
  return c.redirect('/', 303);
});

authRoutes.get('/logout', (c) =>
  c.html(
    <ErrorPage title="Sign out" message="Sign-out needs a POST from the gateway's home page." action={{ href: '/', label: 'Go to the home page' }} />,
    405,
    { allow: 'POST', ...NO_STORE },
  ),
);
