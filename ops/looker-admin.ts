/**
 * The few Looker admin API calls the operator tools need, over an injected fetch.
 * An admin's API key opens a short API session (`POST /api/4.0/login`), which is always
 * closed again (`DELETE /api/4.0/logout`). Messages never contain the key or the token.
 */
import { LookerProtocolError, LookerRejectedError, LookerTimeoutError, LookerUnavailableError } from '../src/looker/errors.ts';
import { callLooker, type Fetch } from '../src/looker/http.ts';

export class AdminToolError extends Error {
  override readonly name = 'AdminToolError';
}

export interface OAuthAppSettings {
  redirect_uri: string;
  display_name: string;
  description: string;
  enabled: boolean;
  group_id?: string | null;
}

export interface RegisteredApp extends OAuthAppSettings {
  client_guid: string;
}

const TIMEOUT_MS = 15_000;

/**
 * One call through the gateway's Looker classifier: the parsed answer, or an
 * AdminToolError that says what to do. `refusals` gives messages for specific 4xx statuses.
 */
async function call(
  fetchFn: Fetch,
  url: string,
  init: RequestInit,
  what: string,
  options: { refusals?: Record<number, string>; accept?: number[] } = {},
): Promise<{ status: number; body: unknown }> {
  try {
    return await callLooker({ fetch: fetchFn, timeoutMs: TIMEOUT_MS, what }, url, init);
  } catch (error) {
    // A refusal the caller expects (404: no such app) is an answer, not a failure.
    if (error instanceof LookerRejectedError && options.accept?.includes(error.status)) return { status: error.status, body: null };
    throw toAdminError(error, url, what, options.refusals ?? {});
  }
}

function toAdminError(error: unknown, url: string, what: string, refusals: Record<number, string>): Error {
  const origin = new URL(url).origin;
  if (error instanceof LookerTimeoutError) return new AdminToolError(`${what}: Looker did not answer within ${TIMEOUT_MS / 1000} s (${origin}).`);
  if (error instanceof LookerRejectedError) {
    const specific = refusals[error.status];
    if (specific !== undefined) return new AdminToolError(specific);
    if (error.status === 401) return new AdminToolError(`${what}: the admin API session was refused (401).`);
    if (error.status === 403) return new AdminToolError(`${what}: the API key's user is not a Looker admin (403); use an admin's API key.`);
    return new AdminToolError(`${what}: Looker answered ${error.status}.`);
  }
  if (error instanceof LookerUnavailableError && error.status !== undefined) return new AdminToolError(`${what}: Looker answered ${error.status}.`);
  if (error instanceof LookerUnavailableError) {
    return new AdminToolError(`${what}: Looker could not be reached at ${origin}. Check LOOKER_API_URL (some instances serve the API on port 19999).`);
  }
  if (error instanceof LookerProtocolError) return new AdminToolError(`${what}: Looker answered with something unexpected${error.status === undefined ? '' : ` (${error.status})`}.`);
  return error instanceof Error ? error : new AdminToolError(`${what}: failed.`);
}

const wrongKey = (status: number) =>
  `Looker refused the admin API key (${status}): check LOOKER_ADMIN_CLIENT_ID and LOOKER_ADMIN_CLIENT_SECRET ` +
  '(Looker answers 404 to a wrong key), and that LOOKER_API_URL is the API URL.';

export class LookerAdminSession {
  readonly #fetch: Fetch;
  readonly #apiUrl: string;
  readonly #token: string;

  private constructor(fetchFn: Fetch, apiUrl: string, token: string) {
    this.#fetch = fetchFn;
    this.#apiUrl = apiUrl;
    this.#token = token;
  }

  static async login(fetchFn: Fetch, apiUrl: string, clientId: string, clientSecret: string): Promise<LookerAdminSession> {
    const what = 'Logging in with the admin API key';
    const { body } = (await call(
      fetchFn,
      `${apiUrl}/api/4.0/login`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: clientId, client_secret: clientSecret }).toString(),
      },
      what,
      { refusals: { 401: wrongKey(401), 403: wrongKey(403), 404: wrongKey(404) } },
    )) as { body: { access_token?: unknown } | null };
    if (typeof body?.access_token !== 'string') throw new AdminToolError(`${what}: Looker sent no access token.`);
    return new LookerAdminSession(fetchFn, apiUrl, body.access_token);
  }

  #request(method: string, path: string, what: string, options: { body?: unknown; refusals?: Record<number, string>; accept?: number[] } = {}) {
    const { body, ...expectations } = options;
    return call(
      this.#fetch,
      `${this.#apiUrl}${path}`,
      {
        method,
        headers: { authorization: `token ${this.#token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      },
      what,
      expectations,
    );
  }

  /** The registered app, or null when there is none with this client_guid. */
  async getApp(clientGuid: string): Promise<RegisteredApp | null> {
    const answer = await this.#request('GET', `/api/4.0/oauth_client_apps/${encodeURIComponent(clientGuid)}`, 'Reading the OAuth client app', { accept: [404] });
    return answer.status === 404 ? null : (answer.body as RegisteredApp);
  }

  async createApp(clientGuid: string, settings: OAuthAppSettings): Promise<RegisteredApp> {
    const what = 'Registering the OAuth client app';
    const answer = await this.#request('POST', `/api/4.0/oauth_client_apps/${encodeURIComponent(clientGuid)}`, what, {
      body: settings,
      refusals: {
        404: `${what}: Looker has no oauth_client_apps endpoint (404). This Looker is too old for OAuth client apps; upgrade it, or check LOOKER_API_URL.`,
        409: `${what}: an app with this client_guid appeared meanwhile (409); run again.`,
      },
    });
    return answer.body as RegisteredApp;
  }

  async updateApp(clientGuid: string, changes: Partial<OAuthAppSettings>): Promise<RegisteredApp> {
    const answer = await this.#request('PATCH', `/api/4.0/oauth_client_apps/${encodeURIComponent(clientGuid)}`, 'Updating the OAuth client app', {
      body: changes,
    });
    return answer.body as RegisteredApp;
  }

  /** Ends the admin API session; a failure here is reported, not thrown. 401 counts as ended. */
  async logout(): Promise<boolean> {
    try {
      await this.#request('DELETE', '/api/4.0/logout', 'Logging the admin session out', { accept: [401] });
      return true;
    } catch {
      return false;
    }
  }
}
