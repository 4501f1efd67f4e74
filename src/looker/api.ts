/** Calls the gateway itself makes to Looker's API (the proxy in src/proxy streams everything else). */
import { LookerProtocolError, LookerRejectedError, LookerUnavailableError } from './errors.ts';
import { type Fetch, fetchWithDeadline, readTextWithDeadline } from './http.ts';

export interface LookerUser {
  id: string;
  displayName: string;
  email: string | null;
}

/**
 * `GET /api/4.0/user?fields=id,display_name,email`: who the access token belongs to, or
 * null when Looker refuses the token (401).
 */
export async function getCurrentUser(
  client: { fetch: Fetch; lookerApiUrl: string; timeoutMs: number },
  accessToken: string,
): Promise<LookerUser | null> {
  const what = 'Reading the signed-in Looker user';
  const response = await fetchWithDeadline(
    client.fetch,
    `${client.lookerApiUrl}/api/4.0/user?fields=id,display_name,email`,
    { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' } },
    client.timeoutMs,
    what,
  );
  const text = await readTextWithDeadline(response, client.timeoutMs, what);
  if (response.status === 401) return null;
  if (response.status >= 500) throw new LookerUnavailableError(`${what}: Looker answered ${response.status}`, response.status);
  if (response.status !== 200) {
    throw new LookerRejectedError(`${what}: Looker answered ${response.status}`, response.status, undefined);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new LookerProtocolError(`${what}: Looker answered with something that is not JSON`);
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
export async function getVersions(client: { fetch: Fetch; lookerApiUrl: string; timeoutMs: number }): Promise<LookerVersions> {
  const what = 'Reading the Looker versions';
  const response = await fetchWithDeadline(client.fetch, `${client.lookerApiUrl}/api/4.0/versions`, {}, client.timeoutMs, what);
  const text = await readTextWithDeadline(response, client.timeoutMs, what);
  if (response.status >= 500) throw new LookerUnavailableError(`${what}: Looker answered ${response.status}`, response.status);
  if (response.status !== 200) throw new LookerRejectedError(`${what}: Looker answered ${response.status}`, response.status, undefined);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new LookerProtocolError(`${what}: the answer is not JSON (not a Looker API?)`);
  }
  const field = (name: string) => {
    const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  return { release: field('looker_release_version'), apiServerUrl: field('api_server_url'), webServerUrl: field('web_server_url') };
}
