/**
 * What both halves of the gateway (the site and the API proxy) share for an isolate's
 * life: the parsed configuration per set of bindings, the logger, the token refresher,
 * the isolate's memory of sessions; and the one place a request's Gateway is built.
 * Dependencies are injected so tests can point the gateway at the Looker simulator and
 * move the clock; the Worker entry (index.ts) passes the platform's own.
 */
import { type Config, type ConfigProblem, type ConfigResult, parseConfig } from './config.ts';
import type { Bindings, Gateway } from './context.ts';
import { createLogger, type Logger, type LogSink } from './log.ts';
import type { Fetch } from './looker/http.ts';
import { SessionCache } from './session/cache.ts';
import { Cookies } from './session/cookies.ts';
import { LocalRefreshCoordinator, type RefreshCoordinator } from './session/coordinator.ts';
import { TokenRefresher } from './session/refresh.ts';
import { Sealer } from './session/seal.ts';
import { SessionStore } from './session/store.ts';

export interface AppDependencies {
  /** How the gateway reaches Looker (default: the runtime's fetch). */
  fetch?: Fetch;
  /** The clock, in epoch milliseconds (default: Date.now). */
  now?: () => number;
  /** Where log lines go (default: console.log). */
  logSink?: LogSink;
  /** Deadline for the gateway's own calls to Looker: token, user, logout (default 15 s). */
  lookerTimeoutMs?: number;
  /**
   * The cross-isolate refresh coordinator for these bindings (the Worker entry returns
   * the Durable Object one); undefined means single-isolate coordination in memory.
   */
  coordinatorFor?: (env: Bindings, sealer: Sealer) => RefreshCoordinator | undefined;
  /** `false` turns off the isolate's 30-second memory of opened sessions (tests of KV itself). */
  sessionCache?: false;
}

const DEFAULT_LOOKER_TIMEOUT_MS = 15_000;

/** A Gateway but for the per-request session store: the same for every request to one origin. */
type GatewayParts = Omit<Gateway, 'store'>;

type ConfigState =
  | { ok: true; config: Config; sealer: Sealer; coordinator: RefreshCoordinator; parts: Map<string, GatewayParts> }
  | { ok: false; problems: ConfigProblem[] };

/** Without GATEWAY_URL the origin comes from the request's Host: keep only a few. */
const MAX_ORIGINS = 16;

export type GatewayResult = { ok: true; gateway: Gateway } | { ok: false; problems: ConfigProblem[] };

export interface Services {
  readonly fetch: Fetch;
  readonly now: () => number;
  readonly log: Logger;
  /** The configuration for these bindings (parsed once per isolate). */
  configFor(env: Bindings): ConfigResult;
  /** Everything a route needs for one request, or what is wrong with the configuration. */
  gatewayFor(env: Bindings, requestUrl: string): GatewayResult;
}

export function createServices(deps: AppDependencies = {}): Services {
  const now = deps.now ?? Date.now;
  const fetchFn: Fetch = deps.fetch ?? ((input, init) => fetch(input, init));
  const log = createLogger(deps.logSink);
  const lookerTimeoutMs = deps.lookerTimeoutMs ?? DEFAULT_LOOKER_TIMEOUT_MS;
  const localCoordinator = new LocalRefreshCoordinator();
  const sessionCache = deps.sessionCache === false ? undefined : new SessionCache(now);
  const refresher = new TokenRefresher(now, (event) =>
    log[event.outcome === 'refreshed' || event.outcome === 'adopted' ? 'info' : 'warn']('token_refresh', { ...event }),
  );

  // Bindings are fixed for an isolate's life; parse them, derive keys and pick the refresh
  // coordinator once, not on every request.
  const configStates = new WeakMap<object, ConfigState>();
  const stateFor = (env: Bindings): ConfigState => {
    let state = configStates.get(env);
    if (state === undefined) {
      const result = parseConfig(env);
      if (result.ok) {
        const sealer = new Sealer(result.config.sessionSecret);
        state = { ...result, sealer, coordinator: deps.coordinatorFor?.(env, sealer) ?? localCoordinator, parts: new Map() };
      } else {
        state = result;
        log.error('config_invalid', { problems: result.problems.map((p) => `${p.variable} ${p.problem}`).join('; ') });
      }
      configStates.set(env, state);
    }
    return state;
  };

  return {
    fetch: fetchFn,
    now,
    log,
    configFor(env) {
      const state = stateFor(env);
      return state.ok ? { ok: true, config: state.config } : state;
    },
    gatewayFor(env, requestUrl) {
      const state = stateFor(env);
      if (!state.ok) return state;
      const { config } = state;
      const origin = config.gatewayOrigin ?? new URL(requestUrl).origin;
      let parts = state.parts.get(origin);
      if (parts === undefined) {
        parts = {
          config,
          origin,
          redirectUri: `${origin}/callback`,
          oauth: {
            fetch: fetchFn,
            lookerUrl: config.lookerUrl,
            lookerApiUrl: config.lookerApiUrl,
            clientId: config.lookerClientId,
            timeoutMs: lookerTimeoutMs,
          },
          cookies: new Cookies(origin),
          refresher,
          coordinator: state.coordinator,
          log,
          now,
        };
        if (state.parts.size < MAX_ORIGINS) state.parts.set(origin, parts);
      }
      return { ok: true, gateway: { ...parts, store: new SessionStore(env.SESSIONS, state.sealer, now, sessionCache) } };
    },
  };
}
