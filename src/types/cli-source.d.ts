/** The command line's source, imported as text (wrangler.toml's [[rules]] and the tests' equivalent). */
declare module '*/cli/looker-oauth-gateway.mjs' {
  const source: string;
  export default source;
}
