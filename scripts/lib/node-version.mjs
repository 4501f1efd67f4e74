// The tooling (wrangler, miniflare, vitest) needs Node ≥ 22. `npm run …` puts the Node
// that the `node` devDependency installs first on PATH; running a script with an older
// system Node directly gets a clear message instead of a cryptic failure.
export function requireModernNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) {
    console.error(
      `This needs Node ≥ 22 (this is ${process.version}). Run it through npm (npm run dev, npm test, npm run sim), ` +
        'which uses the Node that `npm install` put in node_modules.',
    );
    process.exit(1);
  }
}
