/**
 * The MCP server at /mcp (Streamable HTTP, stateless), for a caller the route has already
 * authenticated: handleMcp is the one seam. The route gives it the caller's Looker (bound
 * to their grant), the grant's scope and the URL of the Protected Resource Metadata; it
 * answers every MCP request, errors included, as a Response.
 *
 * The SDK's createMcpHandler speaks both eras: the 2026-07-28 revision (per-request
 * envelope and headers, no initialize) and, through its stateless fallback, 2025-era
 * clients (initialize, then one POST per message; GET and DELETE answer 405).
 *
 * A handler and a server are built for each request, with that request's caller in their
 * closures: nothing of one caller outlives their request or reaches another's. Measured in
 * workerd, a handler shared by the isolate saves nothing measurable (a ping ~1 ms, a
 * tools/list ~10 ms either way: the SDK turns the 13 tools' input schemas into JSON Schema
 * on each tools/list, and that is the cost; building the handler and server is ~0.05 ms).
 */
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { scopeString, type GrantScope } from '../grants/scope.ts';
import type { Logger } from '../log.ts';
import { VERSION } from '../version.ts';
import { scopedLooker, type LookerCall } from './looker.ts';
import { TOOLS } from './registry.ts';
import type { ToolContext } from './tool.ts';

export type { LookerCall } from './looker.ts';

export interface McpCaller {
  /** The Looker API as the caller (their grant's token added by the route; never seen here). */
  looker: LookerCall;
  /** What the caller's grant may do; make_look needs 'write'. */
  scope: GrantScope;
  /** The RFC 9728 Protected Resource Metadata URL, for the `resource_metadata` of a scope challenge. */
  resourceMetadataUrl: string;
  /** The agent's OAuth client id, if the route knows it (passed to the SDK's AuthInfo). */
  clientId?: string;
  log?: Logger;
}

const INSTRUCTIONS =
  'Tools for Looker, acting as the signed-in person with their Looker permissions. Start with get_models, then get_explores and get_dimensions / get_measures, then query.';

function buildServer(context: ToolContext): McpServer {
  const server = new McpServer({ name: 'looker-oauth-gateway', version: VERSION }, { instructions: INSTRUCTIONS });
  for (const tool of TOOLS) tool.register(server, context);
  return server;
}

/** Answers one MCP request (POST /mcp, or GET/DELETE: 405) for an authenticated caller. */
export function handleMcp(request: Request, caller: McpCaller): Promise<Response> {
  const context: ToolContext = {
    looker: scopedLooker(caller.looker, caller.scope),
    onBug: (error) => caller.log?.error('unhandled_error', { name: error instanceof Error ? error.name : typeof error, where: 'mcp_tool' }),
  };
  return createMcpHandler(() => buildServer(context)).fetch(request, {
    authInfo: {
      // The SDK wants the token; it has no use for it here, and the gateway's stays with the route.
      token: '',
      clientId: caller.clientId ?? '',
      scopes: scopeString(caller.scope).split(' '),
      resourceMetadataUrl: caller.resourceMetadataUrl,
    },
  });
}
