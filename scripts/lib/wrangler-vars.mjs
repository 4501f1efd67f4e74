// The [vars] of wrangler.toml for an environment, as wrangler itself reads them (the
// operator tools check and register what would be deployed).
export async function wranglerVars(environment) {
  const { unstable_readConfig } = await import('wrangler');
  const config = unstable_readConfig({ config: 'wrangler.toml', env: environment }, { hideWarnings: true });
  return { config, vars: Object.fromEntries(Object.entries(config.vars ?? {}).filter(([, v]) => typeof v === 'string')) };
}
