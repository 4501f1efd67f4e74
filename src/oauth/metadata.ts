/**
 * The documents that let an MCP client find its way without being told: the authorization
 * server's metadata (RFC 8414) and the protected resource's (RFC 9728), both for the one
 * resource the gateway's authorization server issues tokens for: `<origin>/mcp`.
 */
import { READ_SCOPE, WRITE_SCOPE } from '../grants/scope.ts';

export const MCP_PATH = '/mcp';

/** The resource an agent's tokens are bound to (RFC 8707): the gateway's MCP endpoint. */
export function mcpResource(origin: string): string {
  return `${origin}${MCP_PATH}`;
}

export function resourceMetadataUrl(origin: string): string {
  return `${origin}/.well-known/oauth-protected-resource${MCP_PATH}`;
}

export function authorizationServerMetadata(origin: string) {
  return {
    issuer: origin,
    authorization_endpoint: `${origin}/oauth/authorize`,
    token_endpoint: `${origin}/oauth/token`,
    registration_endpoint: `${origin}/oauth/register`,
    revocation_endpoint: `${origin}/oauth/revoke`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    scopes_supported: [READ_SCOPE, WRITE_SCOPE],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: true,
  };
}

export function protectedResourceMetadata(origin: string) {
  return {
    resource: mcpResource(origin),
    authorization_servers: [origin],
    scopes_supported: [READ_SCOPE, WRITE_SCOPE],
    bearer_methods_supported: ['header'],
    resource_name: 'Looker through this gateway',
  };
}

/** The challenge of a 401 at /mcp (RFC 9728 §5.1, RFC 6750 §3). */
export function bearerChallenge(origin: string, extra: { error?: string; description?: string } = {}): string {
  const parts = [`resource_metadata="${resourceMetadataUrl(origin)}"`, `scope="${READ_SCOPE}"`];
  if (extra.error !== undefined) parts.push(`error="${extra.error}"`);
  if (extra.description !== undefined) parts.push(`error_description="${extra.description.replace(/["\\]/g, '')}"`);
  return `Bearer ${parts.join(', ')}`;
}
