/**
 * The gateway's layering, checked by `npm run lint:deps` (part of `npm test`):
 * a request flows app → site/api (routes) → callers → grants → looker, and nothing
 * lower down reaches back up. No import circles anywhere.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle makes two modules one module in disguise: split out what they share.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'lower-layers-stay-below-routes',
      severity: 'error',
      comment: 'Session, grant, Looker and platform code must not know the routes or the app that use them.',
      // A runtime's entry file (src/platform/<runtime>/worker.ts) is the one place that starts the app;
      // on Deno, server.ts is the entry and gateway.ts builds what it serves (another entry, the benchmark's, reuses it).
      from: { path: '^src/(callers|grants|looker|crypto|util|platform|http)/', pathNot: '^src/platform/[^/]+/(worker|server)\\.ts$|^src/platform/deno/gateway\\.ts$' },
      to: { path: '^src/(site|api)/|^src/(app|services|index)\\.ts$' },
    },
    {
      name: 'looker-client-knows-no-callers',
      severity: 'error',
      comment: 'The Looker client knows nothing of cookies, sessions or storage.',
      from: { path: '^src/looker/' },
      to: { path: '^src/(callers|grants|platform|http)/' },
    },
    {
      name: 'grants-know-no-callers',
      severity: 'error',
      comment: 'A grant does not know who holds it (cookie, credential, token).',
      from: { path: '^src/grants/' },
      to: { path: '^src/(callers|http)/' },
    },
    {
      name: 'only-a-runtime-folder-knows-its-runtime',
      severity: 'error',
      comment: 'The app is one source for every runtime: only src/platform/<runtime>/ may import that runtime (cloudflare:*, its folder).',
      from: { path: '^src/', pathNot: '^src/platform/cloudflare/' },
      to: { path: '^src/platform/cloudflare/|^cloudflare:' },
    },
    {
      name: 'only-the-deno-folder-knows-deno',
      severity: 'error',
      comment: 'Deno KV, Deno.serve and the Deno entry live in src/platform/deno/; the core and the Workers build never import them (Deno.* globals outside that folder fail tsconfig.core.json).',
      from: { path: '^src/', pathNot: '^src/platform/deno/' },
      to: { path: '^src/platform/deno/|^(jsr|npm):' },
    },
    {
      name: 'apps-do-not-import-each-other',
      severity: 'error',
      comment: 'The site and the API are two apps over shared services; one never reaches into the other.',
      from: { path: '^src/api/' },
      to: { path: '^src/site/' },
    },
    {
      name: 'site-does-not-import-api',
      severity: 'error',
      from: { path: '^src/site/' },
      to: { path: '^src/api/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^src/types/' },
  },
};
