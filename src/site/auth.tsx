/**
 * The sign-in surface: /login starts Looker's PKCE flow, /callback finishes it,
 * /logout ends the session here and at Looker.
 */
import { constantTimeEqual } from '@oslojs/crypto/subtle';
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { AppEnv } from '../context.ts';
import { checkRequestOrigin } from '../http/same-origin.ts';
import { safeReturnTo } from './return-to.ts';
import {
  LookerProtocolError,
  LookerRejectedError,
  LookerTimeoutError,
  LookerUnavailableError,
} from '../looker/errors.ts';
import {
  createAuthorizationURLWithPKCE,
  generateCodeVerifier,
  generateState,
  revokeAccessToken,
  validateAuthorizationCode,
} from '../looker/oauth.ts';
import { SESSION_TTL_SECONDS } from '../session/store.ts';
import { ErrorPage } from './views/error.tsx';

export const authRoutes = new Hono<AppEnv>();

const NO_STORE = { 'cache-control': 'no-store' };

authRoutes.get('/login', async (c) => {
  const gw = c.get('gateway');
  const returnTo = safeReturnTo(c.req.query('return_to'), gw.origin);
  const state = generateState();
  const codeVerifier = generateCodeVerifier();
  const loginCookie = await gw.store.startLogin({
    state,
    codeVerifier,
    returnTo,
    redirectUri: gw.redirectUri,
    createdAt: gw.now(),
  });
  gw.cookies.setLogin(c, state, loginCookie);
  const authorizationUrl = createAuthorizationURLWithPKCE(gw.oauth, {
    redirectUri: gw.redirectUri,
    scope: gw.config.lookerScope,
    state,
    codeVerifier,
  });
  c.header('cache-control', 'no-store');
  return c.redirect(authorizationUrl.href, 302);
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
  const loginCookie = state === '' ? undefined : gw.cookies.takeLogin(c, state);
  // Single use: the pending login is deleted before anything else happens with it.
  const login = loginCookie === undefined ? null : await gw.store.takeLogin(loginCookie);

  const error = url.searchParams.get('error');
  if (error !== null) {
    const code = /^[a-z_]{1,64}$/.test(error) ? error : 'unknown_error';
    gw.log.warn('sign_in_refused', { requestId: c.get('requestId'), reason: code });
    const known = AUTHORIZATION_ERRORS[code];
    return c.html(
      <ErrorPage
        title={code === 'access_denied' ? 'Access denied' : 'Sign-in failed'}
        message={known?.message ?? `Looker did not complete the sign-in (error: ${code}).`}
        action={{ href: '/login', label: 'Try again' }}
      />,
      known?.status ?? 400,
    );
  }

  if (login === null) {
    gw.log.warn('sign_in_bad_state', {
      requestId: c.get('requestId'),
      reason: state === '' ? 'no state' : loginCookie === undefined ? 'no login cookie for this state' : 'login expired, used or unknown',
    });
    return signInAgain(c, 'This sign-in has expired, was already used, or was started in another browser.');
  }

  // The cookie's name comes from the state; the sealed login must hold that very state too.
  const encoder = new TextEncoder();
  if (!constantTimeEqual(encoder.encode(state), encoder.encode(login.state))) {
    gw.log.warn('sign_in_bad_state', { requestId: c.get('requestId'), reason: 'state mismatch' });
    return signInAgain(c, 'The sign-in answer from Looker does not match the sign-in this browser started.');
  }
  const code = url.searchParams.get('code');
  if (code === null || code === '') {
    return signInAgain(c, 'Looker sent no authorization code back.');
  }

  let tokens;
  try {
    tokens = await validateAuthorizationCode(gw.oauth, {
      code,
      codeVerifier: login.codeVerifier,
      redirectUri: login.redirectUri,
    });
  } catch (error) {
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
      return c.html(<ErrorPage title="Looker did not answer" message="Looker did not answer in time while finishing the sign-in. Please try again in a moment." action={{ href: '/login', label: 'Sign in again' }} />, 504);
    }
    if (error instanceof LookerUnavailableError || error instanceof LookerProtocolError) {
      return c.html(<ErrorPage title="Looker could not be reached" message="Looker could not be reached or answered with an error while finishing the sign-in. Please try again in a moment." action={{ href: '/login', label: 'Sign in again' }} />, 502);
    }
    throw error;
  }

  // A new sign-in replaces whatever session this browser had.
  const previous = await gw.store.readSession(gw.cookies.readSession(c));
  if (previous !== null) await gw.store.deleteSession(previous.handle);

  const now = gw.now();
  const { cookieValue } = await gw.store.createSession({
    grant: {
      accessToken: tokens.accessToken,
      accessTokenExpiresAt: now + tokens.expiresIn * 1000,
      refreshToken: tokens.refreshToken,
    },
    redirectUri: login.redirectUri,
    createdAt: now,
    expiresAt: now + SESSION_TTL_SECONDS * 1000,
  });
  gw.cookies.setSession(c, cookieValue);
  gw.log.info('sign_in', { requestId: c.get('requestId') });
  return c.redirect(login.returnTo, 303);
});

function signInAgain(c: Context<AppEnv>, message: string) {
  return c.html(
    <ErrorPage title="Sign-in failed" message={message} action={{ href: '/login', label: 'Sign in again' }} />,
    400,
  );
}

authRoutes.post('/logout', async (c) => {
  const gw = c.get('gateway');
  const verdict = checkRequestOrigin(c.req.raw.headers, gw.origin);
  if (!verdict.allowed) {
    gw.log.warn('csrf_refused', { requestId: c.get('requestId'), route: '/logout', reason: verdict.reason });
    return c.html(
      <ErrorPage title="Forbidden" message="Sign-out must be requested from this gateway's own pages." action={{ href: '/', label: 'Go to the gateway' }} />,
      403,
    );
  }
  const session = await gw.store.readSession(gw.cookies.readSession(c));
  if (session !== null) {
    await gw.store.deleteSession(session.handle);
    try {
      await revokeAccessToken(gw.oauth, session.record.grant.accessToken);
    } catch (error) {
      gw.log.warn('looker_logout_failed', { requestId: c.get('requestId'), error: error instanceof Error ? error.name : 'unknown' });
    }
    gw.log.info('sign_out', { requestId: c.get('requestId') });
  }
  gw.cookies.clearSession(c);
  c.header('cache-control', 'no-store');
  return c.redirect('/', 303);
});

authRoutes.get('/logout', (c) =>
  c.html(
    <ErrorPage title="Sign out" message="Sign-out needs a POST from the gateway's home page." action={{ href: '/', label: 'Go to the home page' }} />,
    405,
    { allow: 'POST', ...NO_STORE },
  ),
);
