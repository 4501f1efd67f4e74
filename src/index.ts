/** Worker entry: Cloudflare bindings → the app. Everything platform-specific stays at this edge. */
import { waitUntil } from 'cloudflare:workers';
import { createApp } from './app.ts';
import type { Bindings } from './context.ts';

import { clientOfCloudflareRequest } from './platform/cloudflare-client.ts';

export { AccountObject } from './platform/account-object.ts';
export { DeviceFlowObject } from './platform/device-flow-object.ts';

const app = createApp({ keepAlive: waitUntil, clientOf: clientOfCloudflareRequest });

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Bindings>;
