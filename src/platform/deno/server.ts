/**
 * The gateway on Deno: `deno serve` (or Deno Deploy) runs this file's default export.
 *
 *   DENO_KV_PATH=/var/lib/looker-gw/kv.sqlite3 deno serve --allow-net --allow-env \
 *     --allow-read --allow-write --port 8787 src/platform/deno/server.ts
 *
 * Configuration is the environment, as the Worker's variables (README: LOOKER_URL,
 * LOOKER_CLIENT_ID, SESSION_SECRET…), plus:
 * - DENO_KV_PATH: the Deno KV database file (`:memory:` for tests only). On Deno Deploy
 *   leave it unset: the KV database assigned to the app is used.
 * - TRUSTED_PROXY_HEADER: behind a reverse proxy of yours, the header it sets to the client's
 *   address (e.g. x-forwarded-for). Unset, the connection's address counts.
 *
 * How it is built is gateway.ts.
 */
import { openGateway } from './gateway.ts';

export default await openGateway(Deno.env.toObject());
