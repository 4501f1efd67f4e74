/**
 * Looker as an OAuth2 authorization server (public client, PKCE S256). Plain
 * functions over an injected fetch: no cookies, no storage, no hidden state.
 * Protocol notes: docs/security.md.
 */
import { sha256 } from '@oslojs/crypto/sha2';
import { encodeBase64urlNoPadding } from '@oslojs/encoding';
import { LookerProtocolError, LookerRejectedError } from './errors.ts';
import { callLooker, type Fetch } from './http.ts';

export interface OAuthClient {
  fetch: Fetch;
  lookerUrl: string;
  lookerApiUrl: string;
  clientId: string;
  timeoutMs: number;
}

export interface TokenSet {
  accessToken: string;
  /** Seconds, as Looker sent them. */
  expiresIn: number;
  /** Null when Looker sent none (usual on refresh): keep the old one. */
  refreshToken: string | null;
}

/** 32 random bytes as base64url: 43 characters of [A-Za-z0-9_-], never 64 hex digits (a Looker quirk). */
export function generateCodeVerifier(): string {
  return encodeBase64urlNoPadding(crypto.getRandomValues(new Uint8Array(32)));
}

/** ≥ 128 bits; 256 here. */
export function generateState(): string {
  return encodeBase64urlNoPadding(crypto.getRandomValues(new Uint8Array(32)));
}

export function createS256CodeChallenge(codeVerifier: string): string {
  return encodeBase64urlNoPadding(sha256(new TextEncoder().encode(codeVerifier)));
}

export function createAuthorizationURLWithPKCE(
  client: Pick<OAuthClient, 'lookerUrl' | 'clientId'>,
  params: { redirectUri: string; scope: string; state: string; codeVerifier: string },
): URL {
  const url = new URL(`${client.lookerUrl}/auth`);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', client.clientId);
  url.searchParams.set('redirect_uri', params.redirectUri);
  url.searchParams.set('scope', params.scope);
  url.searchParams.set('state', params.state);
  url.searchParams.set('code_challenge', createS256CodeChallenge(params.codeVerifier));
  url.searchParams.set('code_challenge_method', 'S256');
  return url;
}

export function validateAuthorizationCode(
  client: OAuthClient,
  params: { code: string; codeVerifier: string; redirectUri: string },
): Promise<TokenSet> {
  return requestToken(
    client,
    {
      grant_type: 'authorization_code',
      code: params.code,
      code_verifier: params.codeVerifier,
      client_id: client.clientId,
      redirect_uri: params.redirectUri,
    },
    'Exchanging the sign-in code',
  );
}

export function refreshAccessToken(
  client: OAuthClient,
  params: { refreshToken: string; redirectUri: string },
): Promise<TokenSet> {
  return requestToken(
    client,
    {
      grant_type: 'refresh_token',
      refresh_token: params.refreshToken,
      client_id: client.clientId,
      redirect_uri: params.redirectUri,
    },
    'Refreshing the access token',
  );
}

/** Ends the access token at Looker (`DELETE /api/logout`). 401 counts as done: the token was already dead. */
export async function revokeAccessToken(client: OAuthClient, accessToken: string): Promise<void> {
  try {
    await callLooker(
      { fetch: client.fetch, timeoutMs: client.timeoutMs, what: 'Signing out at Looker' },
      `${client.lookerApiUrl}/api/logout`,
      { method: 'DELETE', headers: { authorization: `Bearer ${accessToken}` } },
    );
  } catch (error) {
    if (error instanceof LookerRejectedError && error.status === 401) return;
    throw error;
  }
}

async function requestToken(client: OAuthClient, body: Record<string, string>, what: string): Promise<TokenSet> {
  // Form encoding, as Looker's sample apps send; client_id goes in the body and no
  // Authorization header is sent (Looker fails Basic auth for public clients).
  const answer = await callLooker({ fetch: client.fetch, timeoutMs: client.timeoutMs, what }, `${client.lookerApiUrl}/api/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(body).toString(),
  });
  return parseTokenResponse(answer.body, what);
}

function parseTokenResponse(parsed: unknown, what: string): TokenSet {
  if (typeof parsed !== 'object' || parsed === null) {
    throw new LookerProtocolError(`${what}: Looker's token response is not a JSON object`);
  }
  const body = parsed as Record<string, unknown>;
  if (typeof body.access_token !== 'string' || body.access_token === '') {
    throw new LookerProtocolError(`${what}: Looker's token response has no access_token`);
  }
  if (body.token_type !== undefined && (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer')) {
    throw new LookerProtocolError(`${what}: Looker's token response has a token_type other than Bearer`);
  }
  const expiresIn = typeof body.expires_in === 'string' ? Number(body.expires_in) : body.expires_in;
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw new LookerProtocolError(`${what}: Looker's token response has no valid expires_in`);
  }
  const refreshToken = typeof body.refresh_token === 'string' && body.refresh_token !== '' ? body.refresh_token : null;
  return { accessToken: body.access_token, expiresIn, refreshToken };
}
