/**
 * What both halves of the gateway (the site and the API) share for an isolate's life:
 * the parsed configuration per set of bindings, the keys derived from it, the logger, the
 * isolate's memory of grants and callers; and the one place a request's Gateway is built.
 * Dependencies are injected so tests can point the gateway at the Looker simulator and
 * move the clock; the Worker entry (index.ts) passes the platform's own.
 */
import { AccessTokens } from './callers/access-tokens.ts';
import { BrowserSessions } from './callers/browser-sessions.ts';
import { type CallerContext, createCallerMemory } from './callers/context.ts';
import { CredentialFlows, DEFAULT_DEVICE_LIMITS } from './callers/credential-flows.ts';
import type { DeviceFlowStore, DeviceLimits } from './callers/device-store.ts';
import { ScriptCredentials } from './callers/credentials.ts';
import { CountingKv, HolderRecords } from './callers/records.ts';
import { SignIns } from './callers/sign-ins.ts';
import { ACCOUNTS_BINDING, DEVICE_FLOWS_BINDING, type Config, type ConfigProblem, type ConfigResult, parseConfig } from './config.ts';
import type { Bindings, Gateway } from './context.ts';
import { Sealer } from './crypto/seal.ts';
import { TokenMinter } from './crypto/tokens.ts';
import { GrantKeeper, GrantMemory } from './grants/keeper.ts';
import type { Ledger } from './grants/ledger.ts';
import { createLogger, type Logger, type LogSink } from './log.ts';
import { type ClientOf, unknownClient } from './http/client.ts';
import type { Fetch } from './looker/http.ts';
import type { OAuthClient } from './looker/oauth.ts';

export interface AppDependencies {
  /** How the gateway reaches Looker (default: the runtime's fetch). */
  fetch?: Fetch;
  /** The clock, in epoch milliseconds (default: Date.now). */
  now?: () => number;
  /** Pauses between retries (default: setTimeout). */
  sleep?: (ms: number) => Promise<void>;
  /** Where log lines go (default: console.log). */
  logSink?: LogSink;
  /** Deadline for the gateway's own calls to Looker: token, user, logout (default 15 s). */
  lookerTimeoutMs?: number;
  /** Prefix of the ledgers' Durable Object names (tests keep theirs apart with it). */
  ledgerNamePrefix?: string;
  /** Wraps each ledger stub (tests inject faults with it). */
  wrapLedger?: (ledger: Ledger) => Ledger;
  /** Keeps work alive past the request that started it (the Worker passes the runtime's waitUntil). */
  keepAlive?: (work: Promise<unknown>) => void;
  /** The client's address and location as the platform reports them (the Worker passes Cloudflare's). */
  clientOf?: ClientOf;
  /** The device flow's limits (tests make them small). */
  deviceLimits?: DeviceLimits;
  /** Wraps the device-flow store (tests inject faults with it). */
  wrapDeviceFlows?: (store: DeviceFlowStore) => DeviceFlowStore;
}

const DEFAULT_LOOKER_TIMEOUT_MS = 15_000;

/** Everything per set of bindings that does not depend on the request's origin. */
interface Shared {
  config: Config;
  oauth: OAuthClient;
  callers: CallerContext;
  tokens: AccessTokens;
  flows: CredentialFlows;
  signIns: SignIns;
}

type ConfigState = { ok: true; shared: Shared; origins: Map<string, Pick<Gateway, 'origin' | 'redirectUri'>> } | { ok: false; problems: ConfigProblem[] };

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

/**
 * One request's Gateway: the isolate's shared parts, and this request's counted KV. The
 * parts that count KV per request are made only when a route uses them (most API
 * requests never do), so building a Gateway costs one object.
 */
class RequestGateway implements Gateway {
  readonly config: Config;
  readonly origin: string;
  readonly redirectUri: string;
  readonly oauth: OAuthClient;
  readonly kv: CountingKv;
  readonly tokens: AccessTokens;
  readonly flows: CredentialFlows;
  readonly signIns: SignIns;
  readonly keeper: GrantKeeper;
  readonly minter: TokenMinter;
  readonly log: Logger;
  readonly now: () => number;
  readonly clientOf: ClientOf;
  readonly deviceLimits: DeviceLimits;
  readonly #callers: CallerContext;
  #sessions: BrowserSessions | undefined;
  #credentials: ScriptCredentials | undefined;

  constructor(
    shared: Shared,
    site: Pick<Gateway, 'origin' | 'redirectUri'>,
    kv: CountingKv,
    log: Logger,
    now: () => number,
    platform: Pick<Gateway, 'clientOf' | 'deviceLimits'>,
  ) {
    this.config = shared.config;
    this.origin = site.origin;
    this.redirectUri = site.redirectUri;
    this.oauth = shared.oauth;
    this.kv = kv;
    this.tokens = shared.tokens;
    this.flows = shared.flows;
    this.signIns = shared.signIns;
    this.keeper = shared.callers.keeper;
    this.minter = shared.callers.minter;
    this.log = log;
    this.now = now;
    this.clientOf = platform.clientOf;
    this.deviceLimits = platform.deviceLimits;
    this.#callers = shared.callers;
  }

  get sessions(): BrowserSessions {
    return (this.#sessions ??= new BrowserSessions(this.#callers, this.kv));
  }

  get credentials(): ScriptCredentials {
    return (this.#credentials ??= new ScriptCredentials(this.#callers, this.kv));
  }
}

/** The ledger stub for a name: the Durable Object's RPC surface is the Ledger interface. */
function stubOf<T>(namespace: DurableObjectNamespace, name: string): T {
  // The stub's methods are the object's own (RPC); their declared types wrap results in
  // RPC types that are structurally these: no `any`, one cast at the platform's edge.
  return namespace.get(namespace.idFromName(name)) as unknown as T;
}

export function createServices(deps: AppDependencies = {}): Services {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const fetchFn: Fetch = deps.fetch ?? ((input, init) => fetch(input, init));
  const log = createLogger(deps.logSink);
  const lookerTimeoutMs = deps.lookerTimeoutMs ?? DEFAULT_LOOKER_TIMEOUT_MS;
  const prefix = deps.ledgerNamePrefix ?? '';
  const wrap = deps.wrapLedger ?? ((ledger: Ledger) => ledger);
  const grantMemory = new GrantMemory(now);
  const platform = { clientOf: deps.clientOf ?? unknownClient, deviceLimits: deps.deviceLimits ?? DEFAULT_DEVICE_LIMITS };
  const callerMemory = createCallerMemory(now);

  // Bindings are fixed for an isolate's life; parse them and derive keys once, not per request.
  const configStates = new WeakMap<object, ConfigState>();
  const stateFor = (env: Bindings): ConfigState => {
    let state = configStates.get(env);
    if (state === undefined) {
      const result = parseConfig(env);
      if (result.ok) {
        state = { ok: true, shared: buildShared(result.config, env), origins: new Map() };
      } else {
        state = result;
        log.error('config_invalid', { problems: result.problems.map((p) => `${p.variable} ${p.problem}`).join('; ') });
      }
      configStates.set(env, state);
    }
    return state;
  };

  const buildShared = (config: Config, env: Bindings): Shared => {
    const namespace = env[ACCOUNTS_BINDING] as DurableObjectNamespace;
    const ledgerFor = (personKey: string) => wrap(stubOf<Ledger>(namespace, `${prefix}person:${personKey}`));
    const deviceNamespace = env[DEVICE_FLOWS_BINDING] as DurableObjectNamespace;
    const wrapDevice = deps.wrapDeviceFlows ?? ((store: DeviceFlowStore) => store);
    const sealer = new Sealer(config.sessionSecret);
    const minter = new TokenMinter(config.sessionSecret);
    const oauth: OAuthClient = {
      fetch: fetchFn,
      lookerUrl: config.lookerUrl,
      lookerApiUrl: config.lookerApiUrl,
      clientId: config.lookerClientId,
      timeoutMs: lookerTimeoutMs,
    };
    const keeper = new GrantKeeper({
      ledgerFor,
      sealer,
      oauth,
      deleteRecord: (key) => env.SESSIONS.delete(key),
      now,
      sleep,
      memory: grantMemory,
      keepAlive: deps.keepAlive ?? (() => {}),
      onEvent: ({ event, ...fields }) => log[fields.outcome === 'failed' ? 'warn' : 'info'](event, fields),
    });
    const callers: CallerContext = {
      minter,
      sealer,
      records: new HolderRecords(sealer, now),
      keeper,
      ledgerFor,
      deviceFlows: () => wrapDevice(stubOf<DeviceFlowStore>(deviceNamespace, `${prefix}device-flow`)),
      now,
      log,
      memory: callerMemory,
    };
    return { config, oauth, callers, tokens: new AccessTokens(callers), flows: new CredentialFlows(callers), signIns: new SignIns(sealer, now) };
  };

  return {
    fetch: fetchFn,
    now,
    log,
    configFor(env) {
      const state = stateFor(env);
      return state.ok ? { ok: true, config: state.shared.config } : state;
    },
    gatewayFor(env, requestUrl) {
      const state = stateFor(env);
      if (!state.ok) return state;
      const { shared } = state;
      const origin = shared.config.gatewayOrigin ?? new URL(requestUrl).origin;
      let site = state.origins.get(origin);
      if (site === undefined) {
        site = { origin, redirectUri: `${origin}/callback` };
        if (state.origins.size < MAX_ORIGINS) state.origins.set(origin, site);
      }
      return { ok: true, gateway: new RequestGateway(shared, site, new CountingKv(env.SESSIONS), log, now, platform) };
    },
  };
}
