/**
 * Looker's OAuth server: `/auth` (with a consent page), `/api/token` (authorization_code
 * with PKCE S256, refresh_token) and logout, with the token endpoint's faults.
 */
import { sha256 } from '@oslojs/crypto/sha2';
import { encodeBase64urlNoPadding } from '@oslojs/encoding';
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import { redirectUrisOf } from './apps.ts';
import type { SimContext } from './context.ts';
import { hang, lookerError, presentedToken, requiresAuthentication } from './http.ts';
import { page, rejectionPage } from './page.ts';
import type { TokenOwner } from './state.ts';
import type { TokenFault } from './switches.ts';

/** The answers of the token-endpoint faults that answer at once (all but `ok` and `hang`). */
const TOKEN_FAULT_ANSWERS: Record<Exclude<TokenFault, 'ok' | 'hang'>, (c: Context) => Response> = {
  down: (c) => c.html('<!doctype html><html><body><h1>503 Service Unavailable</h1></body></html>', 503),
  'html-200': (c) => c.html('<!doctype html><html><body>Looker is starting</body></html>', 200),
  'forbidden-html': (c) =>
    c.html('<!doctype html><html><head><title>403 Forbidden</title></head><body><h1>403 Forbidden</h1><p>Request blocked.</p></body></html>', 403),
  'rate-limited': (c) => lookerError(c, 429, 'Too Many Requests', { 'retry-after': '7' }),
  'server-error': (c) => c.json({ error: 'server_error' }, 500),
  'bad-request-text': (c) => c.text('Bad Request', 400),
  'invalid-grant': (c) => c.json({ error: 'invalid_grant' }, 400),
};

type TokenParams = Record<string, string>;

export function registerOAuthRoutes(app: Hono, sim: SimContext): void {
  const { state, settings, faults, stats } = sim;

  function tokenError(c: Context, status: 400 | 401, error: string, description: string) {
    if (settings.tokenErrorShape === 'html') {
      return c.html(`<!doctype html><html><body><h1>Error ${status}</h1><p>${description}</p></body></html>`, status);
    }
    if (settings.tokenErrorShape === 'looker') return lookerError(c, status, description);
    return c.json({ error, error_description: description }, status);
  }

  /** Looker's /auth checks; a bad client or redirect URI is answered here, never redirected. */
  function checkAuthorizationRequest(params: URLSearchParams): string | null {
    const registered = sim.apps.get(params.get('client_id') ?? '');
    if (registered === undefined) return 'Unknown client_id: no OAuth client app is registered with this client_guid.';
    if (!registered.enabled) return 'This OAuth client app is disabled.';
    if (!redirectUrisOf(registered).includes(params.get('redirect_uri') ?? '')) {
      return 'The redirect_uri does not match the one registered for this OAuth client app.';
    }
    return null;
  }

  /** Only called once checkAuthorizationRequest passed, so redirect_uri is a registered URL. */
  function redirectWith(params: URLSearchParams, extra: Record<string, string>) {
    const target = new URL(params.get('redirect_uri')!);
    for (const [k, v] of Object.entries(extra)) target.searchParams.set(k, v);
    const state = params.get('state');
    if (state !== null) target.searchParams.set('state', state);
    return target.href;
  }

  /** What /auth does once the user approved: validate the PKCE parameters and issue a code. */
  function approve(params: URLSearchParams): string {
    if (params.get('response_type') !== 'code') return redirectWith(params, { error: 'unsupported_response_type' });
    const scope = params.get('scope') ?? '';
    if (!scope.split(' ').includes('cors_api')) return redirectWith(params, { error: 'invalid_scope' });
    const challenge = params.get('code_challenge') ?? '';
    if (params.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) {
      return redirectWith(params, { error: 'invalid_request', error_description: 'PKCE with S256 is required' });
    }
    const code = state.createCode(
      { clientId: params.get('client_id')!, redirectUri: params.get('redirect_uri')!, codeChallenge: challenge },
      settings.codeTtlSeconds,
    );
    return redirectWith(params, { code });
  }

  app.get('/auth', (c) => {
    const params = new URL(c.req.url).searchParams;
    const problem = checkAuthorizationRequest(params);
    if (problem !== null) return c.html(rejectionPage(problem), 400);
    if (settings.autoApprove) return c.redirect(approve(params), 302);
    const user = state.signedInUser;
    const hidden = [...params.entries()].map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}" />`);
    return c.html(
      page(
        'Allow access?',
        html`<p>You are signed in to Looker (simulator) as <strong>${user.display_name}</strong> (${user.email}).</p>
          <p>The application <strong>${params.get('client_id')}</strong> wants to use the Looker API on your behalf.</p>
          <form method="post" action="/auth/decision">
            ${hidden}
            <button type="submit" name="decision" value="allow" id="allow">Allow</button>
            <button type="submit" name="decision" value="deny" id="deny" class="secondary">Deny</button>
          </form>`,
      ),
    );
  });

  app.post('/auth/decision', async (c) => {
    const form = await c.req.formData();
    const params = new URLSearchParams();
    for (const [k, v] of form.entries()) if (typeof v === 'string' && k !== 'decision') params.set(k, v);
    const problem = checkAuthorizationRequest(params);
    if (problem !== null) return c.html(rejectionPage(problem), 400);
    if (form.get('decision') !== 'allow') return c.redirect(redirectWith(params, { error: 'access_denied' }), 302);
    return c.redirect(approve(params), 302);
  });

  /** The token endpoint's answer body for a grant: a new access token, and the refresh token given. */
  function tokensFor(owner: TokenOwner, refreshToken: string | null) {
    return {
      access_token: state.issueAccessToken(owner, settings.accessTokenTtlSeconds),
      token_type: 'Bearer',
      expires_in: settings.accessTokenTtlSeconds,
      refresh_token: refreshToken,
    };
  }

  function exchangeCode(c: Context, params: TokenParams) {
    const code = state.takeCode(params.code ?? '');
    if (code === undefined || code.clientId !== params.client_id) {
      return tokenError(c, 400, 'invalid_grant', 'Unknown or already used authorization code.');
    }
    if (code.expiresAt <= state.now()) return tokenError(c, 400, 'invalid_grant', 'The authorization code has expired.');
    if (code.redirectUri !== params.redirect_uri) return tokenError(c, 400, 'invalid_grant', 'redirect_uri differs from the authorization request.');
    const verifier = params.code_verifier ?? '';
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return tokenError(c, 400, 'invalid_grant', 'Malformed code_verifier.');
    const challenge = encodeBase64urlNoPadding(sha256(new TextEncoder().encode(verifier)));
    if (challenge !== code.codeChallenge) return tokenError(c, 400, 'invalid_grant', 'code_verifier does not match code_challenge.');
    const owner = { userId: code.userId, clientId: code.clientId, grantId: code.grantId };
    return c.json(tokensFor(owner, state.issueRefreshToken(owner)));
  }

  function refresh(c: Context, params: TokenParams) {
    const presented = params.refresh_token ?? '';
    const owner = state.refreshToken(presented);
    if (owner === undefined) return tokenError(c, 400, 'invalid_grant', 'Unknown, revoked or already used refresh token.');
    switch (settings.refreshTokenMode) {
      case 'rotate':
        state.spendRefreshToken(presented);
        return c.json(tokensFor(owner, state.issueRefreshToken(owner)));
      case 'same':
        return c.json(tokensFor(owner, presented));
      case 'null':
        return c.json(tokensFor(owner, null));
    }
  }

  /** The token request's parameters from a JSON or form body, or the error answer for any other body. */
  async function readTokenParams(c: Context, contentType: string): Promise<TokenParams | Response> {
    if (contentType.startsWith('application/json')) {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return tokenError(c, 400, 'invalid_request', 'The body is not valid JSON.');
      }
      const entries = Object.entries(typeof body === 'object' && body !== null ? body : {});
      return Object.fromEntries(entries.filter((e): e is [string, string] => typeof e[1] === 'string'));
    }
    if (contentType.startsWith('application/x-www-form-urlencoded')) {
      return Object.fromEntries(new URLSearchParams(new TextDecoder().decode(await c.req.arrayBuffer())));
    }
    return tokenError(c, 400, 'invalid_request', 'Unsupported content type.');
  }

  app.post('/api/token', async (c) => {
    const contentType = c.req.header('content-type') ?? '';
    const params = await readTokenParams(c, contentType);
    if (params instanceof Response) return params;
    const grantType = params.grant_type ?? '';
    const kind = grantType === 'authorization_code' || grantType === 'refresh_token' ? grantType : 'other';
    stats.tokenRequests[kind]++;
    stats.lastTokenRequest = { contentType, hadAuthorization: c.req.header('authorization') !== undefined, params };

    if (faults.token === 'hang') return hang(c.req.raw.signal);
    if (faults.token !== 'ok') return TOKEN_FAULT_ANSWERS[faults.token](c);

    if (c.req.header('authorization')?.startsWith('Basic ')) return lookerError(c, 401, 'Failed Basic Authentication');
    const registered = sim.apps.get(params.client_id ?? '');
    if (registered === undefined || !registered.enabled) return tokenError(c, 400, 'invalid_client', 'Unknown or disabled client_id.');
    if (!redirectUrisOf(registered).includes(params.redirect_uri ?? '')) {
      return tokenError(c, 400, 'invalid_grant', 'redirect_uri does not match the registered one.');
    }
    if (kind === 'authorization_code') return exchangeCode(c, params);
    if (kind === 'refresh_token') return refresh(c, params);
    return tokenError(c, 400, 'unsupported_grant_type', 'Unsupported grant_type.');
  });

  /** Ends an API-key session, or kills an access token (and, per settings, its grant's refresh token). */
  const logout = (c: Context) => {
    stats.logouts++;
    if (faults.logout === 'down') return lookerError(c, 500, 'Internal error');
    const token = presentedToken(c);
    if (token === undefined) return requiresAuthentication(c);
    if (state.endApiSession(token) || state.logOut(token, settings.logoutRevokesRefreshToken)) return c.body(null, 204);
    return requiresAuthentication(c);
  };
  app.delete('/api/logout', logout);
  app.delete('/api/4.0/logout', logout);
}
