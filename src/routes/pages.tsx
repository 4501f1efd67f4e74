/** The home page: what this is when signed out; who you are in Looker when signed in. */
import { Hono } from 'hono';
import type { AppEnv } from '../context.ts';
import { getCurrentUser, type LookerUser } from '../looker/api.ts';
import { isLookerError, LookerRejectedError, LookerTimeoutError } from '../looker/errors.ts';
import { SessionEndedError } from '../session/refresh.ts';
import { SignedInPage, SignedOutPage } from '../views/home.tsx';

export const pageRoutes = new Hono<AppEnv>();

const ENDED_NOTICE = 'Your Looker session has ended. Sign in again to continue.';

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
  let user: LookerUser | null = null;
  let problem: string | undefined;
  try {
    const fresh = await gw.refresher.ensureFresh(gw, session.handle, record);
    record = fresh.record;
    c.set('refreshed', fresh.refreshed);
    try {
      user = await getCurrentUser(gw.oauth, record.grant.accessToken);
    } catch (error) {
      // A token we believed valid was refused (e.g. an admin revoked it): renew once and retry.
      if (!(error instanceof LookerRejectedError && error.status === 401)) throw error;
      const renewed = await gw.refresher.ensureFresh(gw, session.handle, record, { force: true });
      record = renewed.record;
      c.set('refreshed', true);
      user = await getCurrentUser(gw.oauth, record.grant.accessToken);
    }
  } catch (error) {
    if (error instanceof SessionEndedError || (error instanceof LookerRejectedError && error.status === 401)) {
      await gw.store.deleteSession(session.handle);
      gw.cookies.clearSession(c);
      gw.log.info('session_ended', { requestId: c.get('requestId'), reason: error.name });
      return c.html(<SignedOutPage notice={ENDED_NOTICE} />);
    }
    if (!isLookerError(error)) throw error;
    gw.log.warn('looker_unavailable', { requestId: c.get('requestId'), route: '/', error: error.name });
    problem =
      error instanceof LookerTimeoutError
        ? 'Looker did not answer in time, so your Looker profile cannot be shown right now.'
        : 'Looker could not be reached or answered with an error, so your Looker profile cannot be shown right now.';
    return c.html(
      <SignedInPage user={null} problem={problem} accessTokenExpiresAt={record.grant.accessTokenExpiresAt} now={gw.now()} />,
      error instanceof LookerTimeoutError ? 504 : 502,
    );
  }
  return c.html(<SignedInPage user={user} accessTokenExpiresAt={record.grant.accessTokenExpiresAt} now={gw.now()} />);
});
