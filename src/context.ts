/** The types a request carries through the app: Cloudflare bindings in, per-request services out. */
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import type { OAuthClient } from './looker/oauth.ts';
import type { Cookies } from './session/cookies.ts';
import type { RefreshCoordinator } from './session/coordinator.ts';
import type { TokenRefresher } from './session/refresh.ts';
import type { KeyValueStore, SessionStore } from './session/store.ts';

export interface Bindings {
  SESSIONS: KeyValueStore;
  [variable: string]: unknown;
}

/** Everything a route needs, built once per request by the app (routes never build these themselves). */
export interface Gateway {
  config: Config;
  /** The gateway's public origin: GATEWAY_URL, or the request's own origin. */
  origin: string;
  redirectUri: string;
  store: SessionStore;
  oauth: OAuthClient;
  cookies: Cookies;
  refresher: TokenRefresher;
  coordinator: RefreshCoordinator;
  log: Logger;
  now: () => number;
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: {
    gateway: Gateway;
    requestId: string;
    /** Set by routes for the request log: whether the Looker token was refreshed. */
    refreshed?: boolean;
    /** Set by the API proxy for the request log: Looker's status. */
    upstreamStatus?: number;
  };
}
