/**
 * The Deno runtime from the server's environment: DENO_KV_PATH opened (or Deno Deploy's
 * assigned database), TRUSTED_PROXY_HEADER judged; or what is wrong with them, for the
 * gateway to answer with (as a Worker answers a missing binding). How the database is
 * opened is a parameter (default Deno.openKv): the benchmark's entry wraps the handle.
 */
import type { ConfigProblem } from '../../config.ts';
import { trustedProxyHeaderProblem } from './proxy-header.ts';
import { denoRuntime, type DenoRuntime } from './runtime.ts';

/** Opens the Deno KV database at `path` (undefined: the one Deno Deploy assigned). */
export type OpenKv = (path: string | undefined) => Promise<Deno.Kv>;

export async function openRuntime(env: Record<string, string | undefined>, openKv: OpenKv = (path) => Deno.openKv(path)): Promise<DenoRuntime | { problems: ConfigProblem[] }> {
  const path = env.DENO_KV_PATH?.trim() ?? '';
  // Deno Deploy says so in the environment (Classic: DENO_DEPLOYMENT_ID; the current platform: DENO_DEPLOY too).
  const onDeploy = env.DENO_DEPLOYMENT_ID !== undefined || env.DENO_DEPLOY !== undefined;
  const problems: ConfigProblem[] = [];
  if (path === '' && !onDeploy) {
    problems.push({ variable: 'DENO_KV_PATH', problem: 'is not set: the Deno KV database file where sessions and ledgers live (e.g. /var/lib/looker-gw/kv.sqlite3)' });
  }
  const headerProblem = trustedProxyHeaderProblem(env.TRUSTED_PROXY_HEADER);
  if (headerProblem !== undefined) problems.push({ variable: 'TRUSTED_PROXY_HEADER', problem: headerProblem });
  if (problems.length > 0) return { problems };
  try {
    const kv = await openKv(path === '' ? undefined : path);
    const header = env.TRUSTED_PROXY_HEADER?.trim() ?? '';
    return denoRuntime(kv, header === '' ? {} : { trustedProxyHeader: header });
  } catch (error) {
    return { problems: [{ variable: 'DENO_KV_PATH', problem: `could not be opened (${error instanceof Error ? error.name : 'error'})` }] };
  }
}
