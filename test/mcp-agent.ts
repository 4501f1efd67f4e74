/**
 * An MCP client's OAuth state as the MCP SDK asks for it (its OAuthClientProvider), kept in
 * memory; the authorization URLs the SDK wants opened are handed to the test, which plays
 * the person. Shared by the end-to-end test (test/e2e/mcp.e2e.test.ts: a client that
 * registers itself) and the workerd one (test/mcp-client-document.test.ts: a client
 * described by a Client ID Metadata Document).
 */
import type {
  OAuthClientMetadata,
  OAuthClientProvider,
  OAuthDiscoveryState,
  StoredOAuthClientInformation,
  StoredOAuthTokens,
} from '@modelcontextprotocol/client';

export interface AgentOptions {
  clientName: string;
  redirectUrl: string;
  /** The client's Client ID Metadata Document: the SDK then uses its URL as client_id instead of registering. */
  clientMetadataUrl?: string;
}

export class AgentProvider implements OAuthClientProvider {
  client: StoredOAuthClientInformation | undefined;
  stored: StoredOAuthTokens | undefined;
  #verifier: string | undefined;
  #discovery: OAuthDiscoveryState | undefined;
  lastState: string | undefined;
  /** The authorization URLs the SDK asked to open, in order. */
  readonly authorizationUrls: URL[] = [];
  readonly #options: AgentOptions;
  constructor(options: AgentOptions) {
    this.#options = options;
  }
  get redirectUrl(): string {
    return this.#options.redirectUrl;
  }
  get clientMetadataUrl(): string | undefined {
    return this.#options.clientMetadataUrl;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.#options.clientName,
      redirect_uris: [this.#options.redirectUrl],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    };
  }
  state(): string {
    this.lastState = crypto.randomUUID();
    return this.lastState;
  }
  clientInformation(): StoredOAuthClientInformation | undefined {
    return this.client;
  }
  saveClientInformation(info: StoredOAuthClientInformation): void {
    this.client = info;
  }
  tokens(): StoredOAuthTokens | undefined {
    return this.stored;
  }
  saveTokens(tokens: StoredOAuthTokens): void {
    this.stored = tokens;
  }
  redirectToAuthorization(url: URL): void {
    this.authorizationUrls.push(url);
  }
  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }
  codeVerifier(): string {
    if (this.#verifier === undefined) throw new Error('no code verifier saved');
    return this.#verifier;
  }
  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.#discovery = state;
  }
  discoveryState(): OAuthDiscoveryState | undefined {
    return this.#discovery;
  }
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (scope === 'all' || scope === 'tokens') this.stored = undefined;
    if (scope === 'all' || scope === 'client') this.client = undefined;
    if (scope === 'all' || scope === 'discovery') this.#discovery = undefined;
  }
}
