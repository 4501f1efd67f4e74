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
import type { ConfigProblem } from '../../config.ts';
import type { Runtime } from '../../runtime.ts';
import { withPrivateCaching } from './caching.ts';
import { denoRuntime, type DenoRuntime } from './runtime.ts';

// Read once: the services parse configuration once per bindings object.
const env: Record<string, string> = Deno.env.toObject();

async function openRuntime(): Promise<DenoRuntime | { problems: ConfigProblem[] }> {
  const path = env.DENO_KV_PATH;
  // Deno Deploy says so in the environment (Classic: DENO_DEPLOYMENT_ID; the current platform: DENO_DEPLOY too).
  const onDeploy = env.DENO_DEPLOYMENT_ID !== undefined || env.DENO_DEPLOY !== undefined;
  if ((path === undefined || path === '') && !onDeploy) {
    return { problems: [{ variable: 'DENO_KV_PATH', problem: 'is not set: the Deno KV database file where sessions and ledgers live (e.g. /var/lib/looker-gw/kv.sqlite3)' }] };
  }
  try {
    const kv = await Deno.openKv(path === '' ? undefined : path);
    const header = env.TRUSTED_PROXY_HEADER;
    return denoRuntime(kv, header === undefined || header === '' ? {} : { trustedProxyHeader: header });
  } catch (error) {
    return { problems: [{ variable: 'DENO_KV_PATH', problem: `could not be opened (${error instanceof Error ? error.name : 'error'})` }] };
  }
}

const opened = await openRuntime();
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
    if (!('problems' in opened)) opened.connected(request, info.remoteAddr);
    return withPrivateCaching(await app.fetch(request, env), isApiUrl(request.url));
  },
} satisfies Deno.ServeDefaultExport;
