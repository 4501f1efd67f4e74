/**
 * What a test can set and read on the simulator: the options it starts with, the settings
 * and faults it may change between requests, the hooks it may install, and the counters.
 */
import type { SimulatedUser } from './state.ts';

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
  /**
   * Whether logging out with an access token also kills the refresh token of the grant it
   * came from (default false). Unknown for real Looker, hence a switch.
   */
  logoutRevokesRefreshToken?: boolean;
  now?: () => number;
  /**
   * The people who can sign in (default: one, Dana Demo, id "42"). The first is signed in
   * at start; `sim.signInAs(id)` chooses whom the next authorizations are for.
   */
  users?: SimulatedUser[];
  /** Shorthand for `users: [user]`; ignored when `users` is given. */
  user?: SimulatedUser;
  /** Where this Looker says it lives (GET /api/4.0/versions): both URLs, unless given apart. */
  publicUrl?: string;
  webServerUrl?: string;
  apiServerUrl?: string;
  /** Register the gateway's app at start (default true); false starts with no OAuth apps. */
  registerApp?: boolean;
  /**
   * API keys for `POST /api/4.0/login`; `admin: false` keys get 403 on admin endpoints and
   * 404 on sudo. `userId` is whose key it is (default: the first user).
   */
  apiKeys?: ApiKey[];
  /** A Looker too old for oauth_client_apps: those endpoints answer 404. */
  withoutOAuthAppsApi?: boolean;
}

export interface ApiKey {
  clientId: string;
  clientSecret: string;
  admin: boolean;
  userId?: string;
}

/** Options a test may still change once the simulator runs (`sim.settings`). */
export interface SimulatorSettings {
  autoApprove: boolean;
  accessTokenTtlSeconds: number;
  codeTtlSeconds: number;
  refreshTokenMode: 'rotate' | 'null' | 'same';
  tokenErrorShape: 'oauth' | 'looker' | 'html';
  logoutRevokesRefreshToken: boolean;
}

/**
 * How `/api/token` answers, whatever the request:
 * - `ok`: normally;
 * - `down`: 503 with an HTML page;
 * - `hang`: never (until the caller gives up);
 * - `html-200`: 200 with an HTML page (a Looker still starting);
 * - `forbidden-html`: 403 with an HTML page, as a WAF in front of Looker would answer;
 * - `rate-limited`: 429, a Looker-style JSON error, `Retry-After: 7`;
 * - `server-error`: 500 `{"error":"server_error"}`, a server fault dressed as an OAuth error;
 * - `bad-request-text`: 400 with a `text/plain` body that is not JSON;
 * - `invalid-grant`: 400 `{"error":"invalid_grant"}`, as when Looker has revoked everything.
 */
export type TokenFault =
  | 'ok'
  | 'down'
  | 'hang'
  | 'html-200'
  | 'forbidden-html'
  | 'rate-limited'
  | 'server-error'
  | 'bad-request-text'
  | 'invalid-grant';

/** Switchable failures, changed by tests between requests. */
export interface SimulatorFaults {
  /** Every request fails as if the network were down (the fetch rejects). */
  unreachable: boolean;
  /** `/api/token`: see {@link TokenFault}. */
  token: TokenFault;
  /** `/api/4.0/*`: answer normally, 503, or never answer. */
  api: 'ok' | 'down' | 'hang';
  /** `/api/logout`: answer normally or 500. */
  logout: 'ok' | 'down';
}

export interface SimulatorStats {
  tokenRequests: { authorization_code: number; refresh_token: number; other: number };
  /** The most recent token request, as the simulator saw it (for protocol assertions). */
  lastTokenRequest: { contentType: string; hadAuthorization: boolean; params: Record<string, string> } | null;
  /** DELETE requests to `/api/logout` or `/api/4.0/logout`. */
  logouts: number;
  /** Requests that reached the authenticated API (`/api/4.0/*` behind the token check). */
  apiRequests: number;
  versionsRequests: number;
  /** POST requests to `/api/4.0/login` (API-key login). */
  apiLogins: number;
  /**
   * Requests of any method, answered or not, per auth path: `login` is `/api/4.0/login`,
   * `logout` is `/api/logout` or `/api/4.0/logout`, `sudo` is `/api/4.0/login/{user_id}`.
   * Counting every method lets a test prove that nothing reached a path at all.
   */
  authRequests: { login: number; logout: number; sudo: number };
}

export interface SimulatorHooks {
  /** `/api/4.0/stream_probe` sends its last chunk once this settles. */
  downloadGate: Promise<void>;
  /** Told the running byte count as each chunk of an upload arrives. */
  onUploadChunk?: (bytesSoFar: number) => void;
}

export function settingsFrom(options: SimulatorOptions): SimulatorSettings {
  return {
    autoApprove: options.autoApprove ?? false,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 3600,
    codeTtlSeconds: options.codeTtlSeconds ?? 600,
    refreshTokenMode: options.refreshTokenMode ?? 'rotate',
    tokenErrorShape: options.tokenErrorShape ?? 'oauth',
    logoutRevokesRefreshToken: options.logoutRevokesRefreshToken ?? false,
  };
}

export const noFaults = (): SimulatorFaults => ({ unreachable: false, token: 'ok', api: 'ok', logout: 'ok' });

export const emptyStats = (): SimulatorStats => ({
  tokenRequests: { authorization_code: 0, refresh_token: 0, other: 0 },
  lastTokenRequest: null,
  logouts: 0,
  apiRequests: 0,
  versionsRequests: 0,
  apiLogins: 0,
  authRequests: { login: 0, logout: 0, sudo: 0 },
});
