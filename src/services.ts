/**
 * What both halves of the gateway (the site and the API) share for an isolate's life:
 * the parsed configuration per set of bindings, the keys derived from it, the logger, the
 * isolate's memory of grants and callers; and the one place a request's Gateway is built.
 * Dependencies are injected so tests can point the gateway at the Looker simulator and
 * move the clock; each runtime's entry passes its own Runtime (src/runtime.ts).
 */
import { AccessTokens } from './callers/access-tokens.ts';
import { AgentClients } from './callers/agent-clients.ts';
import { AgentTokens } from './callers/agent-tokens.ts';
import { BrowserSessions } from './callers/browser-sessions.ts';
import { type CallerContext, createCallerMemory } from './callers/context.ts';
import { CredentialFlows, DEFAULT_DEVICE_LIMITS } from './callers/credential-flows.ts';
import type { DeviceFlowStore, DeviceLimits } from './callers/device-store.ts';
import { ScriptCredentials } from './callers/credentials.ts';
import { CountingKv, HolderRecords, type KeyValueStore } from './callers/records.ts';
import { SignIns } from './callers/sign-ins.ts';
import { type Config, type ConfigProblem, type ConfigResult, parseVariables } from './config.ts';
import type { Bindings, Gateway, GatewayParts, GatewaySite } from './context.ts';
import { Sealer } from './crypto/seal.ts';
import { TokenMinter } from './crypto/tokens.ts';
import { GrantKeeper } from './grants/keeper.ts';
import { GrantMemory } from './grants/memory.ts';
import type { Ledger } from './grants/ledger.ts';
import { createLogger, type Logger, type LogSink } from './log.ts';
import type { Fetch } from './looker/http.ts';
import type { OAuthClient } from './looker/oauth.ts';
import type { Runtime, RuntimeStores } from './runtime.ts';

export interface AppDependencies {
  /** The runtime's stores, background work and client information (src/platform/<runtime>/). */
  runtime: Runtime;
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
  /** The device flow's limits (tests make them small). */
  deviceLimits?: DeviceLimits;
  /** Wraps the device-flow store (tests inject faults with it). */
  wrapDeviceFlows?: (store: DeviceFlowStore) => DeviceFlowStore;
  /** How long to wait for an agent's client metadata document (default 5 s). */
  clientDocumentTimeoutMs?: number;
}

const DEFAULT_LOOKER_TIMEOUT_MS = 15_000;

/** Everything per set of bindings that does not depend on the request's origin. */
interface Shared {
  parts: GatewayParts;
  kv: KeyValueStore;
  callers: CallerContext;
}

type ConfigState =
  | { ok: true; shared: Shared; origins: Map<string, GatewayParts & GatewaySite> }
  | { ok: false; problems: ConfigProblem[]; kv: KeyValueStore | undefined };

/** Without GATEWAY_URL the origin comes from the request's Host: keep only a few. */
const MAX_ORIGINS = 16;

export type GatewayResult = { ok: true; gateway: Gateway } | { ok: false; problems: ConfigProblem[] };

export interface Services {
  readonly fetch: Fetch;
  readonly now: () => number;
  readonly log: Logger;
  /** The configuration for these bindings (parsed once per isolate). */
  configFor(env: Bindings): ConfigResult;
  /** The holder-record store these bindings provide, if any (for /readyz). */
  kvFor(env: Bindings): KeyValueStore | undefined;
  /** Everything a route needs for one request, or what is wrong with the configuration. */
  gatewayFor(env: Bindings, requestUrl: string): GatewayResult;
}

/**
 * One request's Gateway: the isolate's parts for this origin, and this request's counted
 * KV. The parts that count KV per request are made only when a route uses them (most API
 * requests never do).
 */
function requestGateway(site: GatewayParts & GatewaySite, callers: CallerContext, kv: CountingKv, documents: DocumentFetching): Gateway {
  let sessions: BrowserSessions | undefined;
  let credentials: ScriptCredentials | undefined;
  let agentClients: AgentClients | undefined;
  return {
    ...site,
    kv,
    get sessions() {
      return (sessions ??= new BrowserSessions(callers, kv));
    },
    get credentials() {
      return (credentials ??= new ScriptCredentials(callers, kv));
    },
    get agentClients() {
      return (agentClients ??= new AgentClients(callers, kv, documents.fetch, documents.timeoutMs));
    },
  };
}

/** How the gateway fetches an agent's client metadata document. */
interface DocumentFetching {
  fetch: Fetch;
  timeoutMs: number | undefined;
}

export function createServices(deps: AppDependencies): Services {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const fetchFn: Fetch = deps.fetch ?? ((input, init) => fetch(input, init));
  const log = createLogger(deps.logSink);
  const lookerTimeoutMs = deps.lookerTimeoutMs ?? DEFAULT_LOOKER_TIMEOUT_MS;
  const prefix = deps.ledgerNamePrefix ?? '';
  const wrap = deps.wrapLedger ?? ((ledger: Ledger) => ledger);
  const grantMemory = new GrantMemory(now);
  const platform = { clientOf: deps.runtime.clientOf, deviceLimits: deps.deviceLimits ?? DEFAULT_DEVICE_LIMITS };
  const callerMemory = createCallerMemory(now);
  const documents: DocumentFetching = { fetch: fetchFn, timeoutMs: deps.clientDocumentTimeoutMs };

  // Bindings are fixed for an isolate's life; parse them and derive keys once, not per request.
  const configStates = new WeakMap<object, ConfigState>();
  const stateFor = (env: Bindings): ConfigState => {
    let state = configStates.get(env);
    if (state === undefined) {
      const variables = parseVariables(env);
      const stores = deps.runtime.storesFor(env);
      if (variables.ok && stores.ok) {
        state = { ok: true, shared: buildShared(variables.config, stores.stores), origins: new Map() };
      } else {
        const problems = [...(variables.ok ? [] : variables.problems), ...(stores.ok ? [] : stores.problems)];
        state = { ok: false, problems, kv: stores.ok ? stores.stores.kv : stores.kv };
        log.error('config_invalid', { problems: problems.map((p) => `${p.variable} ${p.problem}`).join('; ') });
      }
      configStates.set(env, state);
    }
    return state;
  };

  const buildShared = (config: Config, stores: RuntimeStores): Shared => {
    const ledgerFor = (personKey: string) => wrap(stores.ledger(`${prefix}person:${personKey}`));
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
      deleteRecord: (key) => stores.kv.delete(key),
      now,
      sleep,
      memory: grantMemory,
      keepAlive: (work) => deps.runtime.defer(work),
      onEvent: ({ event, ...fields }) => log[fields.outcome === 'failed' ? 'warn' : 'info'](event, fields),
    });
    const callers: CallerContext = {
      minter,
      sealer,
      records: new HolderRecords(sealer, now),
      keeper,
      ledgerFor,
      deviceFlows: () => wrapDevice(stores.deviceFlows(`${prefix}device-flow`)),
      now,
      log,
      memory: callerMemory,
    };
    const parts: GatewayParts = {
      config,
      oauth,
      tokens: new AccessTokens(callers),
      agents: new AgentTokens(callers),
      flows: new CredentialFlows(callers),
      signIns: new SignIns(sealer, now),
      keeper,
      minter,
      log,
      now,
      ...platform,
    };
    return { parts, kv: stores.kv, callers };
  };

  return {
    fetch: fetchFn,
    now,
    log,
    configFor(env) {
      const state = stateFor(env);
      return state.ok ? { ok: true, config: state.shared.parts.config } : { ok: false, problems: state.problems };
    },
    kvFor(env) {
      const state = stateFor(env);
      return state.ok ? state.shared.kv : state.kv;
    },
    gatewayFor(env, requestUrl) {
      const state = stateFor(env);
      if (!state.ok) return { ok: false, problems: state.problems };
      const { shared } = state;
      const origin = shared.parts.config.gatewayOrigin ?? new URL(requestUrl).origin;
      let site = state.origins.get(origin);
      if (site === undefined) {
        site = { ...shared.parts, origin, redirectUri: `${origin}/callback` };
        if (state.origins.size < MAX_ORIGINS) state.origins.set(origin, site);
      }
      return { ok: true, gateway: requestGateway(site, shared.callers, new CountingKv(shared.kv), documents) };
    },
  };
}
