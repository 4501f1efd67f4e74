/**
 * Looker's admin side: API-key login, sudo (`POST /login/{user_id}`), and the
 * `oauth_client_apps` endpoints that register the gateway and revoke its users' tokens.
 */
import type { Context, Hono } from 'hono';
import { publicView, type OAuthClientApp, type RegisteredApp } from './apps.ts';
import type { SimContext } from './context.ts';
import { forbidden, lookerError, notFound, presentedToken, validationFailed } from './http.ts';

const EDITABLE_FIELDS = ['redirect_uri', 'display_name', 'description', 'enabled', 'group_id'] as const;

/** Looker's API sessions (and the tokens sudo hands out) last an hour. */
const API_SESSION_TTL_SECONDS = 3599;

/** The API-key session a request presents, if it is open. */
export function apiSessionOf(sim: SimContext, c: Context) {
  const token = presentedToken(c);
  return token === undefined ? null : sim.state.liveApiSession(token);
}

/** `POST /api/4.0/login` and `POST /api/4.0/login/{user_id}`: before the API's token check, as they answer without one. */
export function registerApiLogin(app: Hono, sim: SimContext): void {
  const { state, stats } = sim;

  /** Form or query parameters; a wrong key answers 404, as Looker does. */
  app.post('/api/4.0/login', async (c) => {
    stats.apiLogins++;
    const url = new URL(c.req.url);
    const form = (c.req.header('content-type') ?? '').startsWith('application/x-www-form-urlencoded')
      ? new URLSearchParams(new TextDecoder().decode(await c.req.arrayBuffer()))
      : new URLSearchParams();
    const id = form.get('client_id') ?? url.searchParams.get('client_id');
    const secret = form.get('client_secret') ?? url.searchParams.get('client_secret');
    const key = sim.apiKeys.find((k) => k.clientId === id && k.clientSecret === secret);
    if (key === undefined) return notFound(c);
    const token = state.openApiSession(key.userId ?? state.firstUser.id, key.admin, API_SESSION_TTL_SECONDS);
    return c.json({ access_token: token, token_type: 'Bearer', expires_in: API_SESSION_TTL_SECONDS, refresh_token: null });
  });

  /**
   * Sudo: an admin's API session gets a token acting as another user. Anything else (no
   * session, a user's OAuth token, a non-admin key, an unknown user) answers 404, as Looker does.
   */
  app.post('/api/4.0/login/:user_id', (c) => {
    const session = apiSessionOf(sim, c);
    const target = state.user(c.req.param('user_id'));
    if (session === null || !session.admin || target === undefined) return notFound(c);
    const token = state.issueAccessToken({ userId: target.id, clientId: null, grantId: null }, API_SESSION_TTL_SECONDS);
    return c.json({ access_token: token, token_type: 'Bearer', expires_in: API_SESSION_TTL_SECONDS, refresh_token: null });
  });
}

/** `oauth_client_apps`: after the API's token check (401 without a token), 403 without an admin session. */
export function registerOAuthAppsAdmin(app: Hono, sim: SimContext): void {
  const { apps } = sim;

  /** The app the route names, or the answer to give instead. */
  function adminTarget(c: Context): RegisteredApp | Response {
    if (sim.options.withoutOAuthAppsApi) return notFound(c);
    if (!apiSessionOf(sim, c)?.admin) return forbidden(c);
    return apps.get(c.req.param('guid') ?? '') ?? notFound(c);
  }

  app.get('/api/4.0/oauth_client_apps/:guid', (c) => {
    const target = adminTarget(c);
    return target instanceof Response ? target : c.json(publicView(target));
  });

  app.post('/api/4.0/oauth_client_apps/:guid', async (c) => {
    if (sim.options.withoutOAuthAppsApi) return notFound(c);
    if (!apiSessionOf(sim, c)?.admin) return forbidden(c);
    const guid = c.req.param('guid');
    if (apps.has(guid)) return lookerError(c, 409, 'An OAuth client app with this client_guid already exists');
    const body = (await c.req.json().catch(() => ({}))) as Partial<OAuthClientApp>;
    if (typeof body.redirect_uri !== 'string' || body.redirect_uri === '') {
      return validationFailed(c, [{ field: 'redirect_uri', code: 'missing', message: 'redirect_uri is required' }]);
    }
    const created: RegisteredApp = {
      client_guid: guid,
      redirect_uri: body.redirect_uri,
      extraRedirectUris: [],
      display_name: body.display_name ?? '',
      description: body.description ?? '',
      enabled: body.enabled ?? true,
      group_id: body.group_id ?? null,
      tokens_invalid_before: null,
      activated_users: [],
    };
    apps.set(guid, created);
    return c.json(publicView(created));
  });

  app.patch('/api/4.0/oauth_client_apps/:guid', async (c) => {
    const target = adminTarget(c);
    if (target instanceof Response) return target;
    const body = (await c.req.json().catch(() => ({}))) as Partial<OAuthClientApp>;
    Object.assign(target, Object.fromEntries(EDITABLE_FIELDS.filter((f) => body[f] !== undefined).map((f) => [f, body[f]])));
    return c.json(publicView(target));
  });

  /** invalidate_tokens: every code and token issued for the app, for all its users. */
  app.delete('/api/4.0/oauth_client_apps/:guid/tokens', (c) => {
    const target = adminTarget(c);
    if (target instanceof Response) return target;
    sim.state.revokeOAuth({ clientId: target.client_guid });
    return c.body(null, 204);
  });

  /** deactivate_app_user: the user's codes and tokens for the app; like Looker, 204 even when there were none. */
  app.delete('/api/4.0/oauth_client_apps/:guid/users/:user_id', (c) => {
    if (sim.options.withoutOAuthAppsApi) return notFound(c);
    if (!apiSessionOf(sim, c)?.admin) return forbidden(c);
    sim.state.revokeOAuth({ clientId: c.req.param('guid'), userId: c.req.param('user_id') });
    return c.body(null, 204);
  });
}
