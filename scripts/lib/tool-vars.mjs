// The variables an operator tool sees: .dev.vars (when present; never created here),
// overridden by the process environment.
import { existsSync, readFileSync } from 'node:fs';
import { parseDevVars } from './dev-vars.mjs';

export function localVars({ devVars = true } = {}) {
  const fromFile = devVars && existsSync('.dev.vars') ? parseDevVars(readFileSync('.dev.vars', 'utf8')) : {};
  const fromEnv = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined && v !== ''));
  return { ...fromFile, ...fromEnv };
}
