/** The home page: what this is when signed out; who you are in Looker when signed in. */
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { AppEnv, Gateway } from '../context.ts';
import { getCurrentUser, type LookerUser } from '../looker/api.ts';
import { isLookerError, LookerTimeoutError } from '../looker/errors.ts';
import { SessionEndedError } from '../session/refresh.ts';
import { SignedInPage, SignedOutPage } from './views/home.tsx';

export const pageRoutes = new Hono<AppEnv>();

const ENDED_NOTICE = 'Your Looker session has ended. Sign in again to continue.';

/** The session is over (the store no longer holds it): clear the cookie and say so. */
function ended(c: Context<AppEnv>, gw: Gateway, reason: string) {
  gw.cookies.clearSession(c);
  gw.log.info('session_ended', { requestId: c.get('requestId'), route: '/', reason });
  return c.html(<SignedOutPage notice={ENDED_NOTICE} />);
}

pageRoutes.get('/', async (c) => {
  const gw = c.get('gateway');
  c.header('cache-control', 'no-store');
  const cookie = gw.cookies.readSession(c);
  const session = await gw.store.readSession(cookie);
  if (session === null) {
    if (cookie !== undefined) gw.cookies.clearSession(c);
    return c.html(<SignedOutPage />);
  }

  let record = session.record;
  let user: LookerUser | null;
  try {
    const outcome = await gw.refresher.callWithAccessToken(
      gw,
      session.handle,
      record,
      (accessToken) => getCurrentUser(gw.oauth, accessToken),
      { isRefused: (found) => found === null, canRepeat: true },
    );
    ({ record, result: user } = outcome);
    c.set('refreshed', outcome.refreshed);
  } catch (error) {
    if (error instanceof SessionEndedError) return ended(c, gw, 'refresh refused');
    if (!isLookerError(error)) throw error;
    gw.log.warn('looker_unavailable', { requestId: c.get('requestId'), route: '/', error: error.name });
    const timedOut = error instanceof LookerTimeoutError;
    const problem = timedOut
      ? 'Looker did not answer in time, so your Looker profile cannot be shown right now.'
      : 'Looker could not be reached or answered with an error, so your Looker profile cannot be shown right now.';
    return c.html(
      <SignedInPage user={null} problem={problem} accessTokenExpiresAt={record.grant.accessTokenExpiresAt} now={gw.now()} />,
      timedOut ? 504 : 502,
    );
  }
  // Refused even with a renewed token: whatever Looker holds for this session is gone.
  if (user === null) {
    await gw.store.deleteSession(session.handle);
    return ended(c, gw, 'token refused after renewal');
  }
  return c.html(<SignedInPage user={user} accessTokenExpiresAt={record.grant.accessTokenExpiresAt} now={gw.now()} />);
});
