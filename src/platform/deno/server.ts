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
 */
import { createApp, isApiUrl } from '../../app.ts';
import type { Runtime } from '../../runtime.ts';
import { withPrivateCaching } from './caching.ts';
import { openRuntime } from './open.ts';

// Read once: the services parse configuration once per bindings object.
const env: Record<string, string> = Deno.env.toObject();

const opened = await openRuntime(env);
const runtime: Runtime =
  'problems' in opened
    ? { storesFor: () => ({ ok: false, problems: opened.problems }), clientOf: () => ({ address: 'unknown' }), defer: (work) => void work.catch(() => {}) }
    : opened;
const app = createApp({ runtime });

// On a stop, work the answers left running (a refresh storing tokens Looker already rotated) finishes first, for up to 10 s.
if (!('problems' in opened)) {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    try {
      Deno.addSignalListener(signal, () => {
        void Promise.race([opened.settled(), new Promise((resolve) => setTimeout(resolve, 10_000))]).finally(() => Deno.exit(0));
      });
    } catch {
      // This platform has no such signal (Windows has no SIGTERM; Deno Deploy stops the process itself).
    }
  }
}

export default {
  async fetch(request, info) {
    if (!('problems' in opened)) request = opened.arrived(request, info.remoteAddr);
    return withPrivateCaching(await app.fetch(request, env), isApiUrl(request.url));
  },
} satisfies Deno.ServeDefaultExport;
