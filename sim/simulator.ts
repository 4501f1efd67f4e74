/**
 * A local Looker, faithful to what is known of Looker's OAuth server and API
 * (shared/looker-oauth.md), with switches for what is unknown: whether refresh tokens
 * rotate, what error bodies look like, outages. Runs anywhere Hono runs: inside the
 * Workers test runtime (tests call `sim.fetch` directly) and in Node (`npm run sim`).
 *
 * Plain TypeScript with erasable types only, so Node runs it without a build step.
 */
import { sha256 } from '@oslojs/crypto/sha2';
import { encodeBase64urlNoPadding } from '@oslojs/encoding';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { html } from 'hono/html';

export interface SimulatedUser {
  id: string;
  display_name: string;
  email: string;
}

export interface SimulatorOptions {
  /** The registered client_guid. */
  clientId?: string;
  /** Registered redirect URIs (exact match, as Looker checks). */
  redirectUris?: string[];
  /** Approve every authorization request without showing the consent page. */
  autoApprove?: boolean;
  accessTokenTtlSeconds?: number;
  codeTtlSeconds?: number;
  /**
   * What a refresh returns: `rotate` a new refresh token and kill the old one (the
   * strictest reading), `null` no refresh token (keep the old one), `same` the old one.
   */
  refreshTokenMode?: 'rotate' | 'null' | 'same';
  /** Error body shape of the token endpoint. */
  tokenErrorShape?: 'oauth' | 'looker' | 'html';
  now?: () => number;
  user?: SimulatedUser;
  /** Where this Looker says it lives (GET /api/4.0/versions): both URLs, unless given apart. */
  publicUrl?: string;
  webServerUrl?: string;
  apiServerUrl?: string;
  /** Register the gateway's app at start (default true); false starts with no OAuth apps. */
  registerApp?: boolean;
  /** API keys for `POST /api/4.0/login`; `admin: false` keys get 403 on admin endpoints. */
  apiKeys?: { clientId: string; clientSecret: string; admin: boolean }[];
  /** A Looker too old for oauth_client_apps: those endpoints answer 404. */
  withoutOAuthAppsApi?: boolean;
}

/** An OAuth client app as Looker's API shows it (`oauth_client_apps/{client_guid}`). */
export interface OAuthClientApp {
  client_guid: string;
  redirect_uri: string;
  display_name: string;
  description: string;
  enabled: boolean;
  group_id: string | null;
  tokens_invalid_before: string | null;
  activated_users: unknown[];
}

/** Switchable failures, changed by tests between requests. */
export interface SimulatorFaults {
  /** Every request fails as if the network were down (the fetch rejects). */
  unreachable: boolean;
  /** `/api/token`: answer normally, 503 with an HTML page, never answer, or 200 with HTML. */
  token: 'ok' | 'down' | 'hang' | 'html-200';
  /** `/api/4.0/*`: answer normally, 503, or never answer. */
  api: 'ok' | 'down' | 'hang';
  /** `/api/logout`: answer normally or 500. */
  logout: 'ok' | 'down';
}

export interface SimulatorStats {
  tokenRequests: { authorization_code: number; refresh_token: number; other: number };
  /** The most recent token request, as the simulator saw it (for protocol assertions). */
  lastTokenRequest: { contentType: string; hadAuthorization: boolean; params: Record<string, string> } | null;
  logouts: number;
  apiRequests: number;
  versionsRequests: number;
  apiLogins: number;
}

interface CodeGrant {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  expiresAt: number;
}

interface AccessGrant {
  userId: string;
  expiresAt: number;
}

const DEFAULT_USER: SimulatedUser = { id: '42', display_name: 'Dana Demo', email: 'dana.demo@example.com' };
const DOCS = 'https://cloud.google.com/looker/docs/r/err/4.0/';

export function createLookerSimulator(options: SimulatorOptions = {}) {
  const clientId = options.clientId ?? 'gateway-dev';
  const redirectUris = options.redirectUris ?? ['http://localhost:8787/callback', 'http://127.0.0.1:8787/callback'];
  /** Registered OAuth apps; `extraRedirectUris` stands for newer Lookers' list of redirect URIs. */
  const apps = new Map<string, OAuthClientApp & { extraRedirectUris: string[] }>();
  if (options.registerApp !== false) {
    apps.set(clientId, {
      client_guid: clientId,
      redirect_uri: redirectUris[0] ?? '',
      extraRedirectUris: redirectUris.slice(1),
      display_name: 'Looker OAuth Gateway',
      description: 'Registered by the simulator',
      enabled: true,
      group_id: null,
      tokens_invalid_before: null,
      activated_users: [],
    });
  }
  const apiKeys = options.apiKeys ?? [{ clientId: 'sim-admin-id', clientSecret: 'sim-admin-secret', admin: true }];
  const apiSessions = new Map<string, { admin: boolean; expiresAt: number }>();
  const registeredUris = (guid: string | undefined): string[] => {
    const app = guid === undefined ? undefined : apps.get(guid);
    return app === undefined ? [] : [app.redirect_uri, ...app.extraRedirectUris];
  };
  const now = options.now ?? Date.now;
  const user = options.user ?? DEFAULT_USER;
  const settings = {
    autoApprove: options.autoApprove ?? false,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 3600,
    codeTtlSeconds: options.codeTtlSeconds ?? 600,
    refreshTokenMode: options.refreshTokenMode ?? 'rotate',
    tokenErrorShape: options.tokenErrorShape ?? 'oauth',
  };
  const faults: SimulatorFaults = { unreachable: false, token: 'ok', api: 'ok', logout: 'ok' };
  const stats: SimulatorStats = {
    tokenRequests: { authorization_code: 0, refresh_token: 0, other: 0 },
    lastTokenRequest: null,
    logouts: 0,
    apiRequests: 0,
    versionsRequests: 0,
    apiLogins: 0,
  };

  const hooks: { downloadGate: Promise<void>; onUploadChunk?: (bytesSoFar: number) => void } = {
    downloadGate: Promise.resolve(),
  };

  const codes = new Map<string, CodeGrant>();
  const accessTokens = new Map<string, AccessGrant>();
  const refreshTokens = new Map<string, { userId: string }>();

  const randomToken = (bytes = 24) => encodeBase64urlNoPadding(crypto.getRandomValues(new Uint8Array(bytes)));

  function issueTokens(userId: string, refreshToken: string | null) {
    const accessToken = randomToken();
    accessTokens.set(accessToken, { userId, expiresAt: now() + settings.accessTokenTtlSeconds * 1000 });
    if (refreshToken !== null) refreshTokens.set(refreshToken, { userId });
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: settings.accessTokenTtlSeconds,
      refresh_token: refreshToken,
    };
  }

  function tokenError(c: Context, status: 400 | 401, error: string, description: string) {
    if (settings.tokenErrorShape === 'html') {
      return c.html(`<!doctype html><html><body><h1>Error ${status}</h1><p>${description}</p></body></html>`, status);
    }
    if (settings.tokenErrorShape === 'looker') {
      return c.json({ message: description, documentation_url: DOCS }, status);
    }
    return c.json({ error, error_description: description }, status);
  }

  /** Looker's /auth checks; a bad client or redirect URI is answered here, never redirected. */
  function checkAuthorizationRequest(params: URLSearchParams): string | null {
    const app = apps.get(params.get('client_id') ?? '');
    if (app === undefined) return 'Unknown client_id: no OAuth client app is registered with this client_guid.';
    if (!app.enabled) return 'This OAuth client app is disabled.';
    if (!registeredUris(app.client_guid).includes(params.get('redirect_uri') ?? '')) {
      return 'The redirect_uri does not match the one registered for this OAuth client app.';
    }
    return null;
  }

  function redirectWith(params: URLSearchParams, extra: Record<string, string>) {
    const target = new URL(params.get('redirect_uri')!);
    for (const [k, v] of Object.entries(extra)) target.searchParams.set(k, v);
    const state = params.get('state');
    if (state !== null) target.searchParams.set('state', state);
    return target.href;
  }

  /** What /auth does once the user approved: validate the PKCE parameters and issue a code. */
  function approve(params: URLSearchParams): string {
    if (params.get('response_type') !== 'code') {
      return redirectWith(params, { error: 'unsupported_response_type' });
    }
    const scope = params.get('scope') ?? '';
    if (!scope.split(' ').includes('cors_api')) return redirectWith(params, { error: 'invalid_scope' });
    const challenge = params.get('code_challenge') ?? '';
    if (params.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) {
      return redirectWith(params, { error: 'invalid_request', error_description: 'PKCE with S256 is required' });
    }
    const code = randomToken();
    codes.set(code, {
      clientId: params.get('client_id')!,
      redirectUri: params.get('redirect_uri')!,
      codeChallenge: challenge,
      expiresAt: now() + settings.codeTtlSeconds * 1000,
    });
    return redirectWith(params, { code });
  }

  function bearer(c: Context): AccessGrant | null {
    const header = c.req.header('authorization') ?? '';
    const match = /^(?:Bearer|token) (.+)$/i.exec(header);
    if (match === null) return null;
    const grant = accessTokens.get(match[1]!);
    if (grant === undefined || grant.expiresAt <= now()) return null;
    return grant;
  }

  function requiresAuthentication(c: Context) {
    return c.json({ message: 'Requires authentication.', documentation_url: DOCS }, 401);
  }

  /** Never answers (for two minutes); ends quietly when the caller gives up. */
  const hang = (signal: AbortSignal) =>
    new Promise<Response>((resolve) => {
      const end = () => resolve(new Response(null, { status: 499 }));
      const timer = setTimeout(end, 120_000);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        end();
      });
    });

  const app = new Hono();

  app.get('/auth', (c) => {
    const params = new URL(c.req.url).searchParams;
    const problem = checkAuthorizationRequest(params);
    if (problem !== null) return c.html(page('Request rejected', html`<p class="error">${problem}</p>`), 400);
    if (settings.autoApprove) return c.redirect(approve(params), 302);
    const hidden = [...params.entries()].map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}" />`);
    return c.html(
      page(
        'Allow access?',
        html`<p>You are signed in to Looker (simulator) as <strong>${user.display_name}</strong> (${user.email}).</p>
          <p>The application <strong>${clientId}</strong> wants to use the Looker API on your behalf.</p>
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
    if (problem !== null) return c.html(page('Request rejected', html`<p class="error">${problem}</p>`), 400);
    if (form.get('decision') !== 'allow') return c.redirect(redirectWith(params, { error: 'access_denied' }), 302);
    return c.redirect(approve(params), 302);
  });

  app.post('/api/token', async (c) => {
    const contentType = c.req.header('content-type') ?? '';
    let params: Record<string, string>;
    if (contentType.startsWith('application/json')) {
      try {
        const body: unknown = await c.req.json();
        params = Object.fromEntries(
          Object.entries(typeof body === 'object' && body !== null ? body : {}).filter(
            (e): e is [string, string] => typeof e[1] === 'string',
          ),
        );
      } catch {
        return tokenError(c, 400, 'invalid_request', 'The body is not valid JSON.');
      }
    } else if (contentType.startsWith('application/x-www-form-urlencoded')) {
      params = Object.fromEntries(new URLSearchParams(new TextDecoder().decode(await c.req.arrayBuffer())));
    } else {
      return tokenError(c, 400, 'invalid_request', 'Unsupported content type.');
    }
    const grantType = params.grant_type ?? '';
    const kind = grantType === 'authorization_code' || grantType === 'refresh_token' ? grantType : 'other';
    stats.tokenRequests[kind]++;
    stats.lastTokenRequest = { contentType, hadAuthorization: c.req.header('authorization') !== undefined, params };

    if (faults.token === 'down') {
      return c.html('<!doctype html><html><body><h1>503 Service Unavailable</h1></body></html>', 503);
    }
    if (faults.token === 'hang') return hang(c.req.raw.signal);
    if (faults.token === 'html-200') return c.html('<!doctype html><html><body>Looker is starting</body></html>', 200);

    if (c.req.header('authorization')?.startsWith('Basic ')) {
      return c.json({ message: 'Failed Basic Authentication', documentation_url: DOCS }, 401);
    }
    const app = apps.get(params.client_id ?? '');
    if (app === undefined || !app.enabled) return tokenError(c, 400, 'invalid_client', 'Unknown or disabled client_id.');
    if (!registeredUris(app.client_guid).includes(params.redirect_uri ?? '')) {
      return tokenError(c, 400, 'invalid_grant', 'redirect_uri does not match the registered one.');
    }

    if (grantType === 'authorization_code') {
      const code = codes.get(params.code ?? '');
      if (code === undefined || code.clientId !== params.client_id) {
        return tokenError(c, 400, 'invalid_grant', 'Unknown or already used authorization code.');
      }
      codes.delete(params.code!);
      if (code.expiresAt <= now()) return tokenError(c, 400, 'invalid_grant', 'The authorization code has expired.');
      if (code.redirectUri !== params.redirect_uri) return tokenError(c, 400, 'invalid_grant', 'redirect_uri differs from the authorization request.');
      const verifier = params.code_verifier ?? '';
      if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return tokenError(c, 400, 'invalid_grant', 'Malformed code_verifier.');
      const challenge = encodeBase64urlNoPadding(sha256(new TextEncoder().encode(verifier)));
      if (challenge !== code.codeChallenge) return tokenError(c, 400, 'invalid_grant', 'code_verifier does not match code_challenge.');
      return c.json(issueTokens(user.id, randomToken(32)));
    }

    if (grantType === 'refresh_token') {
      const presented = params.refresh_token ?? '';
      const grant = refreshTokens.get(presented);
      if (grant === undefined) return tokenError(c, 400, 'invalid_grant', 'Unknown, revoked or already used refresh token.');
      if (settings.refreshTokenMode === 'rotate') {
        refreshTokens.delete(presented);
        return c.json(issueTokens(grant.userId, randomToken(32)));
      }
      const body = issueTokens(grant.userId, null);
      return c.json({ ...body, refresh_token: settings.refreshTokenMode === 'same' ? presented : null });
    }

    return tokenError(c, 400, 'unsupported_grant_type', 'Unsupported grant_type.');
  });

  const logout = (c: Context) => {
    stats.logouts++;
    if (faults.logout === 'down') return c.json({ message: 'Internal error', documentation_url: DOCS }, 500);
    const header = c.req.header('authorization') ?? '';
    const token = /^(?:Bearer|token) (.+)$/i.exec(header)?.[1];
    if (token !== undefined && apiSessions.delete(token)) return c.body(null, 204);
    if (token === undefined || !accessTokens.has(token)) return requiresAuthentication(c);
    accessTokens.delete(token);
    return c.body(null, 204);
  };
  app.delete('/api/logout', logout);
  app.delete('/api/4.0/logout', logout);

  app.get('/api/4.0/versions', (c) => {
    const origin = options.publicUrl ?? new URL(c.req.url).origin;
    stats.versionsRequests++;
    if (faults.api === 'down') return c.json({ message: 'Service Unavailable', documentation_url: DOCS }, 503);
    return c.json({
      looker_release_version: '26.0.0-simulator',
      current_version: { version: '4.0', full_version: '4.0.26.0', status: 'current', swagger_url: `${origin}/api/4.0/swagger.json` },
      supported_versions: [{ version: '4.0', full_version: '4.0.26.0', status: 'current', swagger_url: `${origin}/api/4.0/swagger.json` }],
      api_server_url: options.apiServerUrl ?? origin,
      web_server_url: options.webServerUrl ?? origin,
    });
  });

  /** API-key login (admin tooling): form or query parameters; a wrong key answers 404, as Looker does. */
  app.post('/api/4.0/login', async (c) => {
    stats.apiLogins++;
    const url = new URL(c.req.url);
    const form = (c.req.header('content-type') ?? '').startsWith('application/x-www-form-urlencoded')
      ? new URLSearchParams(new TextDecoder().decode(await c.req.arrayBuffer()))
      : new URLSearchParams();
    const id = form.get('client_id') ?? url.searchParams.get('client_id');
    const secret = form.get('client_secret') ?? url.searchParams.get('client_secret');
    const key = apiKeys.find((k) => k.clientId === id && k.clientSecret === secret);
    if (key === undefined) return c.json({ message: 'Not found', documentation_url: DOCS }, 404);
    const token = randomToken();
    apiSessions.set(token, { admin: key.admin, expiresAt: now() + 3599_000 });
    return c.json({ access_token: token, token_type: 'Bearer', expires_in: 3599, refresh_token: null });
  });

  // Everything else under /api/4.0 is the authenticated API.
  app.use('/api/4.0/*', async (c, next) => {
    stats.apiRequests++;
    if (faults.api === 'down') return c.json({ message: 'Service Unavailable', documentation_url: DOCS }, 503);
    if (faults.api === 'hang') return hang(c.req.raw.signal);
    if (bearer(c) === null && apiSession(c) === null) return requiresAuthentication(c);
    await next();
  });

  function apiSession(c: Context) {
    const token = /^(?:Bearer|token) (.+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    const session = token === undefined ? undefined : apiSessions.get(token);
    return session === undefined || session.expiresAt <= now() ? null : session;
  }

  const publicApp = ({ extraRedirectUris: _, ...app }: OAuthClientApp & { extraRedirectUris: string[] }) => app;
  const forbidden = (c: Context) => c.json({ message: 'Forbidden', documentation_url: DOCS }, 403);
  const notFound = (c: Context) => c.json({ message: 'Not found', documentation_url: DOCS }, 404);

  app.get('/api/4.0/oauth_client_apps/:guid', (c) => {
    if (options.withoutOAuthAppsApi) return notFound(c);
    if (!apiSession(c)?.admin) return forbidden(c);
    const found = apps.get(c.req.param('guid'));
    return found === undefined ? notFound(c) : c.json(publicApp(found));
  });

  app.post('/api/4.0/oauth_client_apps/:guid', async (c) => {
    if (options.withoutOAuthAppsApi) return notFound(c);
    if (!apiSession(c)?.admin) return forbidden(c);
    const guid = c.req.param('guid');
    if (apps.has(guid)) return c.json({ message: 'An OAuth client app with this client_guid already exists', documentation_url: DOCS }, 409);
    const body = (await c.req.json().catch(() => ({}))) as Partial<OAuthClientApp>;
    if (typeof body.redirect_uri !== 'string' || body.redirect_uri === '') {
      return c.json({ message: 'Validation Failed', errors: [{ field: 'redirect_uri', code: 'missing', message: 'redirect_uri is required' }], documentation_url: DOCS }, 422);
    }
    const created = {
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
    return c.json(publicApp(created));
  });

  app.patch('/api/4.0/oauth_client_apps/:guid', async (c) => {
    if (options.withoutOAuthAppsApi) return notFound(c);
    if (!apiSession(c)?.admin) return forbidden(c);
    const found = apps.get(c.req.param('guid'));
    if (found === undefined) return notFound(c);
    const body = (await c.req.json().catch(() => ({}))) as Partial<OAuthClientApp>;
    for (const field of ['redirect_uri', 'display_name', 'description', 'enabled', 'group_id'] as const) {
      if (body[field] !== undefined) (found as unknown as Record<string, unknown>)[field] = body[field];
    }
    return c.json(publicApp(found));
  });

  app.get('/api/4.0/user', (c) => {
    const fields = c.req.query('fields');
    const full: Record<string, unknown> = { ...user, first_name: user.display_name.split(' ')[0], is_disabled: false };
    if (fields === undefined) return c.json(full);
    return c.json(Object.fromEntries(fields.split(',').filter((f) => f in full).map((f) => [f, full[f]])));
  });

  app.get('/api/4.0/looks', (c) =>
    c.json([
      { id: '1', title: 'Weekly revenue', folder_id: '7' },
      { id: '2', title: 'Active users', folder_id: '7' },
    ]),
  );

  /** A large streamed download: `?bytes=N` bytes of CSV-ish text, generated as it is read. */
  app.get('/api/4.0/download', (c) => {
    const total = Math.max(0, Math.min(Number(c.req.query('bytes') ?? 1024) || 0, 4 * 1024 ** 3));
    const chunk = new TextEncoder().encode('id,value\n1,lorem ipsum dolor sit amet\n'.repeat(1638).slice(0, 65536));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= total) return controller.close();
        const n = Math.min(chunk.length, total - sent);
        controller.enqueue(n === chunk.length ? chunk : chunk.subarray(0, n));
        sent += n;
      },
    });
    return c.body(body, 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-length': String(total),
      'content-disposition': 'attachment; filename="download.csv"',
    });
  });

  /** Counts an uploaded body as it streams by, reporting each chunk to `hooks.onUploadChunk`: `{ "bytes": N }`. */
  const countUpload = async (c: Context) => {
    let bytes = 0;
    const reader = c.req.raw.body?.getReader();
    if (reader !== undefined) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        hooks.onUploadChunk?.(bytes);
      }
    }
    return c.json({ bytes });
  };
  app.post('/api/4.0/upload', countUpload);

  /** Echoes what arrived, for header and path assertions: method, path, raw query, headers, body size. */
  app.all('/api/4.0/echo/*', async (c) => {
    const url = new URL(c.req.url);
    let bodyBytes = 0;
    if (c.req.raw.body !== null) bodyBytes = (await c.req.arrayBuffer()).byteLength;
    return c.json({
      method: c.req.method,
      path: url.pathname,
      search: url.search,
      headers: Object.fromEntries(c.req.raw.headers),
      bodyBytes,
    });
  });

  /** A response with every kind of header the proxy must pass or drop. */
  app.get('/api/4.0/response_headers', () => {
    const headers = new Headers({
      'content-type': 'application/json',
      'content-disposition': 'attachment; filename="report.json"',
      etag: '"v1"',
      'retry-after': '5',
      'x-looker-request-id': 'lr-1',
      'cache-control': 'private, max-age=0',
      'keep-alive': 'timeout=5',
      'x-hop': 'secret-hop',
      connection: 'x-hop',
      'access-control-allow-origin': '*',
      'access-control-allow-credentials': 'true',
    });
    headers.append('set-cookie', 'looker_session=abc; Path=/; HttpOnly');
    headers.append('set-cookie', 'CSRF-TOKEN=xyz; Path=/');
    return new Response('{"ok":true}', { status: 200, headers });
  });

  /** An HTML answer (a load balancer's error page, say): a browser would render it as a document. */
  app.get('/api/4.0/html_page', (c) => c.html('<!doctype html><title>Looker</title><script>document.title = "ran"</script>'));

  /** Conditional GET: 304 for the current ETag. */
  app.get('/api/4.0/dashboards/1', (c) => {
    if (c.req.header('if-none-match') === '"d1"') return c.body(null, 304, { etag: '"d1"' });
    return c.json({ id: '1', title: 'Sales' }, 200, { etag: '"d1"' });
  });

  app.get('/api/4.0/rate_limited', (c) =>
    c.json({ message: 'Too many requests', documentation_url: DOCS }, 429, { 'retry-after': '30' }),
  );

  app.get('/api/4.0/redirect', (c) => {
    const to = c.req.query('to') === 'elsewhere' ? 'https://elsewhere.example/steal' : `${new URL(c.req.url).origin}/api/4.0/looks`;
    return c.redirect(to, 302);
  });

  /** Waits `ms` before answering (headers included). */
  app.get('/api/4.0/slow', async (c) => {
    const ms = Number(c.req.query('ms') ?? 0);
    await new Promise((resolve) => setTimeout(resolve, ms));
    return c.json({ waitedMs: ms });
  });

  /**
   * Streaming probes for tests: the download sends one chunk, then waits for
   * `hooks.releaseDownload` before the last; the upload reports each chunk as it arrives.
   */
  app.get('/api/4.0/stream_probe', () => {
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(encoder.encode('first;'));
        await hooks.downloadGate;
        controller.enqueue(encoder.encode('second'));
        controller.close();
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/plain' } });
  });
  app.post('/api/4.0/upload_probe', countUpload);

  app.all('/api/*', (c) => c.json({ message: 'Not found', documentation_url: DOCS }, 404));
  app.get('/', (c) => c.html(page('Looker simulator', html`<p>This is a local Looker simulator for the Looker OAuth Gateway.</p>`)));

  return {
    app,
    faults,
    stats,
    settings,
    hooks,
    /** A fetch that reaches this simulator in-process, honouring `faults.unreachable`. */
    fetch: async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
      if (faults.unreachable) throw new TypeError('Network connection lost.');
      const request = new Request(input, init);
      // Like a real fetch, an abort rejects the call (Hono would turn the handler's rejection into a 500).
      return new Promise<Response>((resolve, reject) => {
        if (request.signal.aborted) return reject(new DOMException('The operation was aborted.', 'AbortError'));
        request.signal.addEventListener('abort', () => reject(new DOMException('The operation was aborted.', 'AbortError')));
        Promise.resolve(app.fetch(request)).then(resolve, reject);
      });
    },
    /** What an admin can do at any time: kill every token (DELETE oauth_client_apps/{guid}/tokens). */
    revokeAllTokens() {
      accessTokens.clear();
      refreshTokens.clear();
    },
    /** Expire one access token early (as if Looker had forgotten it). */
    revokeAccessToken(token: string) {
      accessTokens.delete(token);
    },
    hasRefreshToken: (token: string) => refreshTokens.has(token),
    /** The registered OAuth apps, as an admin would see them. */
    apps,
    /** Open API-key sessions (admin tooling must log out at the end). */
    apiSessionCount: () => apiSessions.size,
    hasAccessToken: (token: string) => accessTokens.has(token),
  };
}

export type LookerSimulator = ReturnType<typeof createLookerSimulator>;

function page(title: string, body: unknown) {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Looker (simulator)</title>
        <style>
          body { font: 16px/1.5 system-ui, sans-serif; background: #f1f3f4; display: flex; justify-content: center; padding-top: 10vh; margin: 0; }
          main { background: #fff; padding: 2rem 2.5rem; border-radius: 10px; max-width: 32rem; box-shadow: 0 2px 12px rgba(0,0,0,.1); }
          .brand { color: #4285f4; font-weight: 700; letter-spacing: .02em; }
          button { padding: .55rem 1.2rem; border-radius: 6px; border: 0; background: #4285f4; color: #fff; font: inherit; cursor: pointer; margin-right: .5rem; }
          button.secondary { background: #e8eaed; color: #202124; }
          .error { color: #c5221f; }
        </style>
      </head>
      <body>
        <main>
          <p class="brand">Looker · simulator</p>
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html>`;
}
