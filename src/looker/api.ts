/** Calls the gateway itself makes to Looker's API (the API proxy streams everything else). */
import { LookerProtocolError, LookerRejectedError } from './errors.ts';
import { callLooker, type Fetch } from './http.ts';

/** Who a token acts as in Looker. */
export interface LookerUser {
  id: string;
  displayName: string;
  email: string | null;
}

interface ApiClient {
  fetch: Fetch;
  lookerApiUrl: string;
  timeoutMs: number;
}

/**
 * `GET /api/4.0/user?fields=id,display_name,email`: who the access token belongs to, or
 * null when Looker refuses the token (401).
 */
export async function getCurrentUser(client: ApiClient, accessToken: string): Promise<LookerUser | null> {
  const what = 'Reading the signed-in Looker user';
  let body: unknown;
  try {
    ({ body } = await callLooker({ fetch: client.fetch, timeoutMs: client.timeoutMs, what }, `${client.lookerApiUrl}/api/4.0/user?fields=id,display_name,email`, {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
    }));
  } catch (error) {
    if (error instanceof LookerRejectedError && error.status === 401) return null;
    throw error;
  }
  if (typeof body !== 'object' || body === null) throw new LookerProtocolError(`${what}: unexpected answer`);
  const user = body as Record<string, unknown>;
  const id = typeof user.id === 'string' || typeof user.id === 'number' ? String(user.id) : undefined;
  if (id === undefined) throw new LookerProtocolError(`${what}: the answer has no user id`);
  return {
    id,
    displayName: typeof user.display_name === 'string' && user.display_name !== '' ? user.display_name : `User ${id}`,
    email: typeof user.email === 'string' ? user.email : null,
  };
}

export interface LookerVersions {
  release: string | undefined;
  apiServerUrl: string | undefined;
  webServerUrl: string | undefined;
}

/**
 * `GET /api/4.0/versions` (no token needed): Looker's release and where it says its API
 * and web UI live. Used by /readyz and `npm run doctor`.
 */
export async function getVersions(client: ApiClient): Promise<LookerVersions> {
  const what = 'Reading the Looker versions';
  let body: unknown;
  try {
    ({ body } = await callLooker({ fetch: client.fetch, timeoutMs: client.timeoutMs, what }, `${client.lookerApiUrl}/api/4.0/versions`, {}));
  } catch (error) {
    if (error instanceof LookerProtocolError && error.status === 200) {
      throw new LookerProtocolError(`${what}: the answer is not JSON (not a Looker API?)`, 200);
    }
    throw error;
  }
  const field = (name: string) => {
    const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  return { release: field('looker_release_version'), apiServerUrl: field('api_server_url'), webServerUrl: field('web_server_url') };
}
