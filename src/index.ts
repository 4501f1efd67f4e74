/** Worker entry: Cloudflare bindings → the app. Everything platform-specific stays here. */
import { createApp } from './app.ts';
import type { Bindings } from './context.ts';
import { DurableObjectRefreshCoordinator, RefreshCoordinatorObject } from './platform/refresh-coordinator.ts';

export { RefreshCoordinatorObject };

type CloudflareBindings = Bindings & { REFRESH_COORDINATOR?: DurableObjectNamespace<RefreshCoordinatorObject> };

const app = createApp({
  // Without the binding (e.g. a trimmed wrangler.toml), refreshes are coordinated per isolate only.
  coordinatorFor: (env, sealer) => {
    const namespace = (env as CloudflareBindings).REFRESH_COORDINATOR;
    return namespace === undefined ? undefined : DurableObjectRefreshCoordinator.forNamespace(namespace, sealer, Date.now);
  },
});

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Bindings>;
