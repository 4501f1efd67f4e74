#!/usr/bin/env node
// npm run doctor [-- --env production]
// Checks the configuration against the real Looker and wrangler.toml. See ops/doctor.ts.
import { parseArgs } from 'node:util';
import { requireModernNode } from './lib/node-version.mjs';
import { localVars } from './lib/tool-vars.mjs';
import { wranglerVars } from './lib/wrangler-vars.mjs';

requireModernNode();
const { doctor } = await import('../ops/doctor.ts');
const { values } = parseArgs({ options: { env: { type: 'string' }, help: { type: 'boolean' } }, strict: false });
const environment = typeof values.env === 'string' ? values.env : undefined;

// wrangler.toml as wrangler itself reads it, for the target environment; and every
// environment's [vars] as written, to find secrets set there.
let wrangler = { environment, kvNamespaceId: undefined, durableObjects: [], varTables: [] };
let configVars = {};
try {
  const { experimental_readRawConfig } = await import('wrangler');
  const { config, vars } = await wranglerVars(environment);
  const { rawConfig } = experimental_readRawConfig({ config: 'wrangler.toml' });
  const names = (vars) => Object.keys(vars ?? {});
  wrangler = {
    environment,
    kvNamespaceId: config.kv_namespaces.find((kv) => kv.binding === 'SESSIONS')?.id,
    durableObjects: config.durable_objects.bindings.map((b) => b.name),
    varTables: [
      { table: '[vars]', environment: undefined, names: names(rawConfig.vars) },
      ...Object.entries(rawConfig.env ?? {}).map(([name, env]) => ({ table: `[env.${name}.vars]`, environment: name, names: names(env.vars) })),
    ],
  };
  configVars = vars;
} catch (error) {
  wrangler.problem = error instanceof Error ? error.message.split('\n')[0] : 'could not be read';
}

const code = await doctor({
  // Production checks what would be deployed: that environment's [vars] and the shell's
  // environment (secrets are not readable); locally, [vars], .dev.vars, then the environment.
  vars: { ...configVars, ...localVars({ devVars: environment === undefined }) },
  argv: process.argv.slice(2),
  fetch: (input, init) => fetch(input, init),
  print: (line) => console.log(line),
  wrangler,
});
process.exit(code);
