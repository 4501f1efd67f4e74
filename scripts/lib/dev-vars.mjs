// Reading and creating .dev.vars (wrangler's local secrets file, dotenv syntax).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export function parseDevVars(text) {
  const vars = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (match === null) continue;
    let value = match[2];
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) {
      value = value.slice(1, -1);
    } else {
      value = value.replace(/\s+#.*$/, '');
    }
    vars[match[1]] = value;
  }
  return vars;
}

/** Reads .dev.vars, creating it from .dev.vars.example with a fresh SESSION_SECRET when missing. */
export function ensureDevVars(path = '.dev.vars', examplePath = '.dev.vars.example') {
  let created = false;
  if (!existsSync(path)) {
    const example = existsSync(examplePath) ? readFileSync(examplePath, 'utf8') : 'SESSION_SECRET=\n';
    const secret = randomBytes(32).toString('base64');
    writeFileSync(path, example.replace(/^SESSION_SECRET=.*$/m, `SESSION_SECRET=${secret}`), { mode: 0o600 });
    created = true;
  }
  return { vars: parseDevVars(readFileSync(path, 'utf8')), created };
}
