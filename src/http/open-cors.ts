/**
 * CORS for what an MCP client calls from anywhere, a browser-based client included (an
 * inspector in a web page): the OAuth metadata, registration, token and revocation
 * endpoints, and /mcp. Readable by any origin, never with credentials: nothing there reads
 * a cookie (an agent proves itself with its bearer token). The challenge and the MCP
 * headers are exposed, so a browser client can read WWW-Authenticate on a 401 and follow
 * it to the metadata.
 */
import { cors } from 'hono/cors';

export const openToAnyOrigin = cors({
  origin: '*',
  allowMethods: ['GET', 'POST', 'DELETE'],
  // No allowHeaders: a preflight's Access-Control-Request-Headers are allowed as asked
  // (authorization, content-type and MCP's own headers, which grow with the protocol).
  exposeHeaders: ['WWW-Authenticate', 'Mcp-Session-Id', 'Mcp-Protocol-Version'],
  maxAge: 600,
});
