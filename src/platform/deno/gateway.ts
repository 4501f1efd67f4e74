/**
 * The gateway on Deno, built from an environment: its Deno KV opened, the runtime and the
 * app made, and the handler `deno serve` calls. server.ts (the entry `deno serve` and Deno
 * Deploy run) is this with the process's environment and Deno.openKv; opening the KV is a
 * parameter so that another entry (the benchmark's) can wrap the handle it gets. Nothing
 * here runs on import.
 */
import { createApp, isApiUrl } from '../../app.ts';
import type { Runtime } from '../../runtime.ts';
import { withPrivateCaching } from './caching.ts';
import { badHostAnswer } from './host.ts';
import { openRuntime, type OpenKv } from './open.ts';
import { stdoutLogSink } from './stdout-log.ts';

export interface DenoGatewayOptions {
  /** Default Deno.openKv. */
  openKv?: OpenKv;
}

/** What `deno serve` takes as a file's default export. */
export type DenoGateway = Deno.ServeDefaultExport;

/**
 * The gateway for this environment (read once: the services parse configuration once per
 * bindings object). On SIGINT or SIGTERM, work the answers left running (a refresh storing
 * tokens Looker already rotated) finishes first, for up to 10 s, then the process exits.
 */
export async function openGateway(env: Record<string, string>, options: DenoGatewayOptions = {}): Promise<DenoGateway> {
  const opened = await openRuntime(env, options.openKv);
  const runtime: Runtime =
    'problems' in opened
      ? { storesFor: () => ({ ok: false, problems: opened.problems }), clientOf: () => ({ address: 'unknown' }), defer: (work) => void work.catch(() => {}) }
      : opened;
  const app = createApp({ runtime, logSink: stdoutLogSink() });

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

  return {
    async fetch(request, info) {
      const badHost = badHostAnswer(request);
      if (badHost !== undefined) return badHost;
      if (!('problems' in opened)) request = opened.arrived(request, info.remoteAddr);
      return withPrivateCaching(await app.fetch(request, env), isApiUrl(request.url));
    },
  };
}
