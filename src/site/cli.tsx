/**
 * How scripts get a credential without a Looker API key: the command line's endpoints
 * (RFC 8252 loopback and RFC 8628 device sign-in), the consent page between Looker's
 * sign-in and the credential, the device code entry page, revocation and status for the
 * command line, and the command line itself (GET /cli.mjs).
 *
 * Loopback: /cli/authorize (the command line's PKCE challenge, state, loopback
 * redirect_uri and a name) → Looker sign-in → /callback → consent → 303 to the loopback
 * with a one-time code → POST /cli/token trades code + verifier for the credential.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import { bearerToken } from '../callers/access-tokens.ts';
import { cookies } from '../callers/cookies.ts';
import { type CredentialFlow, DEVICE_CODE_TTL_SECONDS, type HeldGrant } from '../callers/credential-flows.ts';
import type { AppEnv, Gateway } from '../context.ts';
import { readForm } from '../http/form.ts';
import { checkPageFormOrigin, checkRequestOrigin, sourceOf } from '../http/same-origin.ts';
import { type GrantScope, parseScope, scopeString } from '../grants/scope.ts';
import { revokeAccessToken } from '../looker/oauth.ts';
// The command line's own source, served as is: a text import (wrangler bundles it as text, see wrangler.toml's rules; Deno reads the attribute).
import CLI_SOURCE from '../../cli/looker-oauth-gateway.mjs' with { type: 'text' };
import { credentialName, startSignIn, storageUnavailable } from './flows.tsx';
import { oauthError, withParams } from './oauth-answers.ts';
import { allowFormTarget } from './page-headers.ts';
import { ConsentPage, CredentialIssuedPage, DeviceEntryPage, DoneHerePage } from './views/credentials.tsx';
import { ErrorPage } from './views/error.tsx';
import { utcMinute } from './views/when.tsx';

export const cliRoutes = new Hono<AppEnv>();

const NO_STORE = { 'cache-control': 'no-store' };
/** The device's sign-in was not waiting any more when this answer came: say what that means, without guessing which. */
const DEVICE_ANSWERED_ELSEWHERE =
  'This answer was not used: the device was already answered in another browser, or its code expired. The device shows the outcome; if it is still waiting, run the sign-in there again.';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** RFC 8252 §7.3: a loopback IP literal (never "localhost"), any port, http, no userinfo or fragment. */
export function loopbackRedirectUri(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' || (url.hostname !== '127.0.0.1' && url.hostname !== '[::1]')) return null;
  if (url.username !== '' || url.password !== '' || url.hash !== '' || url.port === '') return null;
  return url.href;
}

cliRoutes.get('/cli.mjs', (c) =>
  c.body(CLI_SOURCE, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=300' }),
);

/** Step 1 of the loopback flow: check what the command line asks for, then run Looker's sign-in for the credential's own grant. */
cliRoutes.get('/cli/authorize', async (c) => {
  const gw = c.get('gateway');
  const q = c.req.query();
  const redirectUri = loopbackRedirectUri(q.redirect_uri);
  // Never redirect to a redirect_uri that failed the check: say so here.
  if (redirectUri === null) {
    return badRequest(c, 'The command line asked to be called back at an address that is not a loopback address (http://127.0.0.1:PORT or http://[::1]:PORT).');
  }
  if (q.response_type !== 'code') return badRequest(c, 'response_type must be "code".');
  if (q.code_challenge_method !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(q.code_challenge ?? '')) {
    return badRequest(c, 'The command line must use PKCE with S256 (code_challenge, code_challenge_method=S256).');
  }
  if (q.state === undefined || q.state === '' || q.state.length > 512) return badRequest(c, 'state is required (at most 512 characters).');
  const scope = requestedScope(q.scope);
  // Answered here like the other malformed requests above (the command line never sends one).
  if (scope === undefined) return badRequest(c, `invalid_scope: ${UNKNOWN_SCOPE}`);
  const flow: CredentialFlow = { kind: 'loopback', redirectUri, codeChallenge: q.code_challenge!, state: q.state };
  return startSignIn(c, gw, { kind: 'credential', name: credentialName(q.name, `command line · ${utcMinute(gw.now())}`), scope, flow });
});

cliRoutes.get('/cli/consent/:id', async (c) => {
  const gw = c.get('gateway');
  const id = c.req.param('id');
  const pending = await gw.flows.peekConsent(id, cookies.readConsent(c, id)).catch(() => null);
  if (pending === null) return consentGone(c);
  // The answer redirects to the command line's loopback: the form's CSP must allow that target.
  if (pending.flow.kind === 'loopback') allowFormTarget(c, pending.flow.redirectUri);
  return c.html(<ConsentPage pending={pending} now={gw.now()} />, 200, NO_STORE);
});

cliRoutes.post('/cli/consent/:id', async (c) => {
  const gw = c.get('gateway');
  const refused = refuseCrossSite(c, gw, '/cli/consent');
  if (refused !== null) return refused;
  const id = c.req.param('id');
  const form = await formOf(c);
  const allowed = form?.get('decision') === 'allow';
  const taken = await gw.flows.takeConsent(id, cookies.readConsent(c, id)).catch(() => undefined);
  cookies.clearConsent(c, id);
  if (taken === undefined) return storageUnavailable(c, 'record your answer', '/');
  if (taken === null) return consentGone(c);
  const { pending, held } = taken;
  gw.log.info('consent_answered', { requestId: c.get('requestId'), allowed, flow: pending.flow.kind, personKey: pending.personKey });
  c.header('cache-control', 'no-store');

  if (!allowed) {
    await revokeAccessToken(gw.oauth, held.tokens.accessToken).catch(() => {});
    if (pending.flow.kind === 'loopback') return c.redirect(withParams(pending.flow.redirectUri, { error: 'access_denied', state: pending.flow.state }), 303);
    if (pending.flow.kind === 'device' && !(await gw.flows.answerDevice(pending.flow.userCode, { allowed: false }).catch(() => false))) {
      return c.html(<DoneHerePage title="Already answered" message={DEVICE_ANSWERED_ELSEWHERE} />, 409);
    }
    return c.html(<DoneHerePage title="Denied" message="Nothing was created. You can close this tab." />, 200);
  }

  try {
    if (pending.flow.kind === 'loopback') {
      const code = await gw.flows.issueCode(held, pending.flow);
      return c.redirect(withParams(pending.flow.redirectUri, { code, state: pending.flow.state }), 303);
    }
    if (pending.flow.kind === 'device') {
      const answered = await gw.flows.answerDevice(pending.flow.userCode, { allowed: true, held });
      if (!answered) {
        await revokeAccessToken(gw.oauth, held.tokens.accessToken).catch(() => {});
        return c.html(<ErrorPage title="Already answered" message={DEVICE_ANSWERED_ELSEWHERE} />, 409);
      }
      return c.html(<DoneHerePage title="Device allowed" message={`“${pending.name}” is signed in. You can close this tab; the command line continues by itself.`} />, 200);
    }
    const issued = await gw.credentials.createFromHeld(held, gw.config.credentialTtlMs);
    return c.html(
      <CredentialIssuedPage
        origin={gw.origin}
        clientId={issued.clientId}
        clientSecret={issued.clientSecret}
        name={issued.record.name}
        expiresAt={issued.record.expiresAt}
        user={issued.record.user}
      />,
      200,
    );
  } catch {
    await revokeAccessToken(gw.oauth, held.tokens.accessToken).catch(() => {});
    return storageUnavailable(c, 'create the credential', '/');
  }
});

/** The command line trades a one-time code (loopback) or polls with its device code. OAuth-style JSON answers. */
cliRoutes.post('/cli/token', async (c) => {
  const gw = c.get('gateway');
  c.header('cache-control', 'no-store');
  const refused = refuseBrowserCrossSite(c, gw, '/cli/token');
  if (refused !== null) return refused;
  const form = await formOf(c);
  if (form === null) return oauthError(c, 'invalid_request', 'The body must be application/x-www-form-urlencoded.');
  const grantType = form.get('grant_type');
  try {
    if (grantType === 'authorization_code') {
      const redeemed = await gw.flows.redeemCode(form.get('code') ?? undefined, form.get('code_verifier') ?? undefined, form.get('redirect_uri') ?? undefined);
      if (!redeemed.ok) {
        // A code spent with the wrong verifier or redirect_uri creates nothing: end the grant it carried, which nobody will hold.
        if (redeemed.spent !== undefined) await revokeAccessToken(gw.oauth, redeemed.spent.tokens.accessToken).catch(() => {});
        return oauthError(c, 'invalid_grant', redeemed.reason);
      }
      return await issueForCommandLine(c, gw, redeemed.held);
    }
    if (grantType === DEVICE_GRANT) {
      const poll = await gw.flows.pollDevice(form.get('device_code') ?? undefined);
      switch (poll.status) {
        case 'pending':
          return oauthError(c, 'authorization_pending', 'Waiting for the person to enter the code and allow the device.');
        case 'slow_down':
          return oauthError(c, 'slow_down', `Polling too fast: wait ${poll.interval} seconds between polls.`);
        case 'denied':
          return oauthError(c, 'access_denied', 'The person chose Deny.');
        case 'expired':
          return oauthError(c, 'expired_token', 'The device code has expired or is unknown; start again.');
        case 'approved':
          return await issueForCommandLine(c, gw, poll.held);
      }
    }
  } catch {
    return c.json({ error: 'temporarily_unavailable', error_description: 'The gateway could not reach its storage; try again.' }, 503, { 'retry-after': '5' });
  }
  return oauthError(c, 'unsupported_grant_type', 'grant_type must be authorization_code or urn:ietf:params:oauth:grant-type:device_code.');
});

/**
 * The credential for a code or an allowed device, which was taken (single use) to get here:
 * if it cannot be stored, its grant is ended at Looker (nobody will hold it) and the
 * command line is told to start again.
 */
async function issueForCommandLine(c: Context<AppEnv>, gw: Gateway, held: HeldGrant): Promise<Response> {
  let issued;
  try {
    issued = await gw.credentials.createFromHeld(held, gw.config.credentialTtlMs);
  } catch {
    await revokeAccessToken(gw.oauth, held.tokens.accessToken).catch(() => {});
    return c.json(
      { error: 'temporarily_unavailable', error_description: 'The gateway could not store the credential, so nothing was created. Run the sign-in again.' },
      503,
      { 'retry-after': '5' },
    );
  }
  const { record } = issued;
  return c.json({
    client_id: issued.clientId,
    client_secret: issued.clientSecret,
    scope: scopeString(held.scope),
    name: record.name,
    expires_at: new Date(record.expiresAt).toISOString(),
    user: { id: record.user.id, display_name: record.user.displayName, email: record.user.email },
  });
}

/** RFC 8628 §3.1: a device code for the command line, a user code for the person. */
cliRoutes.post('/cli/device/code', async (c) => {
  const gw = c.get('gateway');
  c.header('cache-control', 'no-store');
  // Any web page could otherwise make its visitors' browsers spend their network's device sign-ins.
  const refused = refuseBrowserCrossSite(c, gw, '/cli/device/code');
  if (refused !== null) return refused;
  const form = await formOf(c);
  if (form === null) return oauthError(c, 'invalid_request', 'The body must be application/x-www-form-urlencoded.');
  const name = credentialName(form.get('name') ?? undefined, `device · ${utcMinute(gw.now())}`);
  const scope = requestedScope(form.get('scope') ?? undefined);
  if (scope === undefined) return oauthError(c, 'invalid_scope', UNKNOWN_SCOPE);
  const interval = gw.config.devicePollIntervalSeconds;
  let started;
  try {
    started = await gw.flows.startDevice(name, scope, gw.clientOf(c.req.raw), interval, gw.deviceLimits);
  } catch {
    // Not the limits below: saying "too many" for a storage fault hid a bug once.
    return c.json({ error: 'temporarily_unavailable', error_description: 'The gateway could not reach its storage; try again.' }, 503, { 'retry-after': '5' });
  }
  if (started === 'too many from this network') {
    return c.json(
      { error: 'slow_down', error_description: `Too many device sign-ins from this network are in progress; finish them or let them expire (${DEVICE_CODE_TTL_SECONDS / 60} minutes).` },
      429,
      { 'retry-after': String(DEVICE_CODE_TTL_SECONDS) },
    );
  }
  if (started === 'busy') {
    return c.json({ error: 'temporarily_unavailable', error_description: 'The gateway could not find a free code; try again.' }, 503, { 'retry-after': '1' });
  }
  if (started.shed > 0) gw.log.warn('device_codes_shed', { requestId: c.get('requestId'), count: started.shed });
  gw.log.info('device_code_issued', { requestId: c.get('requestId') });
  // No verification_uri_complete: a link with the code filled in is what a phisher sends. The
  // person types the code their own device shows (RFC 8628 §5.4).
  return c.json({
    device_code: started.deviceCode,
    user_code: started.userCode,
    verification_uri: `${gw.origin}/device`,
    expires_in: DEVICE_CODE_TTL_SECONDS,
    interval,
  });
});

// Whatever /device answers, its page is the code form (or an error page without forms), whose POST redirects to Looker.
cliRoutes.use('/device', async (c, next) => {
  allowFormTarget(c, c.get('gateway').config.lookerUrl);
  await next();
});

/** Where a person types the code their device shows. A code in the address is ignored: it has to come from the person's own screen. */
cliRoutes.get('/device', (c) => c.html(<DeviceEntryPage />, 200, NO_STORE));

cliRoutes.post('/device', async (c) => {
  const gw = c.get('gateway');
  const refused = refuseCrossSite(c, gw, '/device');
  if (refused !== null) return refused;
  const form = await formOf(c);
  const typed = form?.get('user_code') ?? '';
  const device = await gw.flows.findDevice(typed, gw.clientOf(c.req.raw).address, gw.deviceLimits).catch(() => undefined);
  if (device === undefined) return storageUnavailable(c, 'look up the code', '/device');
  if (device === 'wait') {
    gw.log.warn('device_code_guessing_refused', { requestId: c.get('requestId') });
    return c.html(<DeviceEntryPage typed={typed.slice(0, 16)} problem="Too many wrong codes from your network. Wait ten minutes, then try again." />, 429, {
      'retry-after': '600',
      ...NO_STORE,
    });
  }
  if (device === null) {
    return c.html(
      <DeviceEntryPage typed={typed.slice(0, 16)} problem="That code is unknown or has expired. Check it on the device, or start the sign-in there again." />,
      400,
      NO_STORE,
    );
  }
  const flow: CredentialFlow = { kind: 'device', userCode: device.userCode, requester: device.requester, startedAt: device.startedAt };
  return startSignIn(c, gw, { kind: 'credential', name: device.name, scope: device.scope, flow });
});

/** The command line's `logout`: ends the credential (its grant, tokens and record), here and at Looker. */
cliRoutes.post('/cli/revoke', async (c) => {
  const gw = c.get('gateway');
  c.header('cache-control', 'no-store');
  const refused = refuseBrowserCrossSite(c, gw, '/cli/revoke');
  if (refused !== null) return refused;
  const form = await formOf(c);
  if (form === null) return c.json({ message: 'The body must be application/x-www-form-urlencoded (client_id, client_secret).' }, 400);
  try {
    const credential = await gw.credentials.verify(form.get('client_id') ?? undefined, form.get('client_secret') ?? undefined);
    if (credential === null) return c.json({ revoked: false, message: 'No such credential: it was already revoked, has expired, or the secret is wrong.' });
    const revoked = await gw.credentials.revoke({ ...credential.access, clientId: credential.record.clientId }, 'revoked from the command line');
    return c.json({ revoked });
  } catch {
    return c.json({ message: 'The gateway could not reach its storage; try again.' }, 503, { 'retry-after': '5' });
  }
});

/** The command line's `status`: what the bearer token's credential is. */
cliRoutes.get('/cli/credential', async (c) => {
  const gw = c.get('gateway');
  c.header('cache-control', 'no-store');
  const token = bearerToken(c.req.header('authorization'));
  let resolved;
  try {
    resolved = token === undefined ? null : await gw.tokens.resolve(token);
  } catch {
    return c.json({ message: 'The gateway could not reach its storage; try again.' }, 503, { 'retry-after': '5' });
  }
  if (resolved === null) {
    return c.json(
      {
        message: 'Requires authentication.',
        hint: `Send "Authorization: Bearer <token>" with a token from \`node lgw.mjs token\`; if that fails too, sign in again with \`node lgw.mjs login ${gw.origin}\`.`,
      },
      401,
    );
  }
  const { credential } = resolved.caller;
  const { scope } = resolved.grant;
  const listed = await gw.keeper.describe(resolved.caller.personKey, resolved.caller.access.grantId).catch(() => null);
  return c.json({
    client_id: credential.clientId,
    name: credential.name,
    created_at: new Date(credential.createdAt).toISOString(),
    expires_at: new Date(credential.expiresAt).toISOString(),
    scope: scopeString(scope),
    last_used_at: listed === null || listed.lastUsedAt === 0 ? null : new Date(listed.lastUsedAt).toISOString(),
    user: { id: credential.user.id, display_name: credential.user.displayName, email: credential.user.email },
  });
});

const UNKNOWN_SCOPE = 'scope must be "looker:read" (read-only) or "looker:write" (everything your Looker role allows), or left out (everything).';

/**
 * What the command line asks a credential to do: `looker:read` read-only, `looker:write`
 * everything the person's Looker role allows. Without a scope it asks for everything, as
 * before scopes existed. Undefined for a scope this gateway does not have (invalid_scope).
 */
export function requestedScope(raw: string | undefined): GrantScope | undefined {
  return raw === undefined ? 'write' : parseScope(raw);
}

function consentGone(c: Context<AppEnv>) {
  return c.html(
    <ErrorPage
      title="This request has expired"
      message="The request to allow access has expired, was already answered, or was opened in another browser. If you just created a credential, it is listed under Your access; otherwise start the sign-in again."
      action={{ href: '/access', label: 'Your access' }}
    />,
    410,
    NO_STORE,
  );
}

function badRequest(c: Context<AppEnv>, message: string) {
  return c.html(<ErrorPage title="Cannot sign in the command line" message={message} />, 400, NO_STORE);
}

/** Forms that act (consent answers, device codes) come from this gateway's own pages only. */
function refuseCrossSite(c: Context<AppEnv>, gw: Gateway, route: string): Response | Promise<Response> | null {
  const verdict = checkPageFormOrigin(sourceOf(c.req.raw.headers), gw.origin);
  if (verdict.allowed) return null;
  gw.log.warn('csrf_refused', { requestId: c.get('requestId'), route, reason: verdict.reason });
  return c.html(<ErrorPage title="Forbidden" message="This form must be sent from this gateway's own pages." />, 403, NO_STORE);
}

/**
 * The command line's endpoints are called by the command line, which sends neither
 * Origin nor Sec-Fetch-Site; a browser sends them, and one that says another site sent
 * the request (a web page's form or fetch) is refused.
 */
function refuseBrowserCrossSite(c: Context<AppEnv>, gw: Gateway, route: string): Response | null {
  const verdict = checkRequestOrigin(sourceOf(c.req.raw.headers), gw.origin);
  if (verdict.allowed) return null;
  gw.log.warn('csrf_refused', { requestId: c.get('requestId'), route, reason: verdict.reason });
  return c.json(
    { error: 'invalid_request', error_description: 'This endpoint is for the command line; a request sent by a web page from another site is refused.' },
    403,
    NO_STORE,
  );
}

/** A small urlencoded form (the command line's calls and the pages' forms); null when it is too large or not a form. */
async function formOf(c: Context<AppEnv>): Promise<URLSearchParams | null> {
  const read = await readForm(c.req.raw);
  return read.ok && !read.empty ? read.form : null;
}
