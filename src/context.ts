/** The types a request carries through the app: the runtime's bindings in, per-request services out. */
import type { AccessTokens } from './callers/access-tokens.ts';
import type { AgentClients } from './callers/agent-clients.ts';
import type { AgentTokens } from './callers/agent-tokens.ts';
import type { BrowserSessions } from './callers/browser-sessions.ts';
import type { CredentialFlows } from './callers/credential-flows.ts';
import type { CallerKindName } from './callers/resolve.ts';
import type { ScriptCredentials } from './callers/credentials.ts';
import type { CountingKv } from './callers/records.ts';
import type { SignIns } from './callers/sign-ins.ts';
import type { Config } from './config.ts';
import type { DeviceLimits } from './callers/device-store.ts';
import type { ClientOf } from './http/client.ts';
import type { GrantKeeper } from './grants/keeper.ts';
import type { Logger } from './log.ts';
import type { OAuthClient } from './looker/oauth.ts';
import type { TokenMinter } from './crypto/tokens.ts';

import type { Bindings } from './runtime.ts';

export type { Bindings };

/**
 * The parts of a Gateway that last as long as the isolate's configuration: built once per
 * set of bindings, shared by every request.
 */
export interface GatewayParts {
  config: Config;
  oauth: OAuthClient;
  tokens: AccessTokens;
  /** AI agents' tokens (the OAuth authorization server's, for /mcp). */
  agents: AgentTokens;
  flows: CredentialFlows;
  signIns: SignIns;
  keeper: GrantKeeper;
  minter: TokenMinter;
  log: Logger;
  now: () => number;
  /** The client's address and location, as the platform reports them. */
  clientOf: ClientOf;
  deviceLimits: DeviceLimits;
}

/** Where the gateway is reached: one per public origin. */
export interface GatewaySite {
  /** The gateway's public origin: GATEWAY_URL, or the request's own origin. */
  origin: string;
  redirectUri: string;
}

/** Everything a route needs, built once per request by the app (routes never build these themselves). */
export interface Gateway extends GatewayParts, GatewaySite {
  /** KV, counted for this request's log line. */
  kv: CountingKv;
  sessions: BrowserSessions;
  credentials: ScriptCredentials;
  /** AI agents' OAuth clients (registered ones in KV, metadata documents fetched). */
  agentClients: AgentClients;
}

/** Which kind of caller a request was served for (for the request log line). */
export type CallerKind = CallerKindName | 'agent' | 'anonymous';

export interface AppEnv {
  Bindings: Bindings;
  Variables: {
    gateway: Gateway;
    requestId: string;
    /** Set by routes for the request log: whether the Looker token was refreshed. */
    refreshed?: boolean;
    /** Set by the API proxy for the request log: Looker's status. */
    upstreamStatus?: number;
    caller?: CallerKind;
    /** Set by site routes (allowFormTarget): origins a page's forms may lead to, besides the gateway's own. */
    formTargets?: string[];
  };
}
