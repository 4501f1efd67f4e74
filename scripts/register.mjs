#!/usr/bin/env node
// npm run register [-- --apply --display-name NAME --description TEXT --group-id ID]
// Registers or updates the gateway's OAuth client app in Looker. See ops/register.ts.
import { requireModernNode } from './lib/node-version.mjs';
import { localVars } from './lib/tool-vars.mjs';

requireModernNode();
const { register } = await import('../ops/register.ts');
const code = await register({
  vars: localVars(),
  argv: process.argv.slice(2),
  fetch: (input, init) => fetch(input, init),
  print: (line) => console.log(line),
});
process.exit(code);
