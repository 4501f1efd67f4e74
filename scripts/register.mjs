#!/usr/bin/env node
// npm run register [-- --env production --apply --display-name NAME --description TEXT --group-id ID]
// Registers or updates the gateway's OAuth client app in Looker. See ops/register.ts.
// With --env NAME it reads that environment's [vars] from wrangler.toml (GATEWAY_URL,
// LOOKER_URL, LOOKER_CLIENT_ID…), overridden by the shell's environment; without it,
// .dev.vars and the environment. The admin API key always comes from the environment.
import { parseArgs } from 'node:util';
import { requireModernNode } from './lib/node-version.mjs';
import { localVars } from './lib/tool-vars.mjs';
import { wranglerVars } from './lib/wrangler-vars.mjs';

requireModernNode();
const { register } = await import('../ops/register.ts');
const { values } = parseArgs({ options: { env: { type: 'string' } }, strict: false });
const environment = typeof values.env === 'string' ? values.env : undefined;
let configVars = {};
if (environment !== undefined) {
  try {
    configVars = (await wranglerVars(environment)).vars;
  } catch (error) {
    console.error(`wrangler.toml could not be read for --env ${environment}: ${error instanceof Error ? error.message.split('\n')[0] : error}`);
    process.exit(1);
  }
}
const argv = process.argv.slice(2);
const envAt = argv.findIndex((a) => a === '--env' || a.startsWith('--env='));
if (envAt !== -1) argv.splice(envAt, argv[envAt] === '--env' ? 2 : 1);
const code = await register({
  vars: { ...configVars, ...localVars({ devVars: environment === undefined }) },
  argv,
  fetch: (input, init) => fetch(input, init),
  print: (line) => console.log(line),
});
process.exit(code);
