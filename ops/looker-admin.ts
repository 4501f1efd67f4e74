/**
 * The few Looker admin API calls the operator tools need, over an injected fetch.
 * An admin's API key opens a short API session (`POST /api/4.0/login`), which is always
 * closed again (`DELETE /api/4.0/logout`). Messages never contain the key or the token.
 */
import { LookerTimeoutError } from '../src/looker/errors.ts';
import { type Fetch, fetchWithDeadline } from '../src/looker/http.ts';

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

async function call(fetchFn: Fetch, url: string, init: RequestInit, what: string): Promise<Response> {
  try {
    return await fetchWithDeadline(fetchFn, url, init, TIMEOUT_MS, what);
  } catch (error) {
    if (error instanceof LookerTimeoutError) {
      throw new AdminToolError(`${what}: Looker did not answer within ${TIMEOUT_MS / 1000} s (${new URL(url).origin}).`);
    }
    throw new AdminToolError(
      `${what}: Looker could not be reached at ${new URL(url).origin}. Check LOOKER_API_URL (some instances serve the API on port 19999).`,
    );
  }
}

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
    const res = await call(
      fetchFn,
      `${apiUrl}/api/4.0/login`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: clientId, client_secret: clientSecret }).toString(),
      },
      'Logging in with the admin API key',
    );
    if (res.status === 404 || res.status === 401 || res.status === 403) {
      throw new AdminToolError(
        `Looker refused the admin API key (${res.status}): check LOOKER_ADMIN_CLIENT_ID and LOOKER_ADMIN_CLIENT_SECRET ` +
          '(Looker answers 404 to a wrong key), and that LOOKER_API_URL is the API URL.',
      );
    }
    if (!res.ok) throw new AdminToolError(`Logging in with the admin API key: Looker answered ${res.status}.`);
    const body = (await res.json().catch(() => null)) as { access_token?: unknown } | null;
    if (typeof body?.access_token !== 'string') throw new AdminToolError('Logging in with the admin API key: Looker sent no access token.');
    return new LookerAdminSession(fetchFn, apiUrl, body.access_token);
  }

  #request(method: string, path: string, what: string, body?: unknown): Promise<Response> {
    return call(
      this.#fetch,
      `${this.#apiUrl}${path}`,
      {
        method,
        headers: { authorization: `token ${this.#token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      },
      what,
    );
  }

  #failure(res: Response, what: string): AdminToolError {
    if (res.status === 401) return new AdminToolError(`${what}: the admin API session was refused (401).`);
    if (res.status === 403) {
      return new AdminToolError(`${what}: the API key's user is not a Looker admin (403); use an admin's API key.`);
    }
    return new AdminToolError(`${what}: Looker answered ${res.status}.`);
  }

  /** The registered app, or null when there is none with this client_guid. */
  async getApp(clientGuid: string): Promise<RegisteredApp | null> {
    const what = 'Reading the OAuth client app';
    const res = await this.#request('GET', `/api/4.0/oauth_client_apps/${encodeURIComponent(clientGuid)}`, what);
    if (res.status === 404) return null;
    if (!res.ok) throw this.#failure(res, what);
    return (await res.json()) as RegisteredApp;
  }

  async createApp(clientGuid: string, settings: OAuthAppSettings): Promise<RegisteredApp> {
    const what = 'Registering the OAuth client app';
    const res = await this.#request('POST', `/api/4.0/oauth_client_apps/${encodeURIComponent(clientGuid)}`, what, settings);
    if (res.status === 404) {
      throw new AdminToolError(
        `${what}: Looker has no oauth_client_apps endpoint (404). This Looker is too old for OAuth client apps; upgrade it, or check LOOKER_API_URL.`,
      );
    }
    if (res.status === 409) throw new AdminToolError(`${what}: an app with this client_guid appeared meanwhile (409); run again.`);
    if (!res.ok) throw this.#failure(res, what);
    return (await res.json()) as RegisteredApp;
  }

  async updateApp(clientGuid: string, changes: Partial<OAuthAppSettings>): Promise<RegisteredApp> {
    const what = 'Updating the OAuth client app';
    const res = await this.#request('PATCH', `/api/4.0/oauth_client_apps/${encodeURIComponent(clientGuid)}`, what, changes);
    if (!res.ok) throw this.#failure(res, what);
    return (await res.json()) as RegisteredApp;
  }

  /** Ends the admin API session; a failure here is reported, not thrown. */
  async logout(): Promise<boolean> {
    try {
      const res = await this.#request('DELETE', '/api/4.0/logout', 'Logging the admin session out');
      return res.ok || res.status === 401;
    } catch {
      return false;
    }
  }
}
