// The Deno that `npm install` brought (the `deno` devDependency: its binary is in the
// platform package, e.g. @deno/linux-x64-glibc). Nothing is downloaded at run time.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** The deno executable's path, or null when this platform's package is not installed. */
export function denoBinary() {
  const exe = process.platform === 'win32' ? 'deno.exe' : 'deno';
  const platforms = {
    'linux-x64': '@deno/linux-x64-glibc',
    'linux-arm64': '@deno/linux-arm64-glibc',
    'darwin-x64': '@deno/darwin-x64',
    'darwin-arm64': '@deno/darwin-arm64',
    'win32-x64': '@deno/win32-x64',
    'win32-arm64': '@deno/win32-arm64',
  };
  const name = platforms[`${process.platform}-${process.arch}`];
  if (name === undefined) return null;
  try {
    const path = join(dirname(require.resolve(`${name}/package.json`)), exe);
    return existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

/** Deno fetches nothing: what it runs comes from this checkout and node_modules (a missing module fails instead). */
export const CACHED_ONLY = '--cached-only';
