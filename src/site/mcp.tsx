/**
 * /mcp's authentication (MCP authorization, RFC 9728 §5.1, RFC 6750): only an AI agent's
 * access token issued for this gateway's /mcp is accepted; anything else (none, a
 * script's gateway token, a browser's cookie, a token for another resource, an ended
 * grant) gets 401 with the challenge that leads an MCP client to the authorization
 * server. An authenticated request goes to the MCP server (the handler), with a function
 * that calls the Looker API as the agent's grant: its Looker token, refreshed as /api/*
 * refreshes it, never leaves the gateway, and the grant's scope is enforced on every call.
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import { bearerToken } from '../callers/access-tokens.ts';
import type { AgentCaller } from '../callers/agent-tokens.ts';
import type { AppEnv, Gateway } from '../context.ts';
import { GrantUnavailableError } from '../grants/access.ts';
import { allowsApiCall, resolveApiTarget } from '../http/api-target.ts';
import { openToAnyOrigin } from '../http/open-cors.ts';
import type { Grant } from '../grants/record.ts';
import { WRITE_SCOPE } from '../grants/scope.ts';
import type { LookerCall, McpCaller } from '../mcp/handler.ts';
import { fetchWithDeadline } from '../looker/http.ts';
import { bearerChallenge, mcpResource, MCP_PATH, resourceMetadataUrl } from '../oauth/metadata.ts';
import { McpAddressPage } from './views/mcp-address.tsx';

/** The MCP server: answers one request of an authenticated agent (src/mcp/handler.ts; tests may give another). */
export type McpHandler = (request: Request, caller: McpCaller) => Promise<Response>;


export function mcpRoutes(handle: McpHandler) {
  const routes = new Hono<AppEnv>();
  routes.use(MCP_PATH, openToAnyOrigin);
  routes.all(MCP_PATH, async (c) => {
    const gw = c.get('gateway');
    c.header('cache-control', 'no-store');
    const value = bearerToken(c.req.header('authorization'));
    // A person who opened the address in a browser: a page saying what it is for (with the same challenge).
    if (value === undefined && c.req.method === 'GET' && (c.req.header('accept') ?? '').includes('text/html')) {
      return c.html(<McpAddressPage address={mcpResource(gw.origin)} />, 401, { 'www-authenticate': bearerChallenge(gw.origin, {}) });
    }
    if (value === undefined) return challenge(c, gw);
    let found;
    try {
      found = await gw.agents.resolve(value, mcpResource(gw.origin));
    } catch (error) {
      if (!(error instanceof GrantUnavailableError)) throw error;
      return c.json({ error: 'temporarily_unavailable', error_description: 'The gateway could not confirm the token right now; try again.' }, 503, { 'retry-after': '1' });
    }
    if (found === null) return challenge(c, gw, 'invalid_token');
    c.set('caller', 'agent');
    const { caller } = found;
    return handle(c.req.raw, {
      looker: lookerFor(gw, caller, found.grant),
      scope: caller.agent.scope,
      resourceMetadataUrl: resourceMetadataUrl(gw.origin),
      clientId: caller.agent.clientId,
      log: gw.log,
    });
  });
  return routes;
}

function challenge(c: Context<AppEnv>, gw: Gateway, error?: string) {
  const description = error === undefined ? undefined : 'The access token is unknown, expired, revoked, or not for this resource.';
  return c.json(
    { error: error ?? 'unauthorized', error_description: description ?? 'This MCP server needs an access token from this gateway (see resource_metadata).' },
    401,
    { 'www-authenticate': bearerChallenge(gw.origin, error === undefined ? {} : { error, ...(description === undefined ? {} : { description }) }) },
  );
}

/** The Looker API as this agent's grant: refreshed when needed (once more on Looker's 401), its scope enforced first. */
function lookerFor(gw: Gateway, caller: AgentCaller, initial: Grant): LookerCall {
  let grant = initial;
  return async (method, path, body) => {
    const verb = method.toUpperCase();
    // Judged as /api/* judges a person's calls: under /api/4.0, unambiguous, never Looker's own sign-in endpoints.
    const query = path.indexOf('?');
    const pathname = query < 0 ? path : path.slice(0, query);
    const search = query < 0 ? '' : path.slice(query);
    const target = resolveApiTarget(verb, `/api/4.0${pathname}`, search, gw.config.lookerApiUrl);
    if (!target.ok || /[#\s]/.test(search)) {
      return Response.json({ message: `The path ${pathname} is not one an agent may call.` }, { status: 400 });
    }
    // The MCP server narrows its calls to the grant's scope too; this is the route's own check, at the boundary.
    if (!allowsApiCall(caller.agent.scope, verb, path)) {
      return Response.json({ message: `${verb} ${path.split('?')[0]} needs ${WRITE_SCOPE}; this agent may only read.`, required_scope: WRITE_SCOPE }, { status: 403 });
    }
    const url = target.url;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const outcome = await gw.keeper.callWithAccessToken(
      caller.access,
      grant,
      (accessToken) =>
        fetchWithDeadline(
          gw.oauth.fetch,
          url,
          {
            method: verb,
            headers: {
              authorization: `Bearer ${accessToken}`,
              accept: 'application/json',
              ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
            },
            ...(payload === undefined ? {} : { body: payload }),
          },
          gw.config.upstreamTimeoutMs,
          'Calling the Looker API for an agent',
        ),
      { isRefused: (res) => res.status === 401, canRepeat: true, discard: (res) => res.body?.cancel() ?? Promise.resolve() },
    );
    grant = outcome.grant;
    return outcome.result;
  };
}
