/**
 * The signed-in person's pages: home (who you are in Looker) and "Your access" (every
 * browser session and script credential that acts as you, each revocable, and "sign out
 * everywhere").
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { BrowserSession } from '../callers/browser-sessions.ts';
import type { AppEnv, Gateway } from '../context.ts';
import { GrantEndedError, GrantUnavailableError } from '../grants/access.ts';
import { readForm } from '../http/form.ts';
import { checkPageFormOrigin, sourceOf } from '../http/same-origin.ts';
import { getCurrentUser, type LookerUser } from '../looker/api.ts';
import { isLookerError, LookerTimeoutError } from '../looker/errors.ts';
import { credentialName, startSignIn, storageUnavailable } from './flows.tsx';
import { allowFormTarget } from './page-headers.ts';
import { AccessPage, SignOutEverywherePage } from './views/access.tsx';
import { ErrorPage } from './views/error.tsx';
import { SignedInPage, SignedOutPage } from './views/home.tsx';
import { utcMinute } from './views/when.tsx';

export const pageRoutes = new Hono<AppEnv>();

const ENDED_NOTICE = 'Your Looker session has ended. Sign in again to continue.';
const NO_STORE = { 'cache-control': 'no-store' };

/** This browser's session, or an answer for when there is none (signed out) or it cannot be confirmed now. */
async function sessionOr(c: Context<AppEnv>, gw: Gateway, signedOut: () => Response | Promise<Response>): Promise<BrowserSession | Response> {
  try {
    return (await gw.sessions.load(c)) ?? (await signedOut());
  } catch (error) {
    if (error instanceof GrantUnavailableError) return storageUnavailable(c, 'confirm your session', c.req.path);
    throw error;
  }
}

/** The session is over (Looker refused it): say so. */
function ended(c: Context<AppEnv>, gw: Gateway, reason: string) {
  gw.sessions.clear(c);
  gw.log.info('session_ended', { requestId: c.get('requestId'), route: '/', reason });
  return c.html(<SignedOutPage notice={ENDED_NOTICE} />);
}

pageRoutes.get('/', async (c) => {
  const gw = c.get('gateway');
  c.header('cache-control', 'no-store');
  const notice = c.req.query('signed-out') === 'everywhere' ? 'You signed out everywhere: every browser session and script credential of yours has ended.' : undefined;
  const session = await sessionOr(c, gw, () => c.html(<SignedOutPage notice={notice} />));
  if (session instanceof Response) return session;
  c.set('caller', 'browser');

  let grant = session.grant;
  let user: LookerUser | null;
  try {
    const outcome = await gw.keeper.callWithAccessToken(session.access, grant, (accessToken) => getCurrentUser(gw.oauth, accessToken), {
      isRefused: (found) => found === null,
      canRepeat: true,
    });
    ({ grant, result: user } = outcome);
    c.set('refreshed', outcome.refreshed);
  } catch (error) {
    if (error instanceof GrantEndedError) return ended(c, gw, 'refresh refused');
    if (!isLookerError(error) && !(error instanceof GrantUnavailableError)) throw error;
    gw.log.warn('looker_unavailable', { requestId: c.get('requestId'), route: '/', error: error.name });
    const timedOut = error instanceof LookerTimeoutError;
    const problem = timedOut
      ? 'Looker did not answer in time, so your Looker profile cannot be shown right now.'
      : 'Looker could not be reached or answered with an error, so your Looker profile cannot be shown right now.';
    return c.html(
      <SignedInPage user={null} problem={problem} accessTokenExpiresAt={grant.tokens.accessTokenExpiresAt} now={gw.now()} origin={gw.origin} />,
      timedOut ? 504 : 502,
    );
  }
  // Refused even with a renewed token: whatever Looker holds for this session is gone.
  if (user === null) {
    await gw.sessions.end(c, session, 'token refused after renewal').catch(() => gw.sessions.clear(c));
    return ended(c, gw, 'token refused after renewal');
  }
  return c.html(<SignedInPage user={user} accessTokenExpiresAt={grant.tokens.accessTokenExpiresAt} now={gw.now()} origin={gw.origin} />);
});

pageRoutes.get('/access', async (c) => {
  const gw = c.get('gateway');
  const session = await sessionOr(c, gw, () => c.redirect('/login?return_to=%2Faccess', 302));
  if (session instanceof Response) return session;
  c.set('caller', 'browser');
  return accessPage(c, gw, session);
});

async function accessPage(c: Context<AppEnv>, gw: Gateway, session: BrowserSession, notice?: string) {
  let grants;
  try {
    grants = await gw.keeper.list(session.access.personKey);
  } catch {
    return storageUnavailable(c, 'list your access', '/access');
  }
  // "Create credential" answers with a redirect to Looker: the form's CSP must allow it.
  allowFormTarget(c, gw.config.lookerUrl);
  return c.html(<AccessPage user={session.record.user} grants={grants} currentGrantId={session.access.grantId} notice={notice} />, 200, NO_STORE);
}

/** The forms of "Your access" act on the signed-in person's things only, and only from this gateway's pages. */
async function signedInForm(c: Context<AppEnv>, route: string): Promise<{ gw: Gateway; session: BrowserSession; form: URLSearchParams } | Response> {
  const gw = c.get('gateway');
  const verdict = checkPageFormOrigin(sourceOf(c.req.raw.headers), gw.origin);
  if (!verdict.allowed) {
    gw.log.warn('csrf_refused', { requestId: c.get('requestId'), route, reason: verdict.reason });
    return c.html(<ErrorPage title="Forbidden" message="This form must be sent from this gateway's own pages." />, 403, NO_STORE);
  }
  const session = await sessionOr(c, gw, () => c.redirect('/login?return_to=%2Faccess', 303));
  if (session instanceof Response) return session;
  c.set('caller', 'browser');
  const read = await readForm(c.req.raw);
  return { gw, session, form: read.ok ? read.form : new URLSearchParams() };
}

pageRoutes.post('/access/revoke', async (c) => {
  const found = await signedInForm(c, '/access/revoke');
  if (found instanceof Response) return found;
  const { gw, session, form } = found;
  const grantId = form.get('grant') ?? '';
  if (!/^[A-Za-z0-9_-]{22}$/.test(grantId)) return c.html(<ErrorPage title="Nothing to revoke" message="The form named no session or credential." />, 400);
  let ended;
  try {
    // The ledger is the person's own: a grant id of someone else's finds nothing here.
    ended = await gw.keeper.end(session.access.personKey, { grantId }, 'revoked from the access page');
  } catch {
    return storageUnavailable(c, 'revoke it', '/access');
  }
  for (const grant of ended) {
    if (grant.kind === 'credential') gw.log.info('credential_revoked', { requestId: c.get('requestId'), clientId: grant.clientId, reason: 'revoked from the access page' });
    if (grant.kind === 'agent') gw.log.info('agent_revoked', { requestId: c.get('requestId'), personKey: session.access.personKey, reason: 'revoked from the access page' });
  }
  if (grantId === session.access.grantId) {
    gw.sessions.clear(c);
    return c.redirect('/', 303);
  }
  return c.redirect('/access', 303);
});

pageRoutes.get('/access/sign-out-everywhere', async (c) => {
  const gw = c.get('gateway');
  const session = await sessionOr(c, gw, () => c.redirect('/login?return_to=%2Faccess', 302));
  if (session instanceof Response) return session;
  c.set('caller', 'browser');
  let grants;
  try {
    grants = await gw.keeper.list(session.access.personKey);
  } catch {
    return storageUnavailable(c, 'list your access', '/access');
  }
  const sessions = grants.filter((g) => g.kind === 'session').length;
  return c.html(
    <SignOutEverywherePage sessions={sessions} credentials={grants.filter((g) => g.kind === 'credential')} agents={grants.filter((g) => g.kind === 'agent').length} />,
    200,
    NO_STORE,
  );
});

pageRoutes.post('/access/sign-out-everywhere', async (c) => {
  const found = await signedInForm(c, '/access/sign-out-everywhere');
  if (found instanceof Response) return found;
  const { gw, session } = found;
  let ended;
  try {
    ended = await gw.keeper.end(session.access.personKey, { all: true }, 'signed out everywhere');
    // Credentials still on their way (waiting for consent, or for the command line to collect them) end too.
    await gw.flows.cancelPending(session.access.personKey);
  } catch {
    return storageUnavailable(c, 'sign you out everywhere', '/access');
  }
  gw.log.info('sign_out_everywhere', { requestId: c.get('requestId'), personKey: session.access.personKey, ended: ended.length });
  for (const grant of ended) {
    if (grant.kind === 'credential') gw.log.info('credential_revoked', { requestId: c.get('requestId'), clientId: grant.clientId, reason: 'signed out everywhere' });
  }
  gw.sessions.clear(c);
  return c.redirect('/?signed-out=everywhere', 303);
});

pageRoutes.post('/access/credentials', async (c) => {
  const found = await signedInForm(c, '/access/credentials');
  if (found instanceof Response) return found;
  const { gw, form } = found;
  // Unnamed, it is named after where and when it was made, so that two of them can be told apart.
  const name = credentialName(form.get('name') ?? undefined, `Your access · ${utcMinute(gw.now())}`);
  const scope = form.get('read_only') === null ? 'write' : 'read';
  return startSignIn(c, gw, { kind: 'credential', name, scope, flow: { kind: 'page' } });
});
