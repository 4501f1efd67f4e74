#!/usr/bin/env node
// npm run doctor [-- --env production] [--runtime deno]
// Checks the configuration against the real Looker, and wrangler.toml (or, with
// --runtime deno, Deno and its KV). See ops/doctor.ts.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { denoBinary } from './lib/deno-bin.mjs';
import { requireModernNode } from './lib/node-version.mjs';
import { localVars } from './lib/tool-vars.mjs';
import { wranglerVars } from './lib/wrangler-vars.mjs';

requireModernNode();
const { doctor } = await import('../ops/doctor.ts');
const { values } = parseArgs({ options: { env: { type: 'string' }, runtime: { type: 'string' }, help: { type: 'boolean' } }, strict: false });
const environment = typeof values.env === 'string' ? values.env : undefined;
const onDeno = values.runtime === 'deno';

/** What the doctor needs to know of wrangler.toml, as wrangler itself reads it, for the target environment. */
async function wranglerFacts() {
  const facts = { environment, kvNamespaceId: undefined, durableObjects: [], varTables: [] };
  try {
    const { experimental_readRawConfig } = await import('wrangler');
    const { config, vars } = await wranglerVars(environment);
    const { rawConfig } = experimental_readRawConfig({ config: 'wrangler.toml' });
    const names = (vars) => Object.keys(vars ?? {});
    return {
      facts: {
        environment,
        kvNamespaceId: config.kv_namespaces.find((kv) => kv.binding === 'SESSIONS')?.id,
        durableObjects: config.durable_objects.bindings.map((b) => b.name),
        // Every environment's [vars] as written, to find secrets set there.
        varTables: [
          { table: '[vars]', environment: undefined, names: names(rawConfig.vars) },
          ...Object.entries(rawConfig.env ?? {}).map(([name, env]) => ({ table: `[env.${name}.vars]`, environment: name, names: names(env.vars) })),
        ],
      },
      configVars: vars,
    };
  } catch (error) {
    return { facts: { ...facts, problem: error instanceof Error ? error.message.split('\n')[0] : 'could not be read' }, configVars: {} };
  }
}

/** What is wrong with the server writing its Deno KV file at `path`, if anything. */
function kvFileProblem(path) {
  const file = resolve(path);
  try {
    if (existsSync(file)) {
      if (!statSync(file).isFile()) return 'is not a file';
      accessSync(file, constants.R_OK | constants.W_OK);
      return undefined;
    }
    const directory = dirname(file);
    if (!existsSync(directory)) return `its directory ${directory} does not exist`;
    accessSync(directory, constants.W_OK);
    return undefined;
  } catch {
    return 'cannot be written by this user (run the doctor as the service\'s user)';
  }
}

function denoFacts(vars) {
  const binary = denoBinary();
  let version;
  if (binary !== null) {
    try {
      version = execFileSync(binary, ['--version'], { encoding: 'utf8', env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' } }).split('\n')[0]?.trim();
    } catch {
      version = undefined;
    }
  }
  const kvPath = (vars.DENO_KV_PATH ?? '').trim();
  const isFile = kvPath !== '' && kvPath !== ':memory:' && !/^https?:\/\//i.test(kvPath);
  return { version, ...(isFile ? { kvFileProblem: kvFileProblem(kvPath) } : {}) };
}

// Locally, .dev.vars then the environment; production checks what would be deployed: that
// environment's [vars] and the shell's environment (secrets are not readable). On Deno, the
// environment the server runs with (and .dev.vars, as npm run dev -- --runtime deno reads it).
const { facts: wrangler, configVars } = onDeno ? { facts: { environment: undefined, kvNamespaceId: undefined, durableObjects: [], varTables: [] }, configVars: {} } : await wranglerFacts();
const vars = { ...configVars, ...localVars({ devVars: environment === undefined }) };
const code = await doctor({
  vars,
  argv: process.argv.slice(2),
  fetch: (input, init) => fetch(input, init),
  print: (line) => console.log(line),
  wrangler,
  ...(onDeno ? { deno: denoFacts(vars) } : {}),
});
process.exit(code);
