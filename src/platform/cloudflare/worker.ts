/** The Worker's entry: Cloudflare's runtime → the app, and the Durable Object classes wrangler.toml binds. */
import { createApp } from '../../app.ts';
import type { Bindings } from '../../runtime.ts';
import { cloudflareRuntime } from './runtime.ts';

export { AccountObject } from './account-object.ts';
export { DeviceFlowObject } from './device-flow-object.ts';

const app = createApp({ runtime: cloudflareRuntime() });

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Bindings>;
