/** Worker entry: Cloudflare bindings → the app. Everything platform-specific stays here. */
import { createApp } from './app.tsx';
import type { Bindings } from './context.ts';

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Bindings>;
