/**
 * The gateway as an OAuth 2.1 authorization server for AI agents (MCP clients), for one
 * resource: its own /mcp. Discovery (RFC 8414, RFC 9728), dynamic client registration
 * (RFC 7591) and client metadata documents, the authorization endpoint (PKCE S256 only;
 * the person signs in to Looker for the agent's own grant, then answers a consent page),
 * the token endpoint (codes single use, refresh tokens rotated) and revocation (RFC 7009).
 * Routes orchestrate; clients are callers/agent-clients.ts, codes callers/credential-flows.ts,
 * tokens callers/agent-tokens.ts.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import { CODE_REPLAY_WINDOW_MS, type AgentFlow } from '../callers/credential-flows.ts';
import { cookies } from '../callers/cookies.ts';
import { logClientId } from '../callers/agent-tokens.ts';
import { SignInTooLargeError } from '../callers/sign-ins.ts';
import type { AppEnv, Gateway } from '../context.ts';
import { parseScope } from '../grants/scope.ts';
import { readAtMost, readForm } from '../http/form.ts';
import { openToAnyOrigin } from '../http/open-cors.ts';
import { checkPageFormOrigin, sourceOf } from '../http/same-origin.ts';
import { revokeAccessToken } from '../looker/oauth.ts';
import { authorizationServerMetadata, mcpResource, protectedResourceMetadata } from '../oauth/metadata.ts';
import { matchRedirectUri } from '../oauth/redirect-uris.ts';
import { startSignIn, storageUnavailable } from './flows.tsx';
import { oauthError, withParams } from './oauth-answers.ts';
import { allowFormTarget } from './page-headers.ts';
import { AgentConsentPage } from './views/agent-consent.tsx';
import { ErrorPage } from './views/error.tsx';

export const oauthRoutes = new Hono<AppEnv>();

const NO_STORE = { 'cache-control': 'no-store' };
/** A registration is a few hundred bytes; more is refused unread. */
const REGISTRATION_LIMIT_BYTES = 8 * 1024;

for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp', '/oauth/register', '/oauth/token', '/oauth/revoke']) {
  oauthRoutes.use(path, openToAnyOrigin);
}

oauthRoutes.get('/.well-known/oauth-authorization-server', (c) => c.json(authorizationServerMetadata(c.get('gateway').origin), 200, { 'cache-control': 'public, max-age=300' }));
const resourceMetadata = (c: Context<AppEnv>) => c.json(protectedResourceMetadata(c.get('gateway').origin), 200, { 'cache-control': 'public, max-age=300' });
oauthRoutes.get('/.well-known/oauth-protected-resource', resourceMetadata);
oauthRoutes.get('/.well-known/oauth-protected-resource/mcp', resourceMetadata);

/** RFC 7591: a public client registers its name and redirect URIs; it gets a client_id (no secret: PKCE is its proof). */
oauthRoutes.post('/oauth/register', async (c) => {
  const gw = c.get('gateway');
  c.header('cache-control', 'no-store');
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') return oauthError(c, 'invalid_client_metadata', 'The body must be application/json.');
  const declared = Number(c.req.header('content-length') ?? NaN);
  const bytes = Number.isFinite(declared) && declared > REGISTRATION_LIMIT_BYTES ? null : c.req.raw.body === null ? new Uint8Array(0) : await readAtMost(c.req.raw.body, REGISTRATION_LIMIT_BYTES);
  if (bytes === null) return oauthError(c, 'invalid_client_metadata', `The registration must be at most ${REGISTRATION_LIMIT_BYTES} bytes.`, 413);
  let metadata: unknown;
  try {
    metadata = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return oauthError(c, 'invalid_client_metadata', 'The body is not JSON.');
  }
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return oauthError(c, 'invalid_client_metadata', 'The body must be a JSON object.');
  let registered;
  try {
    registered = await gw.agentClients.register(metadata as Record<string, unknown>);
  } catch {
    return c.json({ error: 'temporarily_unavailable', error_description: 'The gateway could not store the registration; try again.' }, 503, { 'retry-after': '5' });
  }
  if (!registered.ok) return oauthError(c, registered.error, registered.description);
  const { client } = registered;
  gw.log.info('agent_registered', { requestId: c.get('requestId'), clientId: client.clientId });
  return c.json(
    {
      client_id: client.clientId,
      client_id_issued_at: Math.floor(registered.issuedAt / 1000),
      client_name: client.name,
      redirect_uris: client.redirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    },
    201,
  );
});

/**
 * The authorization request. Until the client and its redirect_uri are known to be good,
 * an error is a page here (never a redirect to an address nobody vouched for); after
 * that, errors go back to the client (RFC 6749 §4.1.2.1) with `iss` (RFC 9207).
 */
oauthRoutes.get('/oauth/authorize', async (c) => {
  const gw = c.get('gateway');
  const q = c.req.query();
  const found = await gw.agentClients.find(q.client_id).catch(() => null);
  if (found === null) return storageUnavailable(c, 'look up the application', c.req.path);
  if (!found.ok) return cannotAuthorize(c, found.problem);
  const { client } = found;
  const redirectUri = matchRedirectUri(client.redirectUris, q.redirect_uri);
  if (redirectUri === null) {
    return cannotAuthorize(c, 'The application asked to send you back to an address it did not register (redirect_uri), so this gateway will not send you there.');
  }
  const state = q.state;
  const back = (error: string, description: string) => c.redirect(withParams(redirectUri, { error, error_description: description, state, iss: gw.origin }), 302);
  if (state !== undefined && state.length > 1024) return back('invalid_request', 'state is too long (at most 1024 characters).');
  if (q.response_type !== 'code') return back('unsupported_response_type', 'response_type must be code.');
  if (q.code_challenge_method !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(q.code_challenge ?? '')) {
    return back('invalid_request', 'PKCE is required: code_challenge with code_challenge_method=S256.');
  }
  const scope = parseScope(q.scope);
  if (scope === undefined) return back('invalid_scope', 'The scopes here are looker:read and looker:write.');
  const resource = mcpResource(gw.origin);
  if (q.resource !== undefined && q.resource !== resource) return back('invalid_target', `The only resource here is ${resource}.`);
  const flow: AgentFlow = {
    kind: 'agent',
    clientId: client.clientId,
    clientName: client.name,
    registration: client.registration,
    redirectUri,
    codeChallenge: q.code_challenge!,
    state,
    scope,
    resource,
  };
  // The agent gets a Looker grant of its own: the person signs in to Looker for it, then answers the consent page.
  try {
    return await startSignIn(c, gw, { kind: 'credential', name: client.name, flow });
  } catch (error) {
    // The request travels through the sign-in in a cookie: said now, not lost at the callback.
    if (error instanceof SignInTooLargeError) return back('invalid_request', 'The request is too large to carry through the sign-in (client_id, redirect_uri, client name and state together, about 3 KB at most); send a shorter state.');
    throw error;
  }
});

oauthRoutes.get('/oauth/consent/:id', async (c) => {
  const gw = c.get('gateway');
  const id = c.req.param('id');
  const pending = await gw.flows.peekConsent(id, cookies.readConsent(c, id), 'agent').catch(() => null);
  if (pending === null || pending.flow.kind !== 'agent') return consentGone(c);
  // The answer redirects to the application: the form's CSP must allow that target.
  allowFormTarget(c, pending.flow.redirectUri);
  return c.html(<AgentConsentPage pending={pending} flow={pending.flow} />, 200, NO_STORE);
});

oauthRoutes.post('/oauth/consent/:id', async (c) => {
  const gw = c.get('gateway');
  const verdict = checkPageFormOrigin(sourceOf(c.req.raw.headers), gw.origin);
  if (!verdict.allowed) {
    gw.log.warn('csrf_refused', { requestId: c.get('requestId'), route: '/oauth/consent', reason: verdict.reason });
    return c.html(<ErrorPage title="Forbidden" message="This form must be sent from this gateway's own pages." />, 403, NO_STORE);
  }
  const id = c.req.param('id');
  const read = await readForm(c.req.raw);
  const form = read.ok ? read.form : new URLSearchParams();
  const taken = await gw.flows.takeConsent(id, cookies.readConsent(c, id), 'agent').catch(() => undefined);
  cookies.clearConsent(c, id);
  if (taken === undefined) return storageUnavailable(c, 'record your answer', '/');
  if (taken === null || taken.pending.flow.kind !== 'agent') return consentGone(c);
  const { pending, held } = taken;
  const flow = pending.flow as AgentFlow;
  const allowed = form.get('decision') === 'allow';
  gw.log.info('consent_answered', { requestId: c.get('requestId'), allowed, flow: 'agent', personKey: pending.personKey });
  c.header('cache-control', 'no-store');
  if (!allowed) {
    await revokeAccessToken(gw.oauth, held.tokens.accessToken).catch(() => {});
    return c.redirect(withParams(flow.redirectUri, { error: 'access_denied', error_description: 'The person chose Deny.', state: flow.state, iss: gw.origin }), 303);
  }
  // Read-only unless the person ticked write access (only offered when the application asked for it).
  const granted = flow.scope === 'write' && form.get('write') === 'on' ? 'write' : 'read';
  try {
    const code = await gw.flows.issueAgentCode(held, flow, granted);
    return c.redirect(withParams(flow.redirectUri, { code, state: flow.state, iss: gw.origin }), 303);
  } catch {
    await revokeAccessToken(gw.oauth, held.tokens.accessToken).catch(() => {});
    return storageUnavailable(c, 'finish the authorization', '/');
  }
});

/** The token endpoint (RFC 6749 §3.2): codes and refresh tokens, for public clients (client_id, no secret). */
oauthRoutes.post('/oauth/token', async (c) => {
  const gw = c.get('gateway');
  c.header('cache-control', 'no-store');
  c.header('pragma', 'no-cache');
  const read = await readForm(c.req.raw);
  if (!read.ok || read.empty) return oauthError(c, 'invalid_request', 'The body must be a non-empty application/x-www-form-urlencoded form.');
  const form = read.form;
  const field = (name: string) => form.get(name) ?? undefined;
  try {
    switch (field('grant_type')) {
      case 'authorization_code':
        return await redeemCode(c, gw, form);
      case 'refresh_token': {
        // RFC 8707 §2.2: a refresh may name the resource again; any other is refused, the token unspent.
        const resource = field('resource');
        if (resource !== undefined && resource !== mcpResource(gw.origin)) return oauthError(c, 'invalid_target', `The only resource here is ${mcpResource(gw.origin)}.`);
        // RFC 6749 §6: a refresh may ask for no more than was granted (more takes a new authorization, where the person is asked).
        const asked = field('scope');
        const wanted = asked === undefined ? undefined : parseScope(asked);
        if (asked !== undefined && wanted === undefined) return oauthError(c, 'invalid_scope', 'scope may name only looker:read and looker:write.');
        const refreshed = await gw.agents.refresh(field('refresh_token'), field('client_id'), wanted);
        if (refreshed.ok) return c.json(refreshed.answer);
        return oauthError(c, refreshed.error ?? 'invalid_grant', refreshed.reason);
      }
      default:
        return oauthError(c, 'unsupported_grant_type', 'grant_type must be authorization_code or refresh_token.');
    }
  } catch {
    return c.json({ error: 'temporarily_unavailable', error_description: 'The gateway could not reach its storage; try again.' }, 503, { 'retry-after': '5' });
  }
});

async function redeemCode(c: Context<AppEnv>, gw: Gateway, form: URLSearchParams): Promise<Response> {
  const field = (name: string) => form.get(name) ?? undefined;
  const redeemed = await gw.flows.redeemAgentCode(field('code'), {
    verifier: field('code_verifier'),
    redirectUri: field('redirect_uri'),
    clientId: field('client_id'),
    resource: field('resource'),
  });
  if (!redeemed.ok) {
    // A code spent with the wrong verifier, client, redirect_uri or resource creates nothing: its Looker grant is ended.
    if (redeemed.spent !== undefined) await revokeAccessToken(gw.oauth, redeemed.spent.tokens.accessToken).catch(() => {});
    // A code used twice: whoever redeemed it first may not be the application the person allowed. What it issued ends,
    // if it was issued lately (CODE_REPLAY_WINDOW_MS): a grant not made yet is ended by the mark the redemption left.
    if (redeemed.replayed !== undefined) {
      const { personKey, grantId } = redeemed.replayed;
      const grant = await gw.keeper.describe(personKey, grantId);
      if (grant !== null && gw.now() - grant.createdAt <= CODE_REPLAY_WINDOW_MS) {
        const ended = await gw.keeper.end(personKey, { grantId }, 'authorization code used twice');
        if (ended.length > 0) gw.log.warn('agent_code_replayed', { requestId: c.get('requestId'), clientId: ended[0]!.clientId === undefined ? undefined : logClientId(ended[0]!.clientId) });
      }
    }
    return oauthError(c, 'invalid_grant', redeemed.reason);
  }
  let answer;
  let replayed = false;
  try {
    answer = await gw.agents.create(redeemed, gw.config.credentialTtlMs);
    // The same code presented again meanwhile: before this grant existed for it to end, or
    // after, ending it before its tokens were stored (then `create` answered null).
    replayed = await gw.flows.codeWasReplayed(redeemed.held.personKey, redeemed.grantId);
  } catch {
    answer = null;
  }
  if (answer === null || replayed) {
    const ended = await gw.keeper.end(redeemed.held.personKey, { grantId: redeemed.grantId }, replayed ? 'authorization code used twice' : 'could not issue the tokens').catch(() => []);
    // Its Looker token ends too, even when the ledger had nothing (left) to end.
    if (!replayed || ended.length === 0) await revokeAccessToken(gw.oauth, redeemed.held.tokens.accessToken).catch(() => {});
    if (!replayed) {
      return c.json({ error: 'temporarily_unavailable', error_description: 'The gateway could not store the authorization, so nothing was created. Authorize again.' }, 503, { 'retry-after': '5' });
    }
    if (ended.length > 0) gw.log.warn('agent_code_replayed', { requestId: c.get('requestId'), clientId: logClientId(redeemed.agent.clientId) });
    return oauthError(c, 'invalid_grant', 'The code was used twice, so the authorization has ended. Authorize again.');
  }
  return c.json(answer);
}

/** RFC 7009: always 200, whether or not the token was known (nothing to learn from the answer). */
oauthRoutes.post('/oauth/revoke', async (c) => {
  const gw = c.get('gateway');
  c.header('cache-control', 'no-store');
  const read = await readForm(c.req.raw);
  if (!read.ok) return oauthError(c, 'invalid_request', 'The body must be an application/x-www-form-urlencoded form.');
  try {
    await gw.agents.revoke(read.form.get('token') ?? undefined, read.form.get('client_id') ?? undefined);
  } catch {
    return c.json({ error: 'temporarily_unavailable', error_description: 'The gateway could not reach its storage; try again.' }, 503, { 'retry-after': '5' });
  }
  return c.body(null, 200);
});

function cannotAuthorize(c: Context<AppEnv>, message: string) {
  return c.html(<ErrorPage title="Cannot authorize this application" message={message} />, 400, NO_STORE);
}

function consentGone(c: Context<AppEnv>) {
  return c.html(
    <ErrorPage
      title="This request has expired"
      message="The request to allow access has expired, was already answered, or was opened in another browser. Start again from the application."
      action={{ href: '/access', label: 'Your access' }}
    />,
    410,
    NO_STORE,
  );
}

